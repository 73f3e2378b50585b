#include "foofilterproxymodel.h"

#include "footreemodel.h"

#include <algorithm>
#include <iterator>
#include <numeric>
#include <utility>

namespace {

// Consecutive runs [first, last] of sorted, distinct values.
template <typename Visit>
void forEachRun(const std::vector<int> &sorted, Visit visit)
{
    for (size_t i = 0; i < sorted.size();) {
        size_t j = i;
        while (j + 1 < sorted.size() && sorted[j + 1] == sorted[j] + 1)
            ++j;
        visit(sorted[i], sorted[j]);
        i = j + 1;
    }
}

} // namespace

FooFilterProxyModel::FooFilterProxyModel(QObject *parent)
    : QAbstractProxyModel(parent)
{
}

void FooFilterProxyModel::setSourceModel(QAbstractItemModel *model)
{
    beginResetModel();
    for (const auto &connection : std::as_const(m_connections))
        disconnect(connection);
    m_connections.clear();
    m_pending.clear();
    m_placedWhilePending = false;
    m_tree = qobject_cast<const FooTreeModel *>(model);
    Q_ASSERT(m_tree || !model);
    QAbstractProxyModel::setSourceModel(const_cast<FooTreeModel *>(m_tree));
    if (m_tree) {
        m_connections << connect(m_tree, &QAbstractItemModel::rowsAboutToBeInserted, this, &FooFilterProxyModel::sourceRowsAboutToBeInserted)
                      << connect(m_tree, &QAbstractItemModel::rowsInserted, this, &FooFilterProxyModel::sourceRowsInserted)
                      << connect(m_tree, &QAbstractItemModel::dataChanged, this, &FooFilterProxyModel::sourceDataChanged)
                      << connect(m_tree, &FooTreeModel::fooRowsSignalled, this, &FooFilterProxyModel::sourceRowsSignalled)
                      << connect(m_tree, &QAbstractItemModel::headerDataChanged, this, &QAbstractItemModel::headerDataChanged)
                      << connect(m_tree, &QAbstractItemModel::modelAboutToBeReset, this, &FooFilterProxyModel::sourceResetting)
                      << connect(m_tree, &QAbstractItemModel::modelReset, this, &FooFilterProxyModel::sourceReset)
                      // Without signals, as QSortFilterProxyModel does: the source usually goes with
                      // its window, whose slots must not run on a half-destroyed object.
                      << connect(m_tree, &QObject::destroyed, this, [this] {
                             m_tree = nullptr;
                             m_rows.clear();
                             m_pending.clear();
                             m_proxyRowsStale = true;
                         });
        // FooTreeModel only appends rows, changes data and resets. Anything else it might come to
        // send is followed by a reset of the proxy: right, if not cheap.
        const auto resetting = [this] { sourceResetting(); };
        const auto reset = [this] { sourceReset(); };
        for (auto signal : { &QAbstractItemModel::rowsAboutToBeRemoved, &QAbstractItemModel::columnsAboutToBeRemoved,
                             &QAbstractItemModel::columnsAboutToBeInserted })
            m_connections << connect(m_tree, signal, this, resetting);
        for (auto signal : { &QAbstractItemModel::rowsRemoved, &QAbstractItemModel::columnsRemoved, &QAbstractItemModel::columnsInserted })
            m_connections << connect(m_tree, signal, this, reset);
        m_connections << connect(m_tree, &QAbstractItemModel::rowsAboutToBeMoved, this, resetting)
                      << connect(m_tree, &QAbstractItemModel::rowsMoved, this, reset)
                      << connect(m_tree, &QAbstractItemModel::columnsAboutToBeMoved, this, resetting)
                      << connect(m_tree, &QAbstractItemModel::columnsMoved, this, reset)
                      << connect(m_tree, &QAbstractItemModel::layoutAboutToBeChanged, this, resetting)
                      << connect(m_tree, &QAbstractItemModel::layoutChanged, this, reset);
    }
    rebuild();
    endResetModel();
}

