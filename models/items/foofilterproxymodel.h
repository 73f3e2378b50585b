#pragma once

#include "staleness/entrystatus.h"

#include <QSet>
#include <QSortFilterProxyModel>

class FooTreeModel;

// "Show only stale / missing / corrupt" and sorting by state, age or size over a FooTreeModel.
// Filters Foo rows only (their children are always accepted) by FooTreeModel::StateRole; sorts Foo
// rows by FooTreeModel::SortRole and keeps children in the source's (primary key) order, which is
// the order of the serializer's output. Fetching is forwarded to the source as usual.
class FooFilterProxyModel : public QSortFilterProxyModel {
    Q_OBJECT

public:
    explicit FooFilterProxyModel(QObject *parent = nullptr);
    void setSourceModel(QAbstractItemModel *model) override;

    // Empty: every Foo. Otherwise only Foos whose state is in the set (Foos whose states were not
    // read yet are hidden; once read, a Foo the read did not list is unknown).
    // `alsoDiffering`: Foos a verification found different from live pass too, whatever their state.
    void setStateFilter(const QSet<EntryState> &states, bool alsoDiffering = false);
    QSet<EntryState> stateFilter() const { return m_states; }
    // While held (a job runs), the Foos shown when the hold began stay, whatever their state
    // becomes: a refresh under the Stale filter does not pull rows from under the operator. Foos
    // that come to match join as usual. Released, the filter applies again.
    void setHeld(bool held);
    bool isHeld() const { return m_holding; }
    // FooTreeModel lists every level by primary key: by id, ascending, is the source's own order,
    // which the proxy then keeps (sortColumn() -1) instead of sorting each arriving batch in (a
    // batch of 25,000 Foos: about 400,000 comparisons on the GUI thread).
    void sort(int column, Qt::SortOrder order = Qt::AscendingOrder) override;

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;
    bool lessThan(const QModelIndex &left, const QModelIndex &right) const override;

private:
    void holdShownRows();

    QSet<EntryState> m_states;
    bool m_holding = false;
    QSet<qint64> m_held; // Foo pks
    bool m_alsoDiffering = false;
    const FooTreeModel *m_tree = nullptr; // the source, when it is one (lessThan without QVariants)
};
