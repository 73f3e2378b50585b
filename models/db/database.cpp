#include "database.h"

#include "db/bodycheck.h"
#include "db/commitledger.h"
#include "db/postgresstatement.h"
#include "db/statements.h"

#include <QFile>
#include <QFileInfo>
#include <QLoggingCategory>
#include <QObject>
#include <QSqlDriver>
#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>

#include <sys/stat.h>

#include <sqlite3.h>

#include <chrono>
#include <thread>

Q_LOGGING_CATEGORY(lcDatabase, "preserve.db")

namespace {

QString uniqueConnectionName()
{
    static std::atomic<quint64> counter { 0 };
    return QStringLiteral("preserve-%1").arg(++counter);
}

QString driverFor(const DatabaseConfig &config)
{
    return config.isSqlite() ? QStringLiteral("QSQLITE") : QStringLiteral("QPSQL");
}

// One readable line for a failed open: the database's own text (libpq's lines joined with "; ")
// without the driver's "QPSQL: Unable to connect", which says nothing more; the driver's text
// only when the database gave none.
QString openErrorText(const QSqlError &error)
{
    QStringList lines;
    for (const QString &line : error.databaseText().split(QLatin1Char('\n'))) {
        if (!line.trimmed().isEmpty())
            lines << line.trimmed();
    }
    if (lines.isEmpty())
        return error.driverText().isEmpty() ? error.text() : error.driverText();
    return lines.join(QStringLiteral("; "));
}

// The connections of this process open to each SQLite file, by device and inode, and their
// generation. An inode is held while a connection has the file open; once the last one closes,
// the file may be deleted and its inode number given to a new file (ext4 does). A mark taken on
// the old file would then look like one of the new file, whose counter may pass the old one's
// with this process's cache commits alone. Every run of connections that starts from none gets a
// new generation, and marks of two generations never compare.
class OpenFiles {
public:
    static OpenFiles &instance()
    {
        static OpenFiles files;
        return files;
    }
    quint64 opened(const CommitLedger::File &file)
    {
        std::lock_guard lock(m_mutex);
        Open &open = m_files[file];
        if (open.connections++ == 0)
            open.generation = ++m_generations;
        return open.generation;
    }
    void closed(const CommitLedger::File &file)
    {
        std::lock_guard lock(m_mutex);
        const auto open = m_files.find(file);
        if (open != m_files.end() && --open->second.connections == 0)
            m_files.erase(open);
    }

private:
    struct Open {
        int connections = 0;
        quint64 generation = 0;
    };
    std::mutex m_mutex;
    std::map<CommitLedger::File, Open> m_files;
    quint64 m_generations = 0;
};

} // namespace

Database::Database(DatabaseConfig config, QSqlDatabase db)
    : m_config(std::move(config))
    , m_tables(DjangoTables::forLabel(m_config.appLabel))
    , m_db(std::move(db))
    , m_connectionName(m_db.connectionName())
{
}

Database::~Database()
{
    m_cached.clear(); // statements go before their connection
    m_db.close();
    m_db = QSqlDatabase();
    QSqlDatabase::removeDatabase(m_connectionName);
    if (m_fileGeneration != 0)
        OpenFiles::instance().closed({ m_fileDevice, m_fileInode });
}

Result<std::unique_ptr<Database>> Database::open(const DatabaseConfig &config)
{
    if (const auto label = DatabaseConfig::checkAppLabel(config.appLabel); !label)
        return label.error();
    if (config.isSqlite()) {
        const QFileInfo file(config.sqlitePath);
        if (!file.exists())
            return Error::notFound(QObject::tr("no SQLite database at %1").arg(config.displayName()));
        if (!file.isFile())
            return Error::invalid(QObject::tr("%1 is not a file").arg(config.displayName()));
    }
    if (!QSqlDatabase::isDriverAvailable(driverFor(config)))
        return Error::database(QObject::tr("the Qt SQL driver %1 is not installed (Debian: %2)")
                                   .arg(driverFor(config),
                                        config.isSqlite() ? QStringLiteral("libqt6sql6-sqlite")
                                                          : QStringLiteral("libqt6sql6-psql")));
    std::unique_ptr<Database> database(
        new Database(config, QSqlDatabase::addDatabase(driverFor(config), uniqueConnectionName())));
    if (const auto connected = database->connect(); !connected)
        return connected.error();
    if (const auto schema = database->checkSchema(); !schema)
        return schema.error();
    return database;
}