void FooFilterProxyModel::setStateFilter(const QSet<EntryState> &states, bool alsoDiffering)
{
    if (states == m_states && alsoDiffering == m_alsoDiffering)
        return;
    m_states = states;
    m_alsoDiffering = alsoDiffering;
    m_held.clear(); // a filter chosen during a job: hold what it shows
    refilterAll();
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
    refilterAll();
}

void FooFilterProxyModel::holdShownRows()
{
    for (int row : m_rows)
        m_held.insert(m_tree->index(row, 0).data(FooTreeModel::IdRole).toLongLong());
}

void FooFilterProxyModel::sort(int column, Qt::SortOrder order)
{
    const bool sourceOrder = column < 0 || (column == FooTreeModel::IdColumn && order == Qt::AscendingOrder);
    m_sortColumn = sourceOrder ? -1 : column;
    m_sortOrder = order;
    resort();
}

bool FooFilterProxyModel::accepts(int sourceRow) const
{
    if (m_states.isEmpty())
        return true;
    const QModelIndex foo = m_tree->index(sourceRow, 0);
    if (!m_held.isEmpty() && m_held.contains(foo.data(FooTreeModel::IdRole).toLongLong()))
        return true;
    if (m_alsoDiffering && foo.data(FooTreeModel::VerdictRole).toInt() == int(FooTreeModel::Verdict::Differs))
        return true;
    const QVariant state = foo.data(FooTreeModel::StateRole);
    return state.isValid() && m_states.contains(EntryState(state.toInt()));
}

bool FooFilterProxyModel::lessThan(int leftRow, int rightRow) const
{
    if (m_sortColumn >= 0) {
        const QPartialOrdering order
            = m_tree->compareSortKeys(m_tree->index(leftRow, m_sortColumn), m_tree->index(rightRow, m_sortColumn), m_sortColumn);
        if (order == QPartialOrdering::Less)
            return m_sortOrder == Qt::AscendingOrder;
        if (order == QPartialOrdering::Greater)
            return m_sortOrder == Qt::DescendingOrder;
    }
    return leftRow < rightRow; // ties (and the source order) in the source's order, both ways
}

int FooFilterProxyModel::proxyRowOf(int sourceRow) const
{
    if (m_proxyRowsStale) {
        m_proxyRows.assign(m_tree ? size_t(m_tree->rowCount()) : 0, -1);
        for (size_t row = 0; row < m_rows.size(); ++row) {
            if (size_t(m_rows[row]) < m_proxyRows.size())
                m_proxyRows[size_t(m_rows[row])] = int(row);
        }
        m_proxyRowsStale = false;
    }
    return sourceRow >= 0 && size_t(sourceRow) < m_proxyRows.size() ? m_proxyRows[size_t(sourceRow)] : -1;
}

void FooFilterProxyModel::rebuild()
{
    m_rows.clear();
    m_proxyRowsStale = true;
    if (!m_tree)
        return;
    const int count = m_tree->rowCount();
    m_rows.reserve(size_t(count));
    for (int row = 0; row < count; ++row) {
        if (accepts(row))
            m_rows.push_back(row);
    }
    if (m_sortColumn >= 0)
        std::stable_sort(m_rows.begin(), m_rows.end(), [this](int a, int b) { return lessThan(a, b); });
}

