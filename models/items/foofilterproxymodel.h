#pragma once

#include "staleness/entrystatus.h"

#include <QAbstractProxyModel>
#include <QSet>

#include <utility>
#include <vector>

class FooTreeModel;

// "Show only stale / missing / corrupt" and sorting by state, age or size over a FooTreeModel.
// Filters Foo rows only (their children are always accepted) by FooTreeModel::StateRole; sorts Foo
// rows by FooTreeModel::SortRole and keeps children in the source's (primary key) order, which is
// the order of the serializer's output. Fetching is forwarded to the source as usual. States change
// with dataChanged; the filter and the order follow them.
//
// Written for FooTreeModel rather than on QSortFilterProxyModel: a view lays out every top-level row
// after each batch (wide: 100,000), asking index(), flags() and hasChildren() of each, and
// QSortFilterProxyModel answers each through a hash of mappings and QAbstractProxyModel's bindable
// sourceModel(): 4× the layout's time without a proxy. Here the only mapping is the top level's
// (a vector each way); every other row's index is the source's, with the same row and internal
// pointer, so a Foo's children keep their indexes when it moves.
class FooFilterProxyModel : public QAbstractProxyModel {
    Q_OBJECT

public:
    explicit FooFilterProxyModel(QObject *parent = nullptr);
    // Must be a FooTreeModel (or nullptr).
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
    // which the proxy keeps (sortColumn() -1). Ties keep the source's order in both directions.
    void sort(int column, Qt::SortOrder order = Qt::AscendingOrder) override;
    int sortColumn() const { return m_sortColumn; }
    Qt::SortOrder sortOrder() const { return m_sortOrder; }

    QModelIndex mapToSource(const QModelIndex &proxyIndex) const override;
    QModelIndex mapFromSource(const QModelIndex &sourceIndex) const override;
    QModelIndex index(int row, int column, const QModelIndex &parent = {}) const override;
    QModelIndex parent(const QModelIndex &child) const override;
    QModelIndex sibling(int row, int column, const QModelIndex &index) const override;
    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    bool hasChildren(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    Qt::ItemFlags flags(const QModelIndex &index) const override;
    bool canFetchMore(const QModelIndex &parent) const override;
    void fetchMore(const QModelIndex &parent) override;

private:
    bool accepts(int sourceRow) const;
    bool lessThan(int leftRow, int rightRow) const; // source rows, in the shown order
    int proxyRowOf(int sourceRow) const;            // -1: hidden
    void rebuild();                                 // inside a reset
    void hideRows(std::vector<int> sourceRows);     // shown ones, as removals
    void showRows(std::vector<int> sourceRows);     // hidden ones, as insertions
    // Source rows (sorted) the filter now hides though shown, and shows though hidden.
    std::pair<std::vector<int>, std::vector<int>> filterChanges(const std::vector<int> &rows) const;
    void refilterAll();
    bool inOrder() const;
    void resort();                                  // a layout change, if the order changes
    void reorder(std::vector<int> rows);            // the same rows in a new order, as a layout change
    void moveChanged(const std::vector<int> &rows); // source rows whose sort key changed
    static constexpr size_t scatteredRuns = 64;     // more runs than this: one layout change instead
    void holdShownRows();

    void sourceRowsAboutToBeInserted(const QModelIndex &parent, int first, int last);
    void sourceRowsInserted(const QModelIndex &parent, int first, int last);
    void sourceDataChanged(const QModelIndex &topLeft, const QModelIndex &bottomRight, const QList<int> &roles);
    // One dataChanged of Foo rows, kept while FooTreeModel signals a change to many (see
    // FooTreeModel::fooRowsSignalled()) and applied with the rest of them.
    struct FooChange {
        int first, last;             // source rows
        int firstColumn, lastColumn;
        QList<int> roles;
    };
    void applyFooChanges(const std::vector<FooChange> &changes);
    void sourceRowsSignalled();
    void sourceResetting();
    void sourceReset();

    const FooTreeModel *m_tree = nullptr;
    std::vector<int> m_rows;              // proxy row -> source row, Foos only
    mutable std::vector<int> m_proxyRows; // source row -> proxy row (-1 hidden), rebuilt when stale
    mutable bool m_proxyRowsStale = true;
    int m_sortColumn = -1;
    Qt::SortOrder m_sortOrder = Qt::AscendingOrder;
    QSet<EntryState> m_states;
    bool m_alsoDiffering = false;
    bool m_holding = false;
    QSet<qint64> m_held;                  // Foo pks
    bool m_forwardingInsert = false;      // a child insertion under a shown Foo is being forwarded
    bool m_resetting = false;             // inside a reset of our own (a source signal we do not map)
    std::vector<FooChange> m_pending;     // while the source signals a change to many Foos
    bool m_placedWhilePending = false;    // rows were placed meanwhile: resort() when it is whole
    QList<QMetaObject::Connection> m_connections;
};
