#pragma once

#include "db/databaseconfig.h"
#include "staleness/entrystatus.h"

#include <QAbstractItemModel>

#include <memory>

struct StatusSnapshot;

class CacheService;
struct Verification;

// The Foo -> Bar -> Zab -> Baz tree of a Django database, lazy like Qt's fetchmore example: Foos
// load in batches, a node's children load when it is expanded (canFetchMore/fetchMore), every query
// runs on a worker thread with its own connection, and rows arrive on the GUI thread in batches
// (beginInsertRows/endInsertRows), so a Foo with thousands of Bars opens at once and the window
// never freezes. Foo rows carry their cache state from CacheService::status(); updateStates()
// refreshes them with targeted dataChanged, never a reset. They also carry the outcome of the last
// verification or failed job on that Foo, landing row by row as the service reports them.
//
// DisplayRole is safe for any view: names show their control characters, line separators and
// bidirectional controls escaped (visibleText()) and are elided beyond maxNameLength; ToolTipRole
// holds the whole (escaped) name and RawNameRole the name as stored.
class FooTreeModel : public QAbstractItemModel {
    Q_OBJECT

public:
    enum Column { NameColumn, IdColumn, ChildrenColumn, StateColumn, AgeColumn, SizeColumn, ColumnCount };
    enum Role {
        KindRole = Qt::UserRole + 1, // Kind
        IdRole,                      // qint64 primary key of the node
        FooIdRole,                   // qint64 primary key of the Foo the node belongs to
        JsonPathRole,                // QString: where the node is in its Foo's body, "bar_set[3].zab_set[0]"
        StateRole,                   // int(EntryState), Foo rows only
        ReasonRole,                  // QString, Foo rows only
        SortRole,                    // a number (the name for NameColumn) to sort any column by
        RawNameRole,                 // QString: the name as stored, control characters and all
        VerdictRole,                 // int(Verdict), Foo rows only: the last job's outcome
        VerdictTextRole,             // QString, Foo rows only: that outcome in words
    };
    enum class Kind { Foo, Bar, Zab, Baz };
    Q_ENUM(Kind)
    // What the last verification (or failed refresh/verify/invalidate) of a Foo found. Cleared when
    // a later refresh or invalidation of it succeeds, or when its entry is no longer the one verified.
    enum class Verdict { None, Identical, KeyOrderOnly, Differs, Failed };
    Q_ENUM(Verdict)
    // Names longer than this (after escaping, in UTF-16 units) are elided in DisplayRole.
    static constexpr int maxNameLength = 120;

    explicit FooTreeModel(QObject *parent = nullptr);
    ~FooTreeModel() override;

    // Drops everything and starts loading Foos of `database` (filtered, see setFilter).
    void setDatabase(const DatabaseConfig &database);
    // Server-side filter, reloading the Foo level. Plain text: the Foo's name contains it (case-
    // insensitive), or its id equals it when it is a number. With a level, the Foos that hold a
    // matching node: "bar:970", "zab:17", "baz:17" (by id) or "baz:red" (name contains); "id:5" and
    // "foo:x" for the Foo itself. See parseTreeSearch().
    void setFilter(const QString &text);
    // Entry states, usually from CacheService::status() through StatusLoader; applied to the loaded
    // Foo rows. Clears setStatesUnreadable(). A snapshot whose base is the states this model holds
    // brings its changes with it; any other is compared here.
    void updateStates(const StatusSnapshot &snapshot);
    void updateStates(const QList<EntryStatus> &statuses);
    // The states cannot be read now (the store or the database is down, the file is gone): every
    // Foo row shows unknown with `reason`, keeping the last state read in its tooltip, until the
    // next updateStates(). An empty reason clears it.
    void setStatesUnreadable(const QString &reason);
    bool statesReadable() const;
    // Every Foo the states speak of (not only the loaded rows), counted by the state its row shows
    // (see StateRole). `foreignOrDiffering`: how many are foreign or were found different from live
    // by a verification (what the console's "Foreign / differs" filter shows).
    QHash<EntryState, int> stateCounts(int *foreignOrDiffering = nullptr) const;
    // Follows the job results of `service` (nullptr: none): entryVerified -> setVerification,
    // entryFailed -> setFailure, entryRefreshed -> clearOutcome. The service may be destroyed first.
    void setService(CacheService *service);
    void setVerification(qint64 pk, const Verification &verification);
    void setFailure(qint64 pk, const QString &message);
    void clearOutcome(qint64 pk);
    // Reloads, keeping which nodes were expanded/selected to the caller (it saves and restores by
    // Kind + IdRole).
    void reload();
    bool isLoading() const;

    // Rows in a node's first query (default 200). Its later batches grow: each asks for as many rows
    // as the node has already, up to maxBatchSize. QTreeView lays out every top-level row after each
    // batch and asks for the next as it does so: 100,000 Foos in fixed batches of 200 were 500 such
    // layouts, 5 s. Takes effect with the next batch.
    static constexpr int maxBatchSize = 25000;
    void setBatchSize(int rows);
    int batchSize() const;
    // The order of two rows' SortRole values in `column`, as QVariant::compare would give it, without
    // building QVariants for the name, id and children columns. A sorting proxy asks it about
    // k·log n times when k rows arrive among n (wide: 25,000 among 75,000, once 119 ms).
    QPartialOrdering compareSortKeys(const QModelIndex &left, const QModelIndex &right, int column) const;
    // On (the default), a node's later batches of children follow its first one by themselves, since
    // QTreeView asks fetchMore() of a child node only once, when it is expanded (it keeps asking for
    // more only at the top level, when scrolled to the end). Off: every batch waits for fetchMore().
    void setAutoFetchChildren(bool on);
    // The row of a loaded Foo, or an invalid index.
    QModelIndex fooIndex(qint64 pk, int column = NameColumn) const;
    // For a proxy that keeps this model's internal pointers (FooFilterProxyModel): the index of the
    // row whose internalPointer() is `node`, and the source row of the Foo a row belongs to (its own
    // for a Foo). Neither searches: every row knows its parent and its row.
    QModelIndex indexOfRow(const void *node, int column) const;
    static int fooRowOf(const QModelIndex &index);
    static bool isFooRow(const QModelIndex &index);
    // True while the dataChanged signals of one change to many Foo rows go out; fooRowsSignalled()
    // follows the last of them.
    bool isSignallingRows() const;

    QModelIndex index(int row, int column, const QModelIndex &parent = {}) const override;
    QModelIndex parent(const QModelIndex &child) const override;
    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    Qt::ItemFlags flags(const QModelIndex &index) const override;
    bool hasChildren(const QModelIndex &parent = {}) const override;
    bool canFetchMore(const QModelIndex &parent) const override;
    void fetchMore(const QModelIndex &parent) override;

signals:
    void loadingChanged(bool loading);
    void loadFailed(const QString &message);
    // A change to many Foo rows (new states, a verdict) is signalled as one dataChanged pair per
    // run of adjacent changed rows, then this. While those signals go out, the rows of the later
    // runs already hold their new values: a proxy that sorts or filters by them waits for this to
    // re-place all of them at once, or it would place a row against neighbours still in their old
    // places.
    void fooRowsSignalled();

private:
    struct Private;
    std::unique_ptr<Private> d;
};