void FooFilterProxyModel::hideRows(std::vector<int> sourceRows)
{
    std::vector<int> proxyRows;
    proxyRows.reserve(sourceRows.size());
    for (int row : sourceRows)
        proxyRows.push_back(proxyRowOf(row));
    std::sort(proxyRows.begin(), proxyRows.end());
    std::vector<std::pair<int, int>> runs;
    forEachRun(proxyRows, [&](int first, int last) { runs.emplace_back(first, last); });
    // Scattered (a filter took every other Foo away): each removal costs O(rows) here and in the
    // view, so the leaving rows move to the end by one layout change and go in one removal.
    if (runs.size() > scatteredRuns) {
        std::vector<int> rows;
        rows.reserve(m_rows.size());
        std::vector<bool> leaving(m_rows.size(), false);
        for (int row : proxyRows)
            leaving[size_t(row)] = true;
        for (size_t row = 0; row < m_rows.size(); ++row) {
            if (!leaving[row])
                rows.push_back(m_rows[row]);
        }
        const int kept = int(rows.size());
        for (int row : proxyRows)
            rows.push_back(m_rows[size_t(row)]);
        reorder(std::move(rows));
        runs.assign(1, { kept, int(m_rows.size()) - 1 });
    }
    // From the bottom up, so the rows of the runs still to go keep their numbers.
    for (auto run = runs.rbegin(); run != runs.rend(); ++run) {
        beginRemoveRows({}, run->first, run->second);
        m_rows.erase(m_rows.begin() + run->first, m_rows.begin() + run->second + 1);
        m_proxyRowsStale = true;
        endRemoveRows();
    }
}

void FooFilterProxyModel::showRows(std::vector<int> sourceRows)
{
    if (sourceRows.empty())
        return;
    // Placed by a search over rows whose keys may be changing under it (a filter set, or a batch
    // delivered, from a slot while the source signals a change): all of them are sorted again
    // when the change is whole.
    if (!m_pending.empty() || (m_tree && m_tree->isSignallingRows()))
        m_placedWhilePending = true;
    const auto less = [this](int a, int b) { return lessThan(a, b); };
    // Stable, as every sort here: the age order moves with the clock, and std::sort given an order
    // that changes under it may read past the end.
    std::stable_sort(sourceRows.begin(), sourceRows.end(), less);
    // Where each goes among the rows shown now; rows bound for one place go in together.
    std::vector<std::pair<int, std::pair<size_t, size_t>>> runs; // position, [begin, end) in sourceRows
    for (size_t i = 0; i < sourceRows.size();) {
        const int position = int(std::upper_bound(m_rows.begin(), m_rows.end(), sourceRows[i], less) - m_rows.begin());
        size_t j = i + 1;
        while (j < sourceRows.size() && (position == int(m_rows.size()) || less(sourceRows[j], m_rows[size_t(position)])))
            ++j;
        runs.emplace_back(position, std::make_pair(i, j));
        i = j;
    }
    // Scattered among many places (a filter let thousands back in): in at the end in one go, then
    // sorted into place by one layout change, rather than thousands of insertions.
    if (runs.size() > scatteredRuns) {
        const int first = int(m_rows.size());
        beginInsertRows({}, first, first + int(sourceRows.size()) - 1);
        m_rows.insert(m_rows.end(), sourceRows.begin(), sourceRows.end());
        m_proxyRowsStale = true;
        endInsertRows();
        resort();
        return;
    }
    // From the last place up, so the places still to fill keep their numbers.
    for (auto run = runs.rbegin(); run != runs.rend(); ++run) {
        const int position = run->first;
        const auto [from, to] = run->second;
        beginInsertRows({}, position, position + int(to - from) - 1);
        m_rows.insert(m_rows.begin() + position, sourceRows.begin() + std::ptrdiff_t(from), sourceRows.begin() + std::ptrdiff_t(to));
        m_proxyRowsStale = true;
        endInsertRows();
    }
}

std::pair<std::vector<int>, std::vector<int>> FooFilterProxyModel::filterChanges(const std::vector<int> &rows) const
{
    std::pair<std::vector<int>, std::vector<int>> changes; // leaving, joining
    for (int row : rows) {
        const bool shown = proxyRowOf(row) >= 0;
        if (shown != accepts(row))
            (shown ? changes.first : changes.second).push_back(row);
    }
    return changes;
}

