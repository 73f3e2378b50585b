#pragma once

#include "core/result.h"

#include <functional>
#include <optional>

class Database;

// One write transaction, rolled back unless commit() succeeded. SQLite takes the write lock up
// front (BEGIN IMMEDIATE), so two writers queue on the busy timeout instead of failing on the lock
// upgrade halfway through.
class WriteTransaction {
public:
    explicit WriteTransaction(Database &database);
    ~WriteTransaction();
    WriteTransaction(const WriteTransaction &) = delete;
    WriteTransaction &operator=(const WriteTransaction &) = delete;

    Status begin();
    Status commit();

    // Declares that this transaction wrote only the cache (the Foo's pre_serialized column and
    // Preserve's own tables) and that its statements changed `rows` rows themselves. On a SQLite
    // rollback-journal file its commit is then noted in the CommitLedger, for serializers to keep
    // Baz names across snapshots (Database::onlyCacheCommitsBetween) - unless the file counted more
    // changed rows than that: a trigger or a foreign-key action changed others, which may be
    // anything.
    void markCacheOnly(qint64 rows) { m_cacheOnlyRows = rows; }

    // Begins, runs `work`, and commits when it succeeded (rolls back when it did not).
    static Status run(Database &database, const std::function<Status()> &work);

private:
    Status finish(const char *sqliteCommand, bool opening);

    Database &m_database;
    bool m_open = false;
    std::optional<quint32> m_counterAtBegin; // SQLite rollback journal: the header's change counter
    qint64 m_changesAtBegin = 0;             // sqlite3_total_changes64() at begin()
    int m_pagesAtBegin = -1;                 // pages written to the file by then
    qint64 m_cacheOnlyRows = -1;
};

// Refuses a write through a connection opened read-only (--read-only): "cannot <what>: <database>
// is opened read-only". Success when the connection may write.
Status refuseReadOnly(const Database &database, const QString &what);
