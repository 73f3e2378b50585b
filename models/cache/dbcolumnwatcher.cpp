// createDbColumnWatcher(): tells which pre_serialized entries changed behind this process's back.

#include "dbcolumnstore.h"

#include "db/database.h"
#include "staleness/changetracking.h"

#include <QHash>
#include <QLoggingCategory>
#include <QPointer>
#include <QSqlDriver>
#include <QSqlError>
#include <QSqlQuery>
#include <QThread>
#include <QTimer>

#include <algorithm>
#include <future>

#include <sqlite3.h>

Q_LOGGING_CATEGORY(lcDbColumnWatcher, "preserve.cache.db.watcher", QtInfoMsg) // debug lines only when asked for (QT_LOGGING_RULES)

namespace {

constexpr int pollMs = 250;
constexpr int retryMs = 1000;

// Posts the watcher's signals to the watcher's own thread, so receivers get them queued whatever
// connection type they chose. Called from the watching thread only.
class Reporter {
public:
    explicit Reporter(StoreWatcher *watcher)
        : m_watcher(watcher)
    {
    }
    void entriesChanged(QList<qint64> pks) const
    {
        post([pks = std::move(pks)](StoreWatcher *watcher) { emit watcher->entriesChanged(pks); });
    }
    void everythingChanged() const
    {
        post([](StoreWatcher *watcher) { emit watcher->everythingChanged(); });
    }
    void unavailable(const QString &message) const
    {
        post([message](StoreWatcher *watcher) { emit watcher->unavailable(message); });
    }
    void available() const
    {
        post([](StoreWatcher *watcher) { emit watcher->available(); });
    }

private:
    template <typename Function> void post(Function function) const
    {
        StoreWatcher *watcher = m_watcher;
        QMetaObject::invokeMethod(
            watcher, [watcher, function] { function(watcher); }, Qt::QueuedConnection);
    }
    StoreWatcher *m_watcher;
};

// Connect, watch, lose, retry: the shape both engines share. Lives and dies in the watching thread.
class Watch {
public:
    Watch(DatabaseConfig config, StoreWatcher *watcher)
        : m_config(std::move(config))
        , m_report(watcher)
    {
        m_config.readOnly = true; // a watcher never writes
        QObject::connect(&m_timer, &QTimer::timeout, &m_timer, [this] { tick(); });
    }
    virtual ~Watch() = default;

    // First attempt; retries go on in the timer whatever it returns.
    Status begin()
    {
        Status first = reconnect();
        if (!first && isBusy(first.error())) {
            m_lost = true; // a writer holds the lock: quietly try again, nothing is wrong
            disconnect();
        } else if (!first) {
            lose(first.error().message);
        }
        m_timer.start(first ? interval() : retryMs);
        return first;
    }

protected:
    // SQLite's "database is locked": another connection is writing (a rollback-journal database
    // cannot be read meanwhile). Not a lost connection; the next tick tries again.
    static bool isBusy(const Error &error)
    {
        return error.message.contains(QLatin1String(sqlite3_errstr(SQLITE_BUSY)));
    }

    virtual Status connectAndListen() = 0;
    virtual Status check() = 0; // detects changes; an error means the connection is gone
    virtual void disconnect() = 0;
    virtual int interval() const = 0;

    Status reconnect()
    {
        disconnect();
        auto opened = Database::open(m_config);
        if (!opened)
            return opened.error();
        m_database = std::move(opened.value());
        Status listening = connectAndListen();
        if (!listening)
            disconnect();
        return listening;
    }
    void lose(const QString &message)
    {
        qCWarning(lcDbColumnWatcher) << "watching" << m_config.displayName() << "failed:" << message;
        disconnect();
        m_lost = true;
        m_report.unavailable(message);
        m_timer.setInterval(retryMs);
    }

    DatabaseConfig m_config;
    Reporter m_report;
    std::unique_ptr<Database> m_database;

private:
    void tick()
    {
        if (!m_lost) {
            if (Status checked = check(); !checked)
                lose(checked.error().message);
            return;
        }
        if (Status back = reconnect(); !back)
            return disconnect();
        // Whatever happened while we were away is unknown: everything may have changed.
        m_lost = false;
        m_timer.setInterval(interval());
        m_report.available();
        m_report.everythingChanged();
    }