Status Database::connect()
{
    if (m_config.isSqlite()) {
        m_db.setDatabaseName(m_config.sqlitePath);
        QStringList options { QStringLiteral("QSQLITE_BUSY_TIMEOUT=%1").arg(lockTimeout.count()) };
        if (m_config.readOnly)
            options << QStringLiteral("QSQLITE_OPEN_READONLY");
        m_db.setConnectOptions(options.join(QLatin1Char(';')));
    } else {
        m_db.setHostName(m_config.host);
        if (m_config.port > 0)
            m_db.setPort(m_config.port);
        m_db.setUserName(m_config.user);
        m_db.setPassword(m_config.password);
        m_db.setDatabaseName(m_config.databaseName);
        QStringList options { QStringLiteral("connect_timeout=5"), QStringLiteral("application_name=preserve") };
        if (m_config.readOnly)
            options << QStringLiteral("options='-c default_transaction_read_only=on'");
        if (!m_config.connectOptions.isEmpty())
            options << m_config.connectOptions;
        m_db.setConnectOptions(options.join(QLatin1Char(';')));
    }
    struct stat before {};
    const bool statBefore = m_config.isSqlite() && ::stat(QFile::encodeName(m_config.sqlitePath).constData(), &before) == 0;
    if (!m_db.open())
        return Error::database(QObject::tr("cannot open %1: %2").arg(m_config.displayName(), openErrorText(m_db.lastError())));

    if (m_config.isSqlite()) {
        const QVariant handle = m_db.driver()->handle();
        if (handle.isValid() && qstrcmp(handle.typeName(), "sqlite3*") == 0)
            m_sqlite = *static_cast<sqlite3 *const *>(handle.constData());
        if (!m_sqlite)
            return Error::database(QObject::tr("the SQLite driver did not hand out its connection"));
        struct stat file {};
        if (::stat(QFile::encodeName(m_config.sqlitePath).constData(), &file) == 0) {
            m_fileDevice = quint64(file.st_dev);
            m_fileInode = quint64(file.st_ino);
            // The same file before and after the open is the file SQLite opened; a path replaced
            // meanwhile (`seed --force`, a deploy's mv) leaves it unknown, and no commit is noted
            // or trusted under it (see CommitLedger).
            m_fileKnown = statBefore && before.st_dev == file.st_dev && before.st_ino == file.st_ino;
            if (m_fileKnown)
                m_fileGeneration = OpenFiles::instance().opened({ m_fileDevice, m_fileInode });
        }
        if (!registerBodyCheck(m_sqlite))
            return Error::database(QObject::tr("cannot add the body check function to %1: %2")
                                       .arg(m_config.displayName(), QString::fromUtf8(sqlite3_errmsg(m_sqlite))));
        if (m_config.readOnly)
            sqlite3_exec(m_sqlite, "PRAGMA query_only = 1", nullptr, nullptr, nullptr);
        sqlite3_busy_handler(m_sqlite, &waitForLock, this);
        // A file that is not a database opens fine and fails on the first read: fail here, clearly.
        char *message = nullptr;
        if (sqlite3_exec(m_sqlite, "SELECT count(*) FROM sqlite_master", nullptr, nullptr, &message) != SQLITE_OK) {
            const QString text = QString::fromUtf8(message ? message : "unknown error");
            sqlite3_free(message);
            return Error::database(QObject::tr("cannot read %1: %2").arg(m_config.displayName(), text));
        }
    } else if (m_config.readOnly) {
        QSqlQuery query(m_db);
        if (!query.exec(QStringLiteral("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")))
            return Error::database(QObject::tr("cannot make the session read-only: %1").arg(query.lastError().text()));
    }
    return success();
}