void FooFilterProxyModel::refilterAll()
{
    if (!m_tree || m_resetting)
        return; // a reset under way applies the filter when it ends
    std::vector<int> rows(size_t(m_tree->rowCount()));
    std::iota(rows.begin(), rows.end(), 0);
    auto [leaving, joining] = filterChanges(rows);
    hideRows(std::move(leaving));
    showRows(std::move(joining));
}

bool FooFilterProxyModel::inOrder() const
{
    if (m_sortColumn < 0)
        return std::is_sorted(m_rows.begin(), m_rows.end());
    return std::is_sorted(m_rows.begin(), m_rows.end(), [this](int a, int b) { return lessThan(a, b); });
}

void FooFilterProxyModel::resort()
{
    if (m_resetting || inOrder())
        return; // a reset under way sorts when it ends
    std::vector<int> rows = m_rows;
    std::stable_sort(rows.begin(), rows.end(), [this](int a, int b) { return lessThan(a, b); });
    reorder(std::move(rows));
}

void FooFilterProxyModel::moveChanged(const std::vector<int> &rows)
{
    // Only the changed rows can be out of place: each is checked against its neighbours, O(changed),
    // and those out of place are merged back in. A state or a verdict arrives for one Foo at a time.
    // Every other row is where the order puts it: all changed rows are checked together, after
    // the leaving ones are gone and before the joining ones are placed.
    std::vector<bool> misplaced;
    std::vector<int> moving;
    for (int row : rows) {
        const int shown = proxyRowOf(row);
        if (shown < 0)
            continue;
        const bool afterPrevious = shown == 0 || lessThan(m_rows[size_t(shown) - 1], row);
        const bool beforeNext = size_t(shown) + 1 == m_rows.size() || lessThan(row, m_rows[size_t(shown) + 1]);
        if (afterPrevious && beforeNext)
            continue;
        if (misplaced.empty())
            misplaced.assign(m_rows.size(), false);
        misplaced[size_t(shown)] = true;
        moving.push_back(row);
    }
    if (moving.empty())
        return;
    const auto less = [this](int a, int b) { return lessThan(a, b); };
    std::vector<int> staying;
    staying.reserve(m_rows.size());
    for (size_t row = 0; row < m_rows.size(); ++row) {
        if (!misplaced[row])
            staying.push_back(m_rows[row]);
    }
    if (!std::is_sorted(staying.begin(), staying.end(), less)) { // an order that moves by itself (age)
        resort();
        return;
    }
    std::stable_sort(moving.begin(), moving.end(), less);
    std::vector<int> order;
    order.reserve(m_rows.size());
    std::merge(staying.begin(), staying.end(), moving.begin(), moving.end(), std::back_inserter(order), less);
    reorder(std::move(order));
}

void FooFilterProxyModel::reorder(std::vector<int> rows)
{
    emit layoutAboutToBeChanged({}, QAbstractItemModel::VerticalSortHint);
    const std::vector<int> before = std::exchange(m_rows, std::move(rows));
    m_proxyRowsStale = true;
    // Only the Foos' own indexes move: their children's are the source's.
    QModelIndexList from;
    QModelIndexList to;
    const QModelIndexList persistent = persistentIndexList();
    for (const QModelIndex &index : persistent) {
        if (!FooTreeModel::isFooRow(mapToSource(index)) || size_t(index.row()) >= before.size())
            continue;
        const int row = proxyRowOf(before[size_t(index.row())]);
        from << index;
        to << (row < 0 ? QModelIndex() : createIndex(row, index.column(), index.internalPointer()));
    }
    changePersistentIndexList(from, to);
    emit layoutChanged({}, QAbstractItemModel::VerticalSortHint);
}

QModelIndex FooFilterProxyModel::mapToSource(const QModelIndex &proxyIndex) const
{
    if (!proxyIndex.isValid() || !m_tree || proxyIndex.model() != this)
        return {};
    return m_tree->indexOfRow(proxyIndex.internalPointer(), proxyIndex.column());
}

