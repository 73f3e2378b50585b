#pragma once

#include "cache/cacheservice.h"
#include "core/result.h"
#include "http/httpserver.h"
#include "staleness/changetracking.h"

#include <QObject>
#include <QTimer>
#include <QVariantMap>

#include <functional>
#include <memory>

class DocumentLoader;
class FreshnessWorker;
class StatusLoader;

// What an operator picks in the console's Connect dialog (or on the command line).
struct ConnectionSpec {
    QString database;   // SQLite path or postgresql:// URL
    QString appLabel = QStringLiteral("api");
    QString store = QStringLiteral("db"); // "db" or "redis"
    QString redisUrl = QStringLiteral("redis://127.0.0.1:6379/0");
    QString redisPrefix = QStringLiteral("preserve:");
    bool readOnly = false;

    Result<CacheConfig> cacheConfig() const;
    // For the window title and the recent list: never the password.
    QString displayName() const;
    // For QSettings (the password of a URL is kept as typed: it is the user's own settings file).
    QVariantMap toVariant() const;
    static ConnectionSpec fromVariant(const QVariantMap &map);
    bool operator==(const ConnectionSpec &other) const = default;
};

// The connections opened lately, newest first, in ~/.config/preserve/console.conf. Read once per
// process, then kept here; written to disk by the global thread pool (which QCoreApplication waits
// for before it exits): QSettings ends each write with an fsync, which on the GUI thread took up to
// half a second while a connection opened. One write at a time, each taking the newest list when
// it starts, so the last write leaves the newest list. Any thread.
namespace RecentConnections {
constexpr int maximum = 8;
QList<ConnectionSpec> list();
void remember(const ConnectionSpec &spec); // first, without an equal older one, at most `maximum`
void clear();
} // namespace RecentConnections

// Everything the console holds for one connection: the cache service (and its telemetry), the
// built-in HTTP server, and the loaders that run the GUI's reads on threads of their own. Lives on
// the GUI thread; destroying it stops the server and waits for the loaders' jobs.
//
// The states follow the service by themselves: when a job starts, reports an item or ends, and when
// a watcher sees a change, statuses() reads them again, at most once per status interval (setStatusInterval). That is
// a throttle, not a debounce, so the results of a long job land row by row while it runs.
class ConsoleSession : public QObject {
    Q_OBJECT

public:
    ConsoleSession(const ConnectionSpec &spec, const CacheConfig &config, QObject *parent = nullptr);
    ~ConsoleSession() override;

    // Opens the database (schema checked) and the store on a worker, so a refused or slow server
    // never freezes the window. `done` runs on `context`'s thread, unless it is gone by then.
    static void probe(const CacheConfig &config, QObject *context, std::function<void(const Status &)> done);
    // Writes the demo database to `path` (what `preserve seed` does, at its default scale) on a
    // worker; `done` as for probe().
    static void createDemo(const QString &path, QObject *context, std::function<void(const Status &)> done);

    const ConnectionSpec &spec() const { return m_spec; }
    bool isReadOnly() const { return m_spec.readOnly; }
    CacheService &service() { return *m_service; }
    Telemetry &telemetry() { return m_service->telemetry(); }
    HttpServer &server() { return *m_server; }
    DocumentLoader &documents() { return *m_documents; }
    StatusLoader &statuses() { return *m_statuses; }

    void setStatusInterval(int milliseconds) { m_statusThrottle.setInterval(milliseconds); }

    // Starts the built-in server; `tokenFile` (may be empty) enables the admin endpoints.
    Result<quint16> startServer(HttpServerOptions options, const QString &tokenFile);

    // Keep-fresh: a worker in this process, as `serve --keep-fresh` runs one (what the server's
    // clients read goes first). Refuses a read-only connection and a database without tracking.
    Status startWorker();
    void stopWorker();
    bool isWorkerRunning() const { return m_worker != nullptr; }
    // Reads the heartbeats of every worker on the database (this one's too) on a thread of its own;
    // workersRead or workersFailed follow. The session does so every two seconds.
    void readWorkers();
    // What a change to this node reaches (Impact), on a thread of its own with its own connections;
    // impactRead or impactFailed follow, for the latest request only.
    void readImpact(NodeLevel level, qint64 id);

signals:
    void impactRead(const Impact &impact);
    void impactFailed(const QString &message);
    void workersRead(const QList<ChangeTracking::WorkerBeat> &workers);
    void workersFailed(const QString &message);
    void workerStateChanged(bool running);
    // The keep-fresh worker started refresh job `job`.
    void keepFreshJobStarted(int job);

private:
    void statesMayHaveChanged();
    void jobEnded();

    static constexpr qint64 minStatusSpacingMs = 200;
    static constexpr qint64 maxStatusSpacingMs = 30000;

    ConnectionSpec m_spec;
    std::unique_ptr<CacheService> m_service;
    std::unique_ptr<HttpServer> m_server;
    std::unique_ptr<DocumentLoader> m_documents;
    std::unique_ptr<StatusLoader> m_statuses;
    QTimer m_statusThrottle;
    std::unique_ptr<FreshnessWorker> m_worker;
    QTimer m_workersTimer;
    bool m_readingWorkers = false;
    quint64 m_impactSerial = 0;
};