std::chrono::microseconds Database::lockRetryDelay(std::chrono::microseconds waited)
{
    using namespace std::chrono_literals;
    if (waited >= lockTimeout)
        return 0us;
    return waited < 10ms ? 100us : 1000us;
}

// SQLite's own busy handler sleeps 1, 2, 5, 10 … 100 ms between tries. In a rollback-journal file
// (Django's default) a commit waits for every reader to finish and readers wait for the commit, so
// worker threads that read and write in turn lost a good part of each handover to those sleeps
// (warm of large: 66 sleeps of 2.4 ms on average on one run of medium).
int Database::waitForLock(void *self, int attempt)
{
    auto *database = static_cast<Database *>(self);
    const auto now = std::chrono::steady_clock::now();
    if (attempt == 0)
        database->m_lockWaitStart = now;
    const auto delay = lockRetryDelay(std::chrono::duration_cast<std::chrono::microseconds>(now - database->m_lockWaitStart));
    if (delay.count() == 0)
        return 0;
    if (database->m_lockWaitWork && sqlite3_txn_state(database->m_sqlite, nullptr) != SQLITE_TXN_WRITE
        && database->m_lockWaitWork())
        return 1;
    std::this_thread::sleep_for(delay);
    return 1;
}

void Database::setLockWaitWork(std::function<bool()> work)
{
    m_lockWaitWork = std::move(work);
}

bool Database::commitsKeepReadersOut()
{
    if (!m_sqlite)
        return false;
    if (!m_commitsKeepReadersOut) {
        auto mode = run(QStringLiteral("PRAGMA journal_mode"));
        bool wal = true; // unknown: as if no reader waited
        if (mode && (*mode)->next())
            wal = (*mode)->text(0).toByteArray().compare("wal", Qt::CaseInsensitive) == 0;
        m_commitsKeepReadersOut = !wal;
    }
    return *m_commitsKeepReadersOut;
}

Status Database::stillThere() const
{
    if (!m_sqlite || m_fileInode == 0)
        return success();
    struct stat file {};
    if (::stat(QFile::encodeName(m_config.sqlitePath).constData(), &file) != 0)
        return Error::unavailable(QObject::tr("the database file %1 is gone: %2")
                                      .arg(m_config.displayName(), QString::fromLocal8Bit(strerror(errno))));
    if (quint64(file.st_dev) != m_fileDevice || quint64(file.st_ino) != m_fileInode)
        return Error::unavailable(QObject::tr("the database file %1 was replaced").arg(m_config.displayName()));
    return success();
}

Result<std::unique_ptr<Statement>> Database::prepare(const QString &sql)
{
    if (!m_engineStatements)
        return prepareQtStatement(m_db, sql);
    if (m_sqlite)
        return prepareSqliteStatement(m_sqlite, sql);
    // libpq reads whatever arrives while it waits for a result, NOTIFYs too, and the driver's socket
    // notifier would not hear of those: a connection that LISTENs stays with QSqlQuery.
    if (m_db.driver()->subscribedToNotifications().isEmpty())
        return PostgresStatement::prepare(m_db.driver(), sql);
    return prepareQtStatement(m_db, sql);
}

Result<Statement *> Database::prepareCached(const QString &sql)
{
    if (auto found = m_cached.find(sql); found != m_cached.end()) {
        found->second->reset();
        return found->second.get();
    }
    auto prepared = prepare(sql);
    if (!prepared)
        return prepared.error();
    Statement *statement = prepared->get();
    m_cached.emplace(sql, std::move(*prepared));
    return statement;
}

Result<std::unique_ptr<Statement>> Database::run(const QString &sql)
{
    auto statement = prepare(sql);
    if (statement) {
        if (auto started = (*statement)->exec(); !started)
            return started.error();
    }
    return statement;
}