QModelIndex FooFilterProxyModel::mapFromSource(const QModelIndex &sourceIndex) const
{
    if (!sourceIndex.isValid() || !m_tree || sourceIndex.model() != m_tree)
        return {};
    const int foo = proxyRowOf(FooTreeModel::fooRowOf(sourceIndex));
    if (foo < 0)
        return {}; // the row is, or is under, a Foo the filter hides
    const int row = FooTreeModel::isFooRow(sourceIndex) ? foo : sourceIndex.row();
    return createIndex(row, sourceIndex.column(), sourceIndex.internalPointer());
}

QModelIndex FooFilterProxyModel::index(int row, int column, const QModelIndex &parent) const
{
    if (!m_tree || row < 0 || column < 0 || column >= FooTreeModel::ColumnCount)
        return {};
    if (!parent.isValid()) {
        if (size_t(row) >= m_rows.size())
            return {};
        return createIndex(row, column, m_tree->index(m_rows[size_t(row)], column).internalPointer());
    }
    const QModelIndex child = m_tree->index(row, column, mapToSource(parent));
    return child.isValid() ? createIndex(row, column, child.internalPointer()) : QModelIndex();
}

QModelIndex FooFilterProxyModel::parent(const QModelIndex &child) const
{
    if (!child.isValid() || !m_tree)
        return {};
    return mapFromSource(m_tree->parent(mapToSource(child)));
}

QModelIndex FooFilterProxyModel::sibling(int row, int column, const QModelIndex &index) const
{
    if (index.isValid() && row == index.row() && column >= 0 && column < FooTreeModel::ColumnCount)
        return createIndex(row, column, index.internalPointer()); // one node per row, for every column
    return QAbstractProxyModel::sibling(row, column, index);
}

int FooFilterProxyModel::rowCount(const QModelIndex &parent) const
{
    if (!m_tree || parent.column() > 0)
        return 0;
    return parent.isValid() ? m_tree->rowCount(mapToSource(parent)) : int(m_rows.size());
}

int FooFilterProxyModel::columnCount(const QModelIndex &parent) const
{
    return m_tree ? m_tree->columnCount(mapToSource(parent)) : 0;
}

bool FooFilterProxyModel::hasChildren(const QModelIndex &parent) const
{
    if (!m_tree)
        return false;
    if (!parent.isValid())
        return !m_rows.empty() || m_tree->canFetchMore({});
    return m_tree->hasChildren(mapToSource(parent));
}

QVariant FooFilterProxyModel::data(const QModelIndex &index, int role) const
{
    return m_tree ? m_tree->data(mapToSource(index), role) : QVariant();
}

QVariant FooFilterProxyModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    // Columns are the source's; rows have no header.
    if (!m_tree || orientation != Qt::Horizontal)
        return QAbstractProxyModel::headerData(section, orientation, role);
    return m_tree->headerData(section, orientation, role);
}

Qt::ItemFlags FooFilterProxyModel::flags(const QModelIndex &index) const
{
    return m_tree ? m_tree->flags(mapToSource(index)) : Qt::NoItemFlags;
}

bool FooFilterProxyModel::canFetchMore(const QModelIndex &parent) const
{
    return m_tree && m_tree->canFetchMore(mapToSource(parent));
}

void FooFilterProxyModel::fetchMore(const QModelIndex &parent)
{
    if (m_tree)
        const_cast<FooTreeModel *>(m_tree)->fetchMore(mapToSource(parent));
}

void FooFilterProxyModel::sourceRowsAboutToBeInserted(const QModelIndex &parent, int first, int last)
{
    if (!parent.isValid() || m_resetting)
        return;
    const QModelIndex shown = mapFromSource(parent);
    if (!shown.isValid())
        return; // under a hidden Foo: nothing shown changes
    m_forwardingInsert = true;
    beginInsertRows(shown, first, last);
}

