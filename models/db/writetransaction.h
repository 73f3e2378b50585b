#pragma once

#include "core/result.h"

#include <functional>

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

    // Begins, runs `work`, and commits when it succeeded (rolls back when it did not).
    static Status run(Database &database, const std::function<Status()> &work);

private:
    Status finish(const char *sqliteCommand, bool opening);

    Database &m_database;
    bool m_open = false;
};

// Refuses a write through a connection opened read-only (--read-only): "cannot <what>: <database>
// is opened read-only". Success when the connection may write.
Status refuseReadOnly(const Database &database, const QString &what);
