#pragma once

#include "api/apioptions.h"
#include "core/result.h"
#include "http/httplogentry.h"

#include <QObject>
#include <QString>
#include <QUrl>

#include <memory>

class CacheService;

// The API's options (ApiOptions) and the transport's.
struct HttpServerOptions : ApiOptions {
    QString address = QStringLiteral("127.0.0.1");
    quint16 port = 0;         // 0: a free port (see HttpServer::port())
    int threads = 2;          // serving threads: one libmicrohttpd daemon each
    // With as many serving threads as CPUs, each stays on a CPU of its own and takes the connections
    // whose packets arrive there (ConnectionPlacement), as nginx's worker_cpu_affinity auto.
    bool pinThreads = true;
    // Past this many open connections the server stops accepting (see Acceptor): a new connection
    // waits in the kernel's accept queue, unanswered, until one of the open ones closes.
    int maxConnections = 1024;
    // Idle clients are dropped after this, and so is a connection whose next request (line and
    // headers) is not complete this long after it opened or its previous answer (RequestDeadlines).
    int timeoutSeconds = 30;
    // Per-connection memory of libmicrohttpd for request line, headers and the answer's head: the
    // request line and headers may take half of it less 512 bytes, else 431 (ConnectionMemory); a
    // request line that does not fit gets 414. libmicrohttpd zeroes it after every request.
    qint64 connectionMemory = 20 * 1024;
    qint64 bodyLimit = 1024 * 1024; // request bodies above this get 413
    // Cached bodies from fileResponseMin to fileResponseMax bytes are sent with sendfile() from an
    // in-memory file made once per entry (ResponseCache); outside that window a copy costs less
    // (docs/http-server.md). Min negative: never; max negative: no upper bound.
    qint64 fileResponseMin = 64 * 1024;
    qint64 fileResponseMax = 128 * 1024;
    int stopTimeoutMs = 10000;      // graceful stop: how long in-flight requests may take
};

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