void FooFilterProxyModel::sourceRowsInserted(const QModelIndex &parent, int first, int last)
{
    if (m_resetting)
        return;
    if (parent.isValid()) {
        if (m_forwardingInsert) {
            m_forwardingInsert = false;
            endInsertRows();
        }
        return;
    }
    // Foos: the rows after them move down (FooTreeModel appends, so usually there are none).
    const int count = last - first + 1;
    if (first < m_tree->rowCount() - count) {
        for (int &row : m_rows)
            row += row >= first ? count : 0;
    }
    m_proxyRowsStale = true;
    std::vector<int> joining;
    for (int row = first; row <= last; ++row) {
        if (accepts(row))
            joining.push_back(row);
    }
    showRows(std::move(joining));
}

void FooFilterProxyModel::sourceDataChanged(const QModelIndex &topLeft, const QModelIndex &bottomRight, const QList<int> &roles)
{
    if (!topLeft.isValid() || m_resetting)
        return;
    if (topLeft.parent().isValid()) {
        const QModelIndex from = mapFromSource(topLeft);
        if (from.isValid())
            emit dataChanged(from, mapFromSource(bottomRight), roles);
        return;
    }
    FooChange change { topLeft.row(), bottomRight.row(), topLeft.column(), bottomRight.column(), roles };
    if (m_tree->isSignallingRows()) {
        m_pending.push_back(std::move(change)); // applied with the rest when the change is whole
        return;
    }
    applyFooChanges({ std::move(change) });
}

void FooFilterProxyModel::sourceRowsSignalled()
{
    applyFooChanges(std::exchange(m_pending, {}));
}

void FooFilterProxyModel::applyFooChanges(const std::vector<FooChange> &changes)
{
    if (changes.empty() || !m_tree || m_resetting)
        return;
    // What the filter lets through, and the order, may follow the change.
    // The changed rows, in order, each once: from the changes' ranges merged (a state read of every
    // Foo names each row twice, once per column range: 200,000 rows to sort took 20 ms).
    std::vector<std::pair<int, int>> ranges;
    ranges.reserve(changes.size());
    bool sortKeyChanged = false;
    for (const FooChange &change : changes) {
        ranges.emplace_back(change.first, change.last);
        sortKeyChanged = sortKeyChanged || (m_sortColumn >= change.firstColumn && m_sortColumn <= change.lastColumn);
    }
    std::sort(ranges.begin(), ranges.end());
    std::vector<int> rows;
    for (const auto &[first, last] : ranges) {
        for (int row = rows.empty() ? first : std::max(first, rows.back() + 1); row <= last; ++row)
            rows.push_back(row);
    }
    auto [leaving, joining] = filterChanges(rows);
    hideRows(std::move(leaving));
    if (sortKeyChanged)
        moveChanged(rows);
    showRows(std::move(joining));
    if (std::exchange(m_placedWhilePending, false))
        resort();
    for (const FooChange &change : changes) {
        int top = -1;
        int bottom = -1;
        for (int row = change.first; row <= change.last; ++row) {
            const int shown = proxyRowOf(row);
            if (shown < 0)
                continue;
            top = top < 0 ? shown : std::min(top, shown);
            bottom = std::max(bottom, shown);
        }
        if (top >= 0)
            emit dataChanged(index(top, change.firstColumn), index(bottom, change.lastColumn), change.roles);
    }
}

void FooFilterProxyModel::sourceResetting()
{
    if (m_resetting)
        return;
    m_resetting = true;
    m_pending.clear();
    m_placedWhilePending = false;
    beginResetModel();
    m_rows.clear(); // the source's rows are going: nothing may be mapped to them until rebuilt
    m_proxyRowsStale = true;
}

void FooFilterProxyModel::sourceReset()
{
    if (!m_resetting)
        return;
    rebuild();
    m_resetting = false;
    endResetModel();
}
