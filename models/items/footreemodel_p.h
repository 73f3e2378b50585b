#pragma once
// FooTreeModel's insides: the model's members (footreemodel.cpp) work through them; their own members
// (how the rows load, what they show) are in footreemodel_p.cpp. Only touched on the GUI thread.

#include "footreeloader.h"
#include "footreemodel.h"
#include "foorowstate.h"

#include <QHash>
#include <QPointer>

#include <algorithm>
#include <memory>
#include <vector>

// One row of the tree. Children are owned; each node knows its row, so parent() needs no search.
// Only touched on the GUI thread.
struct FooTreeNode {
    using Kind = FooTreeModel::Kind;

    Kind kind = Kind::Foo;
    qint64 id = 0;
    QString name;
    qint64 childCount = -1; // from the database's count; -1 for a Baz (and the root)
    FooTreeNode *parent = nullptr;
    int row = 0;
    std::vector<std::unique_ptr<FooTreeNode>> children;
    bool loaded = false;  // every child is here
    bool loading = false; // a batch is on its way
    bool failed = false;  // the last batch failed: no more fetching until reload()
};


struct FooTreeModel::Private {
    using Node = FooTreeNode;
    using Kind = FooTreeModel::Kind;

    explicit Private(FooTreeModel *model)
        : q(model)
    {
    }

    FooTreeModel *q;
    FooTreeLoader loader; // its jobs() are invalidated by every reset: older batches are dropped
    Node root;
    bool hasDatabase = false;
    QString filter;
    int pending = 0;        // batches of the current generation on their way
    bool reportedLoading = false; // what loadingChanged said last
    int batchSize = 200;
    bool autoFetchChildren = true;
    QHash<qint64, EntryStatus> statuses; // by Foo pk, as last read; kept across reloads, not connections
    QHash<EntryState, int> stateCounts;  // statuses' own states (EntryStatus::state), counted
    bool statesRead = false;             // statuses holds a whole read (before it: no state shown)
    // The loaded Foo rows' pks, in row order: ascending (the loader orders by id, batch after batch),
    // so a Foo is found by a binary search. A hash of 100,000 pks cost the GUI thread 8-30 ms per
    // batch of 25,000 Foos, most of a batch's delivery, in node allocations and rehashes.
    std::vector<qint64> fooIds;
    bool fooIdsAscending = true; // else (never seen) searched in order
    const Node *fooNode(qint64 pk) const
    {
        const auto found = fooIdsAscending ? std::lower_bound(fooIds.cbegin(), fooIds.cend(), pk)
                                           : std::find(fooIds.cbegin(), fooIds.cend(), pk);
        if (found == fooIds.cend() || *found != pk)
            return nullptr;
        return root.children[size_t(found - fooIds.cbegin())].get();
    }
    QHash<qint64, FooRowOutcome> outcomes; // by Foo pk; kept across reloads
    QString unreadable; // why the states cannot be read now (every Foo shows unknown); empty: they can
    bool signallingRows = false; // inside rowsChanged()/allRowsChanged(): see FooTreeModel::fooRowsSignalled()
    QPointer<CacheService> service;
    QList<QMetaObject::Connection> serviceConnections;

    static Node *nodeOf(const QModelIndex &index) { return static_cast<Node *>(index.internalPointer()); }
    Node *nodeOrRoot(const QModelIndex &index) { return index.isValid() ? nodeOf(index) : &root; }
    const Node *nodeOrRoot(const QModelIndex &index) const { return index.isValid() ? nodeOf(index) : &root; }
    QModelIndex indexOf(const Node *node, int column = 0) const
    {
        return node == &root ? QModelIndex() : q->createIndex(node->row, column, const_cast<Node *>(node));
    }
    const FooRowOutcome *outcomeFor(const Node &node) const
    {
        if (node.kind != Kind::Foo)
            return nullptr;
        const auto it = outcomes.constFind(node.id);
        return it == outcomes.constEnd() ? nullptr : &it.value();
    }
    const EntryStatus *statusOf(const Node &node) const
    {
        if (node.kind != Kind::Foo)
            return nullptr;
        const auto it = statuses.constFind(node.id);
        return it == statuses.constEnd() ? nullptr : &it.value();
    }

    // Whether the row shows a state: every Foo row once the states were read, those the read did
    // not list (created since) as unknown.
    bool hasState(const Node &node) const { return node.kind == Kind::Foo && statesRead; }

    // What the row shows, which is never fresher than what is known: unknown while the states cannot
    // be read, stale when a verification of this very entry found it differs from live.
    EntryState shownState(const Node &node) const;
    // The state shown for `status` with the last `outcome` of its Foo (nullptr: none).
    static EntryState shownStateOf(const EntryStatus &status, const FooRowOutcome *outcome, bool unreadable);
    QString shownReason(const Node &node) const;

    bool canFetch(const Node &node) const
    {
        if (!hasDatabase || node.loaded || node.loading || node.failed)
            return false;
        return &node == &root || (node.kind != Kind::Baz && node.childCount > 0);
    }
    void fetch(Node &node);
    void deliver(Node &node, const Result<ChildBatch> &result);
    void insertRows(Node &node, const QList<NodeRow> &rows);
    void setPending(int count);
    void reset();

    QVariant display(const Node &node, int column) const;
    QString stateText(const Node &node) const;
    QVariant toolTip(const Node &node, int column) const;
    void rowsChanged(QList<int> rows);
    template <typename EmitRuns>
    void signalRows(EmitRuns emitRuns); // emitRuns() inside one change, then fooRowsSignalled()
    void runChanged(int first, int last); // the dataChanged pair of one run of Foo rows
    void allRowsChanged(); // every Foo row's: rowsChanged() of all of them without listing them
    void setOutcome(qint64 pk, const FooRowOutcome *outcome);
    QVariant sortKey(const Node &node, int column) const;
    QString jsonPath(const Node &node) const;
    qint64 fooId(const Node &node) const;
};
