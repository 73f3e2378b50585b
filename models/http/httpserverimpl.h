#pragma once
// Private to the HTTP server: what httpserver.cpp (the server's thread: start, stop, the request
// log) and httpserverimpl.cpp (libmicrohttpd's callbacks, on the serving threads) share.

#include "httpserver.h"

#include "api/apirouter.h"
#include "http/acceptor.h"
#include "http/httpexchange.h"
#include "http/mhdresponse.h"
#include "http/quirks/requestdeadlines.h"
#include "http/quirks/responsecache.h"

#include <QElapsedTimer>
#include <QLoggingCategory>
#include <QTimer>

#include <atomic>
#include <condition_variable>
#include <cstdarg>
#include <memory>
#include <mutex>
#include <vector>

#include <microhttpd.h>

Q_DECLARE_LOGGING_CATEGORY(lcHttp)

// Per connection (MHD's socket context): the raw request target of the request being read, which
// libmicrohttpd only shows to the URI log callback, the peer's address, and its request deadline.
struct ConnectionState {
    QByteArray target;
    // Where the target starts in libmicrohttpd's copy of the request line, and where it ended it
    // (the NUL it wrote for the space before the version): the handler checks the method and the
    // version are where they must be then, which a NUL inside either would move.
    const char *targetStart = nullptr;
    const char *targetEnd = nullptr;
    QByteArray peer;
    RequestDeadlines::Slot *deadline = nullptr;
    int worker = 0; // the serving thread (its daemon's index): its ResponseCache lane too
    bool refused = false; // answered at the URI callback (ConnectionMemory::refuseEarly): nothing more

    static ConnectionState *of(MHD_Connection *connection);
};

struct HttpServer::Impl {
    Impl(HttpServer *server, CacheService &cacheService)
        : owner(server)
        , service(cacheService)
    {
    }

    HttpServer *owner;
    CacheService &service;
    HttpServerOptions options;
    // One libmicrohttpd daemon per serving thread (not its thread pool): the acceptor picks which
    // one takes a connection (ConnectionPlacement).
    std::vector<MHD_Daemon *> daemons;
    std::vector<int> workerCpus; // the CPU each serving thread is pinned to; empty: none
    std::atomic<bool> starting { false }; // start() is making the daemons (read by onError on their threads)
    std::mutex startErrorMutex;
    quint16 port = 0;
    QString startError;
    Acceptor acceptor; // the listening socket; libmicrohttpd has none of its own
    RequestDeadlines deadlines;
    std::shared_ptr<SuspendRegistry> registry;
    HttpCounters counters;
    std::unique_ptr<ApiRouter> router;
    // Prebuilt answers of memory-tier hits, per entry and coding; swept every second.
    ResponseCache responses;
    quint64 sweptAt = ~quint64(0); // the memory tier's changes and evictions at the last sweep
    QElapsedTimer sinceSweep;
    QTimer sweepTimer;
    QTimer logTimer; // hands the request log to the server's thread in batches

    std::mutex flightMutex;
    std::condition_variable idle;
    // Requests between the handler's first call and their "completed" notice. Atomic, so that the
    // serving threads share no lock per request; stop() waits on `idle` with a short timeout.
    std::atomic<int> inFlight { 0 };

    std::mutex logMutex;
    std::vector<HttpLogEntry> log;
    std::atomic<int> logReceivers { 0 }; // connections to requestServed

    // Room the answer's head needs in libmicrohttpd's connection memory (ConnectionMemory).
    qint64 answerHeadBytes() const { return 1024 + options.cacheControl.size(); }

    // Any thread: whether anyone reads the request log now.
    bool logWanted() const { return logReceivers.load(std::memory_order_relaxed) > 0 || lcHttp().isInfoEnabled(); }

    static MHD_Result onAccess(void *cls, MHD_Connection *connection, const char *url, const char *method,
                               const char *version, const char *upload, size_t *uploadSize, void **context);
    static void onCompleted(void *cls, MHD_Connection *connection, void **context, MHD_RequestTerminationCode code);
    static void onConnection(void *cls, MHD_Connection *connection, void **socketContext, MHD_ConnectionNotificationCode code);
    static void *onUri(void *cls, const char *uri, MHD_Connection *connection);
    static void onError(void *cls, const char *format, va_list arguments);

    // One daemon per serving thread, in `daemons`; an empty string, or why not all started.
    QString startDaemons(int threads);
    void stopDaemons();
    // The access handler's first call (the headers are in) and its calls with pieces of a body.
    MHD_Result onHeaders(MHD_Connection *connection, const char *url, const char *method, const char *version, void **context);
    MHD_Result onBodyPiece(HttpExchange &exchange, const char *upload, size_t *uploadSize);
    HttpExchange *begin(MHD_Connection *connection, const char *url, const char *method, const char *version);
    MHD_Result queue(HttpExchange &exchange, const Reply &reply);
    // The libmicrohttpd response for a reply: a reusable one prebuilt (ResponseCache), else built
    // now; `fromFile` when its body goes out with sendfile().
    ResponsePtr responseFor(const HttpExchange &exchange, const Reply &reply, bool &fromFile);
    // The server's thread, every second: lets go of the responses of entries the memory tier let
    // go of. Skipped while the memory tier has not changed (no put, removal, clear or eviction),
    // but not for longer than 30 s (an entry still being sent at the last sweep goes then).
    void sweepResponses();
    // The transport's lines of /metrics. Any thread.
    QByteArray metrics() const;
    // Sizes the response cache by the descriptors this process may open.
    void configureResponses();
    void pushLog(HttpLogEntry entry);
};
