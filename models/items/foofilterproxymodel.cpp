#include "foofilterproxymodel.h"

#include "footreemodel.h"

FooFilterProxyModel::FooFilterProxyModel(QObject *parent)
    : QSortFilterProxyModel(parent)
{
    setSortRole(FooTreeModel::SortRole);
    // States change with dataChanged; filter and order follow them.
    setDynamicSortFilter(true);
}

void FooFilterProxyModel::setSourceModel(QAbstractItemModel *model)
{
    m_tree = qobject_cast<const FooTreeModel *>(model);
    QSortFilterProxyModel::setSourceModel(model);
}

void FooFilterProxyModel::setStateFilter(const QSet<EntryState> &states, bool alsoDiffering)
{
    if (states == m_states && alsoDiffering == m_alsoDiffering)
        return;
    m_states = states;
    m_alsoDiffering = alsoDiffering;
    m_held.clear(); // a filter chosen during a job: hold what it shows
    invalidateFilter();
    if (m_holding)
        holdShownRows();
}

void FooFilterProxyModel::setHeld(bool held)
{
    if (held == m_holding)
        return;
    m_holding = held;
    if (held) {
        holdShownRows();
        return;
    }
    m_held.clear();
    invalidateFilter();
}

void FooFilterProxyModel::holdShownRows()
{
    for (int row = 0; row < rowCount(); ++row)
        m_held.insert(index(row, 0).data(FooTreeModel::IdRole).toLongLong());
}

void FooFilterProxyModel::sort(int column, Qt::SortOrder order)
{
    const bool sourceOrder = m_tree && column == FooTreeModel::IdColumn && order == Qt::AscendingOrder;
    QSortFilterProxyModel::sort(sourceOrder ? -1 : column, order);
}

bool FooFilterProxyModel::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    if (sourceParent.isValid() || m_states.isEmpty())
        return true;
    const QModelIndex foo = sourceModel()->index(sourceRow, 0, sourceParent);
    if (!m_held.isEmpty() && m_held.contains(foo.data(FooTreeModel::IdRole).toLongLong()))
        return true;
    const QVariant state = foo.data(FooTreeModel::StateRole);
    if (m_alsoDiffering && foo.data(FooTreeModel::VerdictRole).toInt() == int(FooTreeModel::Verdict::Differs))
        return true;
    return state.isValid() && m_states.contains(EntryState(state.toInt()));
}

bool FooFilterProxyModel::lessThan(const QModelIndex &left, const QModelIndex &right) const
{
    // A descending sort asks lessThan(right, left); answering by the sort order keeps ties and
    // children in the source's (primary key, document) order both ways.
    const bool inSourceOrder = sortOrder() == Qt::AscendingOrder ? left.row() < right.row() : left.row() > right.row();
    if (left.parent().isValid())
        return inSourceOrder;
    const QPartialOrdering order = m_tree && sortRole() == FooTreeModel::SortRole ? m_tree->compareSortKeys(left, right, sortColumn())
                                        : QVariant::compare(left.data(sortRole()), right.data(sortRole()));
    if (order == QPartialOrdering::Equivalent || order == QPartialOrdering::Unordered)
        return inSourceOrder;
    return order == QPartialOrdering::Less;
}