Result<QStringList> Database::tableNames()
{
    const QString sql = isSqlite()
        ? QStringLiteral("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name")
        : QStringLiteral("SELECT table_name FROM information_schema.tables "
                         "WHERE table_schema = ANY (current_schemas(false)) ORDER BY table_name");
    auto statement = run(sql);
    if (!statement)
        return statement.error();
    QStringList names;
    while ((*statement)->next())
        names << QString::fromUtf8((*statement)->text(0));
    if (auto done = (*statement)->status(); !done)
        return done.error();
    return names;
}

Result<QStringList> Database::appLabels()
{
    auto names = tableNames();
    if (!names)
        return names.error();
    QStringList labels;
    for (const QString &name : *names) {
        if (name.endsWith(QLatin1String("_foo")) && name.size() > 4)
            labels << name.chopped(4);
    }
    labels.sort();
    return labels;
}

Status Database::checkSchema()
{
    auto names = tableNames();
    if (!names)
        return names.error();
    QStringList missing;
    for (const QString &table : m_tables.all()) {
        if (!names->contains(table))
            missing << table;
    }
    if (!missing.isEmpty()) {
        auto labels = appLabels();
        const QString found = labels && !labels->isEmpty()
            ? QObject::tr("app labels with a _foo table here: %1 (choose one with --app-label)")
                  .arg(labels->join(QStringLiteral(", ")))
            : QObject::tr("no table ends in _foo, so no app label fits");
        return Error::notFound(QObject::tr("%1 lacks the tables %2 of app label \"%3\"; %4")
                                   .arg(m_config.displayName(), missing.join(QStringLiteral(", ")),
                                        m_config.appLabel, found));
    }
    // The columns the serializer reads, checked once so that a wrong table says so up front.
    const auto q = &DjangoTables::quote;
    const QStringList probes {
        QStringLiteral("SELECT id, name, pre_serialized FROM %1 WHERE 1 = 0").arg(q(m_tables.foo)),
        QStringLiteral("SELECT id, foo_id, name FROM %1 WHERE 1 = 0").arg(q(m_tables.bar)),
        QStringLiteral("SELECT id, bar_id, name FROM %1 WHERE 1 = 0").arg(q(m_tables.zab)),
        QStringLiteral("SELECT id, name FROM %1 WHERE 1 = 0").arg(q(m_tables.baz)),
        QStringLiteral("SELECT id, zab_id, baz_id FROM %1 WHERE 1 = 0").arg(q(m_tables.zabBazs)),
    };
    for (const QString &probe : probes) {
        auto statement = run(probe);
        if (!statement)
            return Error::database(QObject::tr("the tables of app label \"%1\" do not have Django's columns "
                                               "for Foo/Bar/Zab/Baz: %2")
                                       .arg(m_config.appLabel, statement.error().message));
    }
    return success();
}

Result<QList<qint64>> Database::fooIds()
{
    auto statement = run(QStringLiteral("SELECT id FROM %1 ORDER BY id").arg(DjangoTables::quote(m_tables.foo)));
    if (!statement)
        return statement.error();
    QList<qint64> ids;
    while ((*statement)->next())
        ids << (*statement)->integer(0);
    if (auto done = (*statement)->status(); !done)
        return done.error();
    return ids;
}

Result<Database::Counts> Database::counts()
{
    const auto count = [this](const QString &table) -> Result<qint64> {
        auto statement = run(QStringLiteral("SELECT count(*) FROM %1").arg(DjangoTables::quote(table)));
        if (!statement)
            return statement.error();
        if (!(*statement)->next())
            return (*statement)->status().ok() ? Error::database(QObject::tr("count(*) returned no row"))
                                               : (*statement)->status().error();
        return (*statement)->integer(0);
    };
    Counts counts;
    const std::pair<const QString &, qint64 &> targets[] = {
        { m_tables.foo, counts.foos }, { m_tables.bar, counts.bars },       { m_tables.zab, counts.zabs },
        { m_tables.baz, counts.bazs }, { m_tables.zabBazs, counts.links },
    };
    for (const auto &[table, target] : targets) {
        auto value = count(table);
        if (!value)
            return value.error();
        target = *value;
    }
    return counts;
}

