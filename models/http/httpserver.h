#pragma once

#include "core/result.h"

#include <QByteArray>
#include <QDateTime>
#include <QMetaType>
#include <QObject>
#include <QString>
#include <QUrl>

#include <memory>

class CacheService;

// Which endpoints answer from the cache and which serialize live on every request (X-Cache: BYPASS).
enum class CachePolicy {
    Cached,     // list and detail from the cache (default)
    ListCached, // the list from the cache, detail live (the seed's closing advice)
    Live,       // both live
};

struct HttpServerOptions {
    QString address = QStringLiteral("127.0.0.1");
    quint16 port = 0;         // 0: a free port (see HttpServer::port())
    int threads = 2;          // serving threads: one libmicrohttpd daemon each
    // With as many serving threads as CPUs this process may use, each thread stays on a CPU of
    // its own (nginx's worker_cpu_affinity auto), and a connection goes to the thread of the CPU
    // its packets arrive on (ConnectionPlacement). Unpinned, the scheduler may put both serving
    // threads on one CPU and both client threads on the other: every answer then waits for a
    // time slice (figures: docs/benchmarks.md). Other thread counts are not pinned.
    bool pinThreads = true;
    int liveWorkers = 2;      // threads that serialize live, list and status work (bounded concurrency)
    // Past this many open connections the server stops accepting (see Acceptor): a new connection
    // waits in the kernel's accept queue, unanswered, until one of the open ones closes.
    int maxConnections = 1024;
    // Idle clients are dropped after this, and so is a connection whose next request (line and
    // headers) is not complete this long after it opened or its previous answer (RequestDeadlines).
    int timeoutSeconds = 30;
    // Per-connection memory of libmicrohttpd for request line, headers and the answer's head: the
    // request line and headers may take half of it less 512 bytes (9.5 KiB of 20 KiB; nginx allows
    // 8 KiB a line), else 431 (ConnectionMemory); a request line that does not fit gets 414.
    // libmicrohttpd zeroes it after every request: 32 KiB cost a tenth of the CPU of a small hit.
    qint64 connectionMemory = 20 * 1024;
    qint64 bodyLimit = 1024 * 1024; // request bodies above this get 413
    // Cached bodies from fileResponseMin to fileResponseMax bytes are sent with sendfile() from an
    // in-memory file made once per entry (see ResponseCache), headers and body corked into full
    // segments. Measured on loopback against one send() of the buffer: at 100-140 KB the same
    // requests per second with a steadier p99 (no zero-window stalls of the receiver); from about
    // 200 KB on fewer requests per second (libmicrohttpd sends files in 128 KiB pieces, and the
    // kernel's page-by-page splice costs more than a copy); below 64 KB no gain. Min negative:
    // never; max negative: no upper bound.
    qint64 fileResponseMin = 64 * 1024;
    qint64 fileResponseMax = 128 * 1024;
    int pageSize = 0;               // > 0: DRF's PageNumberPagination on the list
    CachePolicy policy = CachePolicy::Cached;
    QByteArray cacheControl;        // Cache-Control of API answers; empty: none (as DRF)
    QByteArray adminToken;          // non-empty: the admin endpoints exist, behind this bearer token
    int stopTimeoutMs = 10000;      // graceful stop: how long in-flight requests may take
    bool metricsOnly = false;       // only /metrics and /healthz (a worker's port); the rest is 404
};

// One line of the request log.
struct HttpLogEntry {
    QDateTime at; // UTC, when the request arrived
    QByteArray peer;
    QByteArray method;
    QByteArray target;
    QByteArray version;
    int status = 0; // 0: the client went away before an answer
    qint64 bytes = 0;
    double milliseconds = 0;
    QByteArray cache; // X-Cache
};
Q_DECLARE_METATYPE(HttpLogEntry)

// The cached API over HTTP (libmicrohttpd, a thread pool with epoll): the DRF endpoints from the
// CacheService's memory tier with prebuilt zero-copy responses; misses, live bodies and admin work
// suspend their connection until a worker has the answer, so hits never wait behind them.
// The object lives on a thread with an event loop (the request log is delivered there); start(),
// stop() and the destructor are called on that thread. The CacheService must outlive the server.
class HttpServer : public QObject {
    Q_OBJECT

public:
    explicit HttpServer(CacheService &service, QObject *parent = nullptr);
    ~HttpServer() override;

    // Binds and starts serving; the bound port (useful with port 0).
    Result<quint16> start(const HttpServerOptions &options);
    // Graceful: stops accepting, lets in-flight requests finish (at most stopTimeoutMs, during which
    // this thread's events are processed), answers the rest 503, then closes every connection.
    void stop();
    bool isRunning() const;
    quint16 port() const;
    QUrl url() const; // http://address:port/
    const HttpServerOptions &options() const;
    // Open connections waiting for a request with none of it sent (kept alive, or just opened):
    // those the server closes to make room at --max-connections. Any thread.
    int idleConnections() const;
    // Open connections, whatever they do. Any thread.
    int openConnections() const;

signals:
    // One per request, delivered on this object's thread (queued; never blocks a serving thread).
    void requestServed(const HttpLogEntry &entry);

protected:
    // Count the receivers of requestServed: with none and the log category off (`serve --quiet`),
    // the serving threads skip the log entry altogether.
    void connectNotify(const QMetaMethod &signal) override;
    void disconnectNotify(const QMetaMethod &signal) override;

private:
    struct Impl;
    void flushLog();
    std::shared_ptr<Impl> m_impl;
};

// "127.0.0.1 \"GET /api/foos/1/ HTTP/1.1\" 200 1234 0.215 ms HIT"
QString formatLogLine(const HttpLogEntry &entry);