    QTimer m_timer;
    bool m_lost = false;
};

// SQLite: PRAGMA data_version tells that another connection committed; a scan then tells which
// entries moved. A foreign write of the column leaves the side table alone, so each row's column is
// fingerprinted too (a hash computed inside SQLite: no body crosses into this process). The scan
// reads every cached body, ~20 MB for the medium demo, but only after a commit, at most 4 times a second.
class SqliteWatch final : public Watch {
public:
    using Watch::Watch;
    ~SqliteWatch() override { disconnect(); }

private:
    struct Row {
        quint64 fingerprint = 0;
        QByteArray digest;
        bool operator==(const Row &) const = default;
    };
    using Snapshot = QHash<qint64, Row>;
    qint64 m_logPosition = 0; // of the change log (ChangeTracking), 0 when not tracked

    static void fingerprint(sqlite3_context *context, int, sqlite3_value **values)
    {
        const auto *data = static_cast<const char *>(sqlite3_value_blob(values[0]));
        const int size = sqlite3_value_bytes(values[0]);
        sqlite3_result_int64(context, qint64(qHash(QByteArrayView(data, size), 0) ^ quint64(size)));
    }

    int interval() const override { return pollMs; }
    void disconnect() override { m_database.reset(); }

    Status connectAndListen() override
    {
        sqlite3 *handle = m_database->sqliteHandle();
        // Short: a writer holding the lock makes us try again next tick, and stop() stays prompt.
        sqlite3_busy_timeout(handle, 100);
        if (sqlite3_create_function_v2(handle, "preserve_fingerprint", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                nullptr, &fingerprint, nullptr, nullptr, nullptr)
            != SQLITE_OK)
            return Error::database(QString::fromUtf8(sqlite3_errmsg(handle)));
        auto version = dataVersion();
        if (!version)
            return version.error();
        auto snapshot = scan();
        if (!snapshot)
            return snapshot.error();
        m_version = *version;
        m_snapshot = std::move(snapshot.value());
        auto position = ChangeTracking::position(*m_database);
        m_logPosition = position ? *position : 0;
        return success();
    }

    Status check() override
    {
        // Busy: a writer is at work; the version stays old, so the next tick looks again.
        auto version = dataVersion();
        if (!version)
            return isBusy(version.error()) ? success() : version.error();
        if (*version == m_version)
            return success();
        auto snapshot = scan();
        if (!snapshot)
            return isBusy(snapshot.error()) ? success() : snapshot.error();
        m_version = *version;
        QList<qint64> changed;
        for (auto it = snapshot->cbegin(); it != snapshot->cend(); ++it) {
            if (const auto old = m_snapshot.constFind(it.key()); old == m_snapshot.cend() || !(*old == *it))
                changed << it.key();
        }
        for (auto it = m_snapshot.cbegin(); it != m_snapshot.cend(); ++it) {
            if (!snapshot->contains(it.key()))
                changed << it.key();
        }
        m_snapshot = std::move(snapshot.value());
        // A tracked change to Django's tables leaves the cache column alone but makes entries stale:
        // the memory tier must drop them too (SQLite positions are log ids, so this reads the log).
        const auto position = ChangeTracking::position(*m_database);
        if (position && *position < m_logPosition) {
            m_logPosition = *position; // tracking was removed or reinstalled: cannot tell which
            m_report.everythingChanged();
            return success();
        }
        if (position && *position > m_logPosition) {
            if (auto changes = ChangeTracking::changesSince(*m_database, m_logPosition)) {
                for (auto it = changes->cbegin(); it != changes->cend(); ++it)
                    changed << it.key();
            }
            m_logPosition = *position;
        }
        if (!changed.isEmpty()) {
            std::sort(changed.begin(), changed.end());
            changed.erase(std::unique(changed.begin(), changed.end()), changed.end());
            m_report.entriesChanged(changed);
        }
        return success();
    }

    Result<qint64> dataVersion()
    {
        auto query = m_database->run(QStringLiteral("PRAGMA data_version"));
        if (!query)
            return query.error();
        if (!(*query)->next())
            return (*query)->status().ok()
                ? Error::database(QStringLiteral("PRAGMA data_version returned no row"))
                : (*query)->status().error();
        return (*query)->integer(0);
    }

    Result<Snapshot> scan()
    {
        ReadSnapshot consistent(*m_database);
        Snapshot snapshot;
        auto column
            = m_database->run(QStringLiteral("SELECT id, preserve_fingerprint(pre_serialized) FROM %1 "
                                             "WHERE pre_serialized IS NOT NULL")
                                  .arg(DjangoTables::quote(m_database->tables().foo)));
        if (!column)
            return column.error();
        while ((*column)->next())
            snapshot[(*column)->integer(0)].fingerprint = quint64((*column)->integer(1));
        if (Status done = (*column)->status(); !done)
            return done.error();
        auto tables = m_database->tableNames();
        if (!tables)
            return tables.error();
        if (!tables->contains(DbColumnStore::metadataTable()))
            return snapshot;
        auto side = m_database->prepare(QStringLiteral("SELECT foo_id, digest FROM %1 WHERE app_label = ?")
                                            .arg(DjangoTables::quote(DbColumnStore::metadataTable())));
        if (!side)
            return side.error();
        (*side)->bind(0, m_config.appLabel.toUtf8());
        if (Status run = (*side)->exec(); !run)
            return run.error();
        while ((*side)->next())
            snapshot[(*side)->integer(0)].digest = (*side)->text(1).toByteArray();
        if (Status done = (*side)->status(); !done)
            return done.error();
        return snapshot;
    }