void Database::beginSnapshot()
{
    if (m_snapshotDepth++ > 0)
        return;
    // Inside a transaction somebody else opened (SQLite tells), there is nothing to add.
    if (m_sqlite) {
        m_snapshotOpen = sqlite3_get_autocommit(m_sqlite)
            && sqlite3_exec(m_sqlite, "BEGIN", nullptr, nullptr, nullptr) == SQLITE_OK;
        return;
    }
    m_snapshotOpen = m_db.transaction();
    if (m_snapshotOpen) {
        QSqlQuery query(m_db);
        if (!query.exec(QStringLiteral("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")))
            qCWarning(lcDatabase) << "no repeatable-read snapshot:" << query.lastError().text();
    }
}

void Database::endSnapshot()
{
    if (--m_snapshotDepth > 0 || !m_snapshotOpen)
        return;
    m_snapshotOpen = false;
    // Only reads happened: COMMIT and ROLLBACK are the same, COMMIT is cheaper to reason about.
    if (m_sqlite)
        sqlite3_exec(m_sqlite, "COMMIT", nullptr, nullptr, nullptr);
    else
        m_db.commit();
}

std::optional<Database::ChangeMark> Database::headerMark() const
{
    sqlite3_file *file = nullptr;
    if (!m_sqlite || !m_fileKnown
        || sqlite3_file_control(m_sqlite, "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK || !file
        || !file->pMethods)
        return std::nullopt;
    unsigned char header[40] = {};
    if (file->pMethods->xRead(file, header, sizeof header, 0) != SQLITE_OK)
        return std::nullopt;
    // Bytes 18 and 19, the file format's write and read versions: 1 for a rollback journal, 2 for
    // WAL, whose commits go to the -wal file and leave the counter alone.
    if (header[18] != 1 || header[19] != 1)
        return std::nullopt;
    const auto word = [&header](int at) {
        return quint32(header[at]) << 24 | quint32(header[at + 1]) << 16 | quint32(header[at + 2]) << 8 | quint32(header[at + 3]);
    };
    ChangeMark mark;
    mark.counter = word(24);
    // What SQLite itself compares to tell whether its cached pages still hold: the counter and the
    // three words after it (size in pages, first freelist page, freelist length).
    mark.header = { word(28), word(32), word(36) };
    mark.file = { m_fileDevice, m_fileInode, m_fileGeneration };
    return mark;
}

std::optional<Database::ChangeMark> Database::snapshotChangeMark()
{
    if (!m_sqlite || sqlite3_get_autocommit(m_sqlite))
        return std::nullopt;
    // A deferred BEGIN takes the read lock at the transaction's first read: make it happen now.
    // While the lock is held, no other connection can commit to a rollback-journal file.
    auto touch = prepareCached(QStringLiteral("PRAGMA schema_version"));
    if (!touch)
        return std::nullopt;
    const bool read = (*touch)->exec().ok() && (*touch)->next();
    (*touch)->reset();
    if (!read || sqlite3_txn_state(m_sqlite, "main") != SQLITE_TXN_READ)
        return std::nullopt;
    const quint64 notes = CommitLedger::instance().notes(); // inside the snapshot: see CommitLedger
    auto mark = headerMark();
    if (mark)
        mark->notes = notes;
    return mark;
}

bool Database::onlyCacheCommitsBetween(const ChangeMark &earlier, const ChangeMark &later) const
{
    if (!m_sqlite || !m_fileKnown || earlier.file != later.file
        || later.file != std::array { m_fileDevice, m_fileInode, m_fileGeneration })
        return false;
    if (earlier.counter == later.counter) // no commit: the file is as it was (as SQLite's own cache sees it)
        return earlier.header == later.header;
    return CommitLedger::instance().onlyNotedBetween({ m_fileDevice, m_fileInode }, earlier.counter, later.counter,
                                                     earlier.notes);
}

qint64 Database::lastChanges() const
{
    return m_sqlite ? sqlite3_changes64(m_sqlite) : -1;
}
