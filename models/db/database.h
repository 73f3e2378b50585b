#pragma once

#include "core/result.h"
#include "db/databaseconfig.h"
#include "db/djangotables.h"
#include "db/statement.h"
#include "db/tablecounts.h"

#include <QList>
#include <QSqlDatabase>
#include <QStringList>

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>

struct sqlite3;

// One open connection to a Django database, checked to hold the app's tables. A connection belongs
// to the thread that opened it (Qt SQL's rule): a worker opens its own with open() and drops it when
// done. Each open() gets a unique connection name, so any number may live side by side.
class Database {
public:
    using Counts = TableCounts;

    // Opens and checks the schema. A missing SQLite file is an error, never created.
    static Result<std::unique_ptr<Database>> open(const DatabaseConfig &config);
    ~Database();
    Database(const Database &) = delete;
    Database &operator=(const Database &) = delete;

    const DatabaseConfig &config() const { return m_config; }
    const DjangoTables &tables() const { return m_tables; }
    QSqlDatabase connection() const { return m_db; }
    bool isSqlite() const { return m_config.isSqlite(); }
    // The engine's own handle for SQLite (null for other engines).
    sqlite3 *sqliteHandle() const { return m_sqlite; }

    // SQLite: whether the path still names the file this connection opened. A deleted or replaced
    // file stays readable through the open connection (its old inode), so reads alone never tell;
    // an Unavailable error then, for the caller to drop the connection and open the path again.
    // Always success for PostgreSQL (a lost server fails the next query).
    Status stillThere() const;

    // On the engine's own API (sqlite3, libpq) unless setEngineStatements(false).
    Result<std::unique_ptr<Statement>> prepare(const QString &sql);
    // Statements prepared from now on go through QSqlQuery (false) or the engine's API (true, the
    // default): for the bench and the tests that hold the two side by side.
    void setEngineStatements(bool on) { m_engineStatements = on; }
    // A statement prepared once per connection and kept by it, reset and ready to bind: for the
    // small queries asked once per entry (change-tracking position). The caller resets it when done
    // with its rows; valid while this Database lives.
    Result<Statement *> prepareCached(const QString &sql);
    // prepare() and exec() of a query without parameters.
    Result<std::unique_ptr<Statement>> run(const QString &sql);

    // All tables of the database (in the connection's search path for PostgreSQL).
    Result<QStringList> tableNames();
    // Labels of the Django apps that have a <label>_foo table, sorted.
    Result<QStringList> appLabels();
    Result<QList<qint64>> fooIds();
    Result<Counts> counts();

    // How long SQLite waits for another connection's lock before it says "database is locked".
    static constexpr std::chrono::milliseconds lockTimeout { 5000 };
    // The pause before the next try, once a lock has been waited for `waited` (0: give up). Short
    // at first: a commit or a read of one Foo takes milliseconds, and SQLite's own handler slept up
    // to 100 ms between tries.
    static std::chrono::microseconds lockRetryDelay(std::chrono::microseconds waited);
    // SQLite: work to do instead of sleeping while this connection waits to read a file another
    // connection is committing to (a rollback-journal commit keeps every reader out). Called at
    // each try; true when it did some, and the lock is tried again at once. Not while this
    // connection writes: a COMMIT waiting for readers holds PENDING, which keeps new readers out
    // for as long as it waits. Empty: none (the default).
    void setLockWaitWork(std::function<bool()> work);
    // Whether another connection's commit keeps this one from reading: a SQLite file with a
    // rollback journal (Django's default). Not WAL, not PostgreSQL. Asked once per connection.
    bool commitsKeepReadersOut();

    // See ReadSnapshot; nested calls share the outermost transaction.
    void beginSnapshot();
    void endSnapshot();

    // SQLite: the rows the last INSERT, UPDATE or DELETE to complete on this connection changed
    // itself (not its triggers). -1 for PostgreSQL.
    qint64 lastChanges() const;

    // Where a SQLite rollback-journal file (Django's default) stands, as the read transaction open
    // on this connection sees it: the change counter in the file's header, which SQLite raises by
    // one with every commit that changes the file, and how many cache-only commits this process
    // had noted by then (see CommitLedger). The read lock is taken first, so no commit comes
    // between this answer and the transaction's other reads.
    struct ChangeMark {
        quint32 counter = 0;
        std::array<quint32, 3> header {}; // the header's next words: size, freelist (see headerMark)
        quint64 notes = 0;
        // Device, inode and the generation of the connections holding it (see OpenFiles in
        // database.cpp): marks of two files never compare, nor of one inode number given to a
        // new file after every connection to the old one closed.
        std::array<quint64, 3> file {};
        bool operator==(const ChangeMark &other) const
        {
            return counter == other.counter && header == other.header && notes == other.notes && file == other.file;
        }
    };
    // nullopt when it cannot be told: PostgreSQL, a WAL file (its header does not count commits),
    // no transaction open, or a write transaction.
    std::optional<ChangeMark> snapshotChangeMark();
    // Whether every commit from one mark to a later one wrote only the cache, as this process's
    // WriteTransaction::markCacheOnly() noted. False for PostgreSQL, and for marks of another file
    // (taken on another connection, before the file at the path was replaced).
    bool onlyCacheCommitsBetween(const ChangeMark &earlier, const ChangeMark &later) const;

private:
    friend class WriteTransaction; // notes its commits in the ledger
    Database(DatabaseConfig config, QSqlDatabase db);
    // The header's change counter and the words after it (notes left 0), read through SQLite's
    // own file handle; the caller holds a lock. nullopt for a WAL file or an unknown file.
    std::optional<ChangeMark> headerMark() const;
    Status connect();
    Status checkSchema();
    static int waitForLock(void *self, int attempt);

    DatabaseConfig m_config;
    DjangoTables m_tables;
    QSqlDatabase m_db;
    QString m_connectionName;
    sqlite3 *m_sqlite = nullptr;
    quint64 m_fileDevice = 0; // of the SQLite file when it was opened
    quint64 m_fileInode = 0;
    bool m_fileKnown = false; // the path named the same file before and after the open
    quint64 m_fileGeneration = 0; // of the connections open to it without a pause (when known)
    std::unordered_map<QString, std::unique_ptr<Statement>> m_cached;
    std::chrono::steady_clock::time_point m_lockWaitStart {};
    std::function<bool()> m_lockWaitWork;
    std::optional<bool> m_commitsKeepReadersOut;
    int m_snapshotDepth = 0;
    bool m_snapshotOpen = false;
    bool m_engineStatements = true;
};

// Keeps the queries of one serialization in one consistent snapshot of the database (a read
// transaction; REPEATABLE READ on PostgreSQL), so a Foo is never written half before and half after
// a concurrent change. Nests: only the outermost one begins and ends the transaction.
class ReadSnapshot {
public:
    explicit ReadSnapshot(Database &database)
        : m_database(database)
    {
        m_database.beginSnapshot();
    }
    ~ReadSnapshot() { m_database.endSnapshot(); }
    ReadSnapshot(const ReadSnapshot &) = delete;
    ReadSnapshot &operator=(const ReadSnapshot &) = delete;

private:
    Database &m_database;
};