    qint64 m_version = -1;
    Snapshot m_snapshot;
};

// PostgreSQL: LISTEN on the store's channel (DbColumnStore::put/remove NOTIFY the pk) and on
// ChangeTracking's. Notifications arrive through the driver's socket notifier in this thread's
// event loop; a cheap query every second tells a lost connection.
class PostgresWatch final : public Watch {
public:
    using Watch::Watch;
    ~PostgresWatch() override { disconnect(); }

private:
    int interval() const override { return retryMs; }

    Status connectAndListen() override
    {
        QSqlDriver *driver = m_database->connection().driver();
        for (const QString &channel : { DbColumnStore::notifyChannel(m_config.appLabel),
                 ChangeTracking::notifyChannel(m_config.appLabel) }) {
            if (!driver->subscribeToNotification(channel))
                return Error::database(
                    QObject::tr("cannot LISTEN on %1: %2").arg(channel, driver->lastError().text()));
        }
        m_context = std::make_unique<QObject>();
        QObject::connect(driver, &QSqlDriver::notification, m_context.get(),
            [this](const QString &, QSqlDriver::NotificationSource, const QVariant &payload) {
                bool isNumber = false;
                const qint64 pk = payload.toString().trimmed().toLongLong(&isNumber);
                if (isNumber)
                    m_report.entriesChanged({ pk });
                else
                    m_report.everythingChanged();
            });
        return success();
    }

    Status check() override
    {
        const QSqlDatabase connection = m_database->connection();
        // QPSQL closes a connection it found broken (the notification socket said so).
        if (!connection.isOpen())
            return Error::unavailable(QObject::tr("lost the connection to %1").arg(m_config.displayName()));
        QSqlQuery probe(connection);
        if (!probe.exec(QStringLiteral("SELECT 1")))
            return Error::unavailable(QObject::tr("lost the connection to %1: %2")
                                          .arg(m_config.displayName(), probe.lastError().text()));
        return success();
    }

    void disconnect() override
    {
        m_context.reset(); // no notification handler outlives its connection
        m_database.reset();
    }

    std::unique_ptr<QObject> m_context;
};

// The thread owns the Watch (and so the connection): created, run and destroyed in run().
class WatchThread final : public QThread {
public:
    WatchThread(DatabaseConfig config, StoreWatcher *watcher, std::promise<Status> first)
        : m_config(std::move(config))
        , m_watcher(watcher)
        , m_first(std::move(first))
    {
    }

protected:
    void run() override
    {
        std::unique_ptr<Watch> watch;
        if (m_config.isSqlite())
            watch = std::make_unique<SqliteWatch>(m_config, m_watcher);
        else
            watch = std::make_unique<PostgresWatch>(m_config, m_watcher);
        m_first.set_value(watch->begin());
        exec();
    }

private:
    DatabaseConfig m_config;
    StoreWatcher *m_watcher;
    std::promise<Status> m_first;
};

class DbColumnWatcher final : public StoreWatcher {
public:
    DbColumnWatcher(DatabaseConfig config, QObject *parent)
        : StoreWatcher(parent)
        , m_config(std::move(config))
    {
    }
    ~DbColumnWatcher() override { stop(); }

    // Blocks until the first connection attempt is over (PostgreSQL: at most its connect_timeout).
    Status start() override
    {
        if (m_thread)
            return success();
        std::promise<Status> first;
        std::future<Status> firstResult = first.get_future();
        m_thread = std::make_unique<WatchThread>(m_config, this, std::move(first));
        m_thread->setObjectName(QStringLiteral("db column watcher"));
        m_thread->start();
        return firstResult.get();
    }

    // Prompt: the loop ends at its next event (at most one poll or one probe in flight).
    void stop() override
    {
        if (!m_thread)
            return;
        m_thread->quit();
        m_thread->wait();
        m_thread.reset();
    }

private:
    DatabaseConfig m_config;
    std::unique_ptr<WatchThread> m_thread;
};

} // namespace

std::unique_ptr<StoreWatcher> createDbColumnWatcher(const DatabaseConfig &config, QObject *parent)
{
    return std::make_unique<DbColumnWatcher>(config, parent);
}
