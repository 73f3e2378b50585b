#include "httpserver.h"

#include "cache/cacheservice.h"
#include "http/acceptor.h"
#include "http/apicontext.h"
#include "http/connectionmemory.h"
#include "http/libraryanswers.h"
#include "http/requestdeadlines.h"

#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QLoggingCategory>
#include <QMetaMethod>
#include <QTimer>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdarg>
#include <utility>
#include <vector>

#include <microhttpd.h>

Q_LOGGING_CATEGORY(lcHttp, "preserve.http", QtInfoMsg)

namespace {

constexpr size_t maxQueuedLogEntries = 100000; // past this (no event loop running?) entries are dropped

// Set on a serving thread when the handler returns MHD_NO for a request it has answered itself:
// libmicrohttpd's "Application reported internal error" that follows at once is no error then.
thread_local bool answeredAndClosing = false;

// Per connection (MHD's socket context): the raw request target of the request being read, which
// libmicrohttpd only shows to the URI log callback, the peer's address, and its request deadline.
struct ConnectionState {
    QByteArray target;
    QByteArray peer;
    RequestDeadlines::Slot *deadline = nullptr;
    int worker = 0; // the serving thread (its daemon's index): its ResponseCache lane too
    bool refused = false; // answered at the URI callback (ConnectionMemory::refuseEarly): nothing more
};

ConnectionState *stateOf(MHD_Connection *connection)
{
    const MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? static_cast<ConnectionState *>(info->socket_context) : nullptr;
}

QByteArray peerOf(MHD_Connection *connection)
{
    const MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!info || !info->client_addr)
        return {};
    char text[INET6_ADDRSTRLEN] = {};
    const sockaddr *address = info->client_addr;
    if (address->sa_family == AF_INET)
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in *>(address)->sin_addr, text, sizeof text);
    else if (address->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6 *>(address)->sin6_addr, text, sizeof text);
    return text;
}

QByteArray headerOf(MHD_Connection *connection, const char *name)
{
    return QByteArray(MHD_lookup_connection_value(connection, MHD_HEADER_KIND, name));
}

// libmicrohttpd sends a file response's headers on their own, then the body with sendfile():
// without the cork the headers would leave as a small segment of their own and wake the client
// twice. libmicrohttpd does not know of this cork (it keeps TCP_NODELAY on and believes the data
// pushed), so whoever sets it must take it off when the answer is complete.
bool setCork(MHD_Connection *connection, bool on)
{
    const MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    const int value = on ? 1 : 0;
    return info && ::setsockopt(info->connect_fd, IPPROTO_TCP, TCP_CORK, &value, sizeof value) == 0;
}

struct HeaderCount {
    const char *name;
    int count = 0;
};

MHD_Result countHeader(void *cls, MHD_ValueKind, const char *key, const char *)
{
    auto *counted = static_cast<HeaderCount *>(cls);
    if (qstricmp(key, counted->name) == 0)
        ++counted->count;
    return MHD_YES;
}

// How many lines of header `name` came (libmicrohttpd's lookup finds the first only).
int headerLines(MHD_Connection *connection, const char *name)
{
    HeaderCount counted { name };
    MHD_get_connection_values(connection, MHD_HEADER_KIND, &countHeader, &counted);
    return counted.count;
}

HttpLogEntry logEntryOf(const HttpExchange &exchange, bool delivered)
{
    const HttpRequest &request = exchange.request;
    return { exchange.startedAt, request.peer, request.method, request.target, request.version,
             exchange.answered ? exchange.reply.status : 0, delivered ? exchange.reply.bodyBytes : 0,
             double(exchange.timer.nsecsElapsed()) / 1e6, exchange.reply.cache };
}

} // namespace

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
    std::atomic<bool> starting { false }; // start() is making the daemons (read by onError on their threads)
    std::mutex startErrorMutex;
    quint16 port = 0;
    QString startError;
    Acceptor acceptor; // the listening socket; libmicrohttpd has none of its own
    RequestDeadlines deadlines;
    std::shared_ptr<SuspendRegistry> registry;
    HttpCounters counters;
    std::unique_ptr<ApiRouter> router;
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
    HttpExchange *begin(MHD_Connection *connection, const char *url, const char *method, const char *version);
    MHD_Result queue(HttpExchange &exchange, const Reply &reply);
    void pushLog(HttpLogEntry entry);
};

HttpExchange *HttpServer::Impl::begin(MHD_Connection *connection, const char *url, const char *method, const char *version)
{
    auto *exchange = new HttpExchange;
    exchange->timer.start();
    exchange->logged = logWanted();
    if (exchange->logged)
        exchange->startedAt = QDateTime::currentDateTimeUtc();
    exchange->registry = registry;
    exchange->connection = connection;
    HttpRequest &request = exchange->request;
    request.method = method;
    request.path = url;
    request.version = version;
    if (ConnectionState *state = stateOf(connection)) {
        RequestDeadlines::requestArrived(*state->deadline);
        request.target = state->target;
        request.peer = state->peer;
        request.lane = state->worker;
    }
    if (request.target.isEmpty())
        request.target = request.path;
    const qsizetype question = request.target.indexOf('?');
    if (question >= 0)
        request.query = request.target.mid(question + 1);
    request.host = headerOf(connection, MHD_HTTP_HEADER_HOST);
    if (!request.host.isNull()) // one is usual: count only then
        request.hostHeaders = headerLines(connection, MHD_HTTP_HEADER_HOST);
    request.transferEncoding = headerOf(connection, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    if (!request.transferEncoding.isNull())
        request.transferEncodingHeaders = headerLines(connection, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    if (MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH))
        request.contentLengthHeaders = headerLines(connection, MHD_HTTP_HEADER_CONTENT_LENGTH);
    request.accept = headerOf(connection, MHD_HTTP_HEADER_ACCEPT);
    request.acceptEncoding = headerOf(connection, MHD_HTTP_HEADER_ACCEPT_ENCODING);
    request.ifNoneMatch = headerOf(connection, MHD_HTTP_HEADER_IF_NONE_MATCH);
    request.authorization = headerOf(connection, MHD_HTTP_HEADER_AUTHORIZATION);
    request.contentType = headerOf(connection, MHD_HTTP_HEADER_CONTENT_TYPE);
    inFlight.fetch_add(1, std::memory_order_relaxed);
    return exchange;
}

MHD_Result HttpServer::Impl::queue(HttpExchange &exchange, const Reply &answer)
{
    // DRF pretty-prints for `Accept: application/json; indent=N`: rare, so built per request.
    const QByteArray &accept = exchange.request.accept;
    const int indent = answer.json.isEmpty() || !accept.contains('=') ? 0 : HttpResponses::acceptedIndent(accept);
    exchange.reply = indent > 0 ? HttpResponses::indented(answer, indent, exchange.request.ifNoneMatch) : answer;
    const Reply &reply = exchange.reply;
    if (exchange.request.isHead())
        exchange.reply.bodyBytes = 0; // libmicrohttpd sends the headers only
    exchange.answered = true;
    counters.requestsByClass[size_t(qBound(1, reply.status / 100, 5))].fetch_add(1, std::memory_order_relaxed);
    counters.bodyBytes.fetch_add(exchange.reply.bodyBytes, std::memory_order_relaxed);
    if (reply.fromFile && !exchange.request.isHead())
        exchange.corked = setCork(exchange.connection, true);
    return MHD_queue_response(exchange.connection, unsigned(reply.status), reply.response.get());
}

// Called by libmicrohttpd: first when the headers are in (we copy what we need), then once per
// piece of body, then a final time (body complete: the answer is queued then — or the connection
// is suspended until a worker has it, and this runs again after the resume).
MHD_Result HttpServer::Impl::onAccess(void *cls, MHD_Connection *connection, const char *url, const char *method,
                                      const char *version, const char *upload, size_t *uploadSize, void **context)
{
    auto *impl = static_cast<Impl *>(cls);
    auto *exchange = static_cast<HttpExchange *>(*context);
    if (!exchange) {
        LibraryAnswers::handlerReached(connection);
        if (const ConnectionState *state = stateOf(connection); state && state->refused) {
            answeredAndClosing = true; // answered at the URI callback; libmicrohttpd closes the connection
            return MHD_NO;
        }
        *context = exchange = impl->begin(connection, url, method, version);
        if (auto refused = ConnectionMemory::refusal(connection, impl->options.connectionMemory, impl->answerHeadBytes())) {
            // Written here: libmicrohttpd would send it malformed, or not at all (ConnectionMemory).
            exchange->reply = std::move(*refused);
            exchange->answered = true;
            impl->counters.requestsByClass[size_t(exchange->reply.status / 100)].fetch_add(1, std::memory_order_relaxed);
            const QByteArray wire = ConnectionMemory::wire(exchange->reply, exchange->request.isHead());
            exchange->sentDirectly = ConnectionMemory::sendDirectly(connection, wire);
            answeredAndClosing = true;
            return MHD_NO;
        }
        if (const char *problem = exchange->request.hostProblem())
            return impl->queue(*exchange, HttpResponses::error(MHD_HTTP_BAD_REQUEST, problem));
        if (const auto problem = exchange->request.framingProblem()) // the body is not read: the connection closes
            return impl->queue(*exchange, HttpResponses::error(problem->first, problem->second));
        bool number = false;
        const quint64 declared = headerOf(connection, MHD_HTTP_HEADER_CONTENT_LENGTH).toULongLong(&number);
        if (number && declared > quint64(impl->options.bodyLimit)) // refused before a byte of it is read
            return impl->queue(*exchange, HttpResponses::error(MHD_HTTP_CONTENT_TOO_LARGE, "Request body too large."));
        return MHD_YES;
    }
    if (*uploadSize > 0) {
        exchange->bodySeen += qint64(*uploadSize);
        const bool keep = exchange->request.method == "POST";
        if (exchange->bodySeen > impl->options.bodyLimit) {
            // libmicrohttpd cannot answer in the middle of a body: read on (discarding) and answer 413
            // at its end, but give up on a client that keeps sending far past the limit.
            *uploadSize = 0;
            return exchange->bodySeen > 8 * impl->options.bodyLimit ? MHD_NO : MHD_YES;
        }
        if (keep)
            exchange->request.body.append(upload, qsizetype(*uploadSize));
        *uploadSize = 0;
        return MHD_YES;
    }
    if (exchange->answered)
        return MHD_YES;
    if (exchange->bodySeen > impl->options.bodyLimit)
        return impl->queue(*exchange, HttpResponses::error(MHD_HTTP_CONTENT_TOO_LARGE, "Request body too large."));
    if (exchange->deferral) { // resumed: a worker has left the answer
        auto reply = impl->registry->take(*exchange->deferral);
        return impl->queue(*exchange, reply ? *reply : HttpResponses::error(MHD_HTTP_SERVICE_UNAVAILABLE, "The server is shutting down."));
    }
    auto reply = impl->router->route(*exchange);
    if (!reply && !exchange->deferral)
        reply = serverError(QStringLiteral("no answer for %1").arg(QString::fromUtf8(exchange->request.target)));
    if (!reply)
        reply = exchange->registry->suspendUnlessDone(*exchange->deferral);
    return reply ? impl->queue(*exchange, *reply) : MHD_YES;
}

void HttpServer::Impl::onCompleted(void *cls, MHD_Connection *connection, void **context, MHD_RequestTerminationCode code)
{
    auto *impl = static_cast<Impl *>(cls);
    if (ConnectionState *state = stateOf(connection)) // kept alive: the next request has the same time
        impl->deadlines.waitForRequest(*state->deadline);
    std::unique_ptr<HttpExchange> exchange(static_cast<HttpExchange *>(*context));
    *context = nullptr;
    if (!exchange)
        return;
    if (exchange->corked && code == MHD_REQUEST_TERMINATED_COMPLETED_OK)
        setCork(connection, false); // pushes the last partial segment now
    if (!exchange->answered)
        impl->counters.requestsByClass[0].fetch_add(1, std::memory_order_relaxed);
    if (exchange->logged) {
        const bool delivered = exchange->answered && (code == MHD_REQUEST_TERMINATED_COMPLETED_OK || exchange->sentDirectly);
        impl->pushLog(logEntryOf(*exchange, delivered));
    }
    exchange.reset();
    if (impl->inFlight.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard lock(impl->flightMutex);
        impl->idle.notify_all();
    }
}

void HttpServer::Impl::onConnection(void *cls, MHD_Connection *connection, void **socketContext, MHD_ConnectionNotificationCode code)
{
    auto *impl = static_cast<Impl *>(cls);
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        auto *state = new ConnectionState { {}, peerOf(connection), impl->deadlines.opened(connection) };
        if (const MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_DAEMON)) {
            const auto it = std::find(impl->daemons.cbegin(), impl->daemons.cend(), info->daemon);
            state->worker = it == impl->daemons.cend() ? 0 : int(it - impl->daemons.cbegin());
        }
        *socketContext = state;
        impl->counters.connectionsOpen.fetch_add(1, std::memory_order_relaxed);
        impl->counters.connectionsByThread[size_t(state->worker)].fetch_add(1, std::memory_order_relaxed);
    } else {
        auto *state = static_cast<ConnectionState *>(*socketContext);
        LibraryAnswers::closed(connection);
        impl->deadlines.closed(connection);
        impl->acceptor.released(state ? state->worker : -1);
        if (state)
            impl->counters.connectionsByThread[size_t(state->worker)].fetch_sub(1, std::memory_order_relaxed);
        delete state;
        *socketContext = nullptr;
        impl->counters.connectionsOpen.fetch_sub(1, std::memory_order_relaxed);
    }
}

void *HttpServer::Impl::onUri(void *cls, const char *uri, MHD_Connection *connection)
{
    auto *impl = static_cast<Impl *>(cls);
    ConnectionState *state = stateOf(connection);
    if (state)
        state->target = uri;
    const auto problem = ConnectionMemory::targetProblem(uri, impl->options.connectionMemory, impl->answerHeadBytes());
    if (state && problem) {
        ConnectionMemory::refuseEarly(connection, *problem);
        state->refused = true;
        impl->counters.requestsByClass[4].fetch_add(1, std::memory_order_relaxed);
        return nullptr;
    }
    LibraryAnswers::requestLineRead(connection);
    return nullptr; // the exchange is made on the access handler's first call (then "completed" is sure to follow)
}

void HttpServer::Impl::onError(void *cls, const char *format, va_list arguments)
{
    auto *impl = static_cast<Impl *>(cls);
    const QString message = QString::vasprintf(format, arguments).trimmed();
    if (std::exchange(answeredAndClosing, false) && message.startsWith(QLatin1String("Application reported internal error")))
        return;
    if (const auto status = LibraryAnswers::announcedStatus(message.toUtf8()); status && LibraryAnswers::answerInstead(*status)) {
        impl->counters.requestsByClass[size_t(*status / 100)].fetch_add(1, std::memory_order_relaxed);
        qCInfo(lcHttp).noquote() << "answered" << *status << "for libmicrohttpd:" << message.left(80);
        return;
    }
    if (impl->starting) { // start() is still making daemons; those made may already run
        std::lock_guard lock(impl->startErrorMutex);
        impl->startError = message;
    }
    qCWarning(lcHttp).noquote() << "libmicrohttpd:" << message;
}

void HttpServer::Impl::pushLog(HttpLogEntry entry)
{
    // The serving thread only appends; the server's thread collects on a timer. Waking it per
    // request (even per batch) cost more context switches than the requests themselves.
    std::lock_guard lock(logMutex);
    if (log.size() < maxQueuedLogEntries)
        log.push_back(std::move(entry));
}

QString HttpServer::Impl::startDaemons(int threads)
{
    const unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG
        | MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC;
    counters.threads = threads;
    startError.clear();
    starting = true;
    for (int i = 0; i < threads; ++i) {
        MHD_Daemon *daemon = MHD_start_daemon(
            flags, 0, nullptr, nullptr, &Impl::onAccess, this,
            MHD_OPTION_EXTERNAL_LOGGER, &Impl::onError, this, // first, or MHD logs the options' errors itself
            // The limit is the acceptor's; libmicrohttpd's own must never refuse what it hands over,
            // e.g. while a closing connection still counts there.
            MHD_OPTION_CONNECTION_LIMIT, unsigned(qMax(1, options.maxConnections) + 64),
            MHD_OPTION_CONNECTION_TIMEOUT, unsigned(qMax(0, options.timeoutSeconds)),
            MHD_OPTION_CONNECTION_MEMORY_LIMIT, size_t(qMax<qint64>(4096, options.connectionMemory)),
            MHD_OPTION_NOTIFY_COMPLETED, &Impl::onCompleted, this,
            MHD_OPTION_NOTIFY_CONNECTION, &Impl::onConnection, this,
            MHD_OPTION_URI_LOG_CALLBACK, &Impl::onUri, this,
            MHD_OPTION_END);
        if (!daemon)
            break;
        daemons.push_back(daemon);
    }
    starting = false;
    if (int(daemons.size()) == threads)
        return {};
    std::lock_guard lock(startErrorMutex);
    return startError.isEmpty() ? QObject::tr("libmicrohttpd refused the options") : startError;
}

void HttpServer::Impl::stopDaemons()
{
    for (MHD_Daemon *daemon : daemons)
        MHD_stop_daemon(daemon);
    daemons.clear();
}

HttpServer::HttpServer(CacheService &service, QObject *parent)
    : QObject(parent)
    , m_impl(std::make_shared<Impl>(this, service))
{
    qRegisterMetaType<HttpLogEntry>();
    m_impl->logTimer.setInterval(50);
    connect(&m_impl->logTimer, &QTimer::timeout, this, &HttpServer::flushLog);
    m_impl->sweepTimer.setInterval(1000);
    connect(&m_impl->sweepTimer, &QTimer::timeout, this, [this] {
        if (m_impl->router)
            m_impl->router->sweep();
        if (const int dropped = m_impl->deadlines.expire())
            qCInfo(lcHttp) << "dropped" << dropped << "connection(s) that sent no complete request in time";
    });
    connect(&service, &CacheService::entriesChanged, this, [this](const QList<qint64> &pks) {
        if (m_impl->router)
            m_impl->router->entriesChanged(pks);
    });
}

HttpServer::~HttpServer()
{
    stop();
}

Result<quint16> HttpServer::start(const HttpServerOptions &options)
{
    if (!m_impl->daemons.empty())
        return Error::invalid(tr("the server is already running on port %1").arg(m_impl->port));
    bool ipv6 = false;
    auto address = Acceptor::address(options.address, options.port, &ipv6);
    if (!address)
        return Error::invalid(tr("\"%1\" is not an IP address to listen on").arg(options.address));
    Impl &impl = *m_impl;
    impl.options = options;
    impl.deadlines.setTimeout(options.timeoutSeconds);
    impl.registry = std::make_shared<SuspendRegistry>();
    Acceptor::raiseDescriptorLimit();
    impl.router = std::make_unique<ApiRouter>(impl.service, options, impl.counters, impl.registry);
    const auto bound = impl.acceptor.listen(reinterpret_cast<const sockaddr *>(&*address),
                                            ipv6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in));
    if (!bound) {
        impl.router.reset();
        return Error::unavailable(tr("cannot listen on %1 port %2: %3").arg(options.address).arg(options.port).arg(bound.error().message));
    }
    static_assert(ConnectionPlacement::maxWorkers == HttpCounters::maxThreads);
    const int threads = qBound(1, options.threads, ConnectionPlacement::maxWorkers);
    if (const QString why = impl.startDaemons(threads); !why.isEmpty()) {
        const int started = int(impl.daemons.size());
        impl.acceptor.stop();
        impl.stopDaemons();
        impl.router.reset();
        return Error::unavailable(started == 0 ? tr("cannot serve on %1 port %2: %3").arg(options.address).arg(options.port).arg(why)
                                               : tr("cannot start serving thread %1 of %2: %3").arg(started + 1).arg(threads).arg(why));
    }
    impl.port = *bound;
    impl.acceptor.start([daemons = impl.daemons](int socket, const sockaddr *peer, socklen_t length, int worker) {
        // Closes the socket on failure.
        return MHD_add_connection(daemons[size_t(worker)], socket, peer, length) == MHD_YES;
    }, options.maxConnections, threads);
    impl.router->setBoundHost((ipv6 ? '[' + options.address.toLatin1() + ']' : options.address.toLatin1()) + ':'
                              + QByteArray::number(impl.port));
    impl.sweepTimer.start();
    impl.logTimer.start();
    qCInfo(lcHttp).noquote() << "listening on" << url().toString();
    return impl.port;
}

void HttpServer::stop()
{
    Impl &impl = *m_impl;
    if (impl.daemons.empty())
        return;
    // No new connections; those open keep being served while in-flight requests finish.
    impl.acceptor.stop();
    QDeadlineTimer deadline(qMax(0, impl.options.stopTimeoutMs));
    for (;;) {
        {
            std::unique_lock lock(impl.flightMutex);
            if (impl.idle.wait_for(lock, std::chrono::milliseconds(10), [&] { return impl.inFlight == 0; }))
                break;
        }
        if (deadline.hasExpired())
            break;
        // Admin requests wait for jobs started on this thread.
        QCoreApplication::processEvents(QEventLoop::AllEvents, 10);
    }
    impl.registry->resumeAllAndClose(HttpResponses::error(MHD_HTTP_SERVICE_UNAVAILABLE, "The server is shutting down."));
    impl.stopDaemons();
    impl.sweepTimer.stop();
    impl.logTimer.stop();
    impl.router.reset(); // joins its workers; their late answers go to the closed registry
    flushLog();
    qCInfo(lcHttp) << "stopped";
}

bool HttpServer::isRunning() const
{
    return !m_impl->daemons.empty();
}

quint16 HttpServer::port() const
{
    return m_impl->daemons.empty() ? 0 : m_impl->port;
}

QUrl HttpServer::url() const
{
    QUrl url;
    url.setScheme(QStringLiteral("http"));
    url.setHost(m_impl->options.address);
    url.setPort(port());
    url.setPath(QStringLiteral("/"));
    return url;
}

const HttpServerOptions &HttpServer::options() const
{
    return m_impl->options;
}

void HttpServer::connectNotify(const QMetaMethod &signal)
{
    if (signal == QMetaMethod::fromSignal(&HttpServer::requestServed))
        m_impl->logReceivers.fetch_add(1, std::memory_order_relaxed);
}

void HttpServer::disconnectNotify(const QMetaMethod &signal)
{
    // Qt also calls this with an invalid method for disconnect() of everything: recount then.
    if (!signal.isValid())
        m_impl->logReceivers.store(receivers(SIGNAL(requestServed(HttpLogEntry))), std::memory_order_relaxed);
    else if (signal == QMetaMethod::fromSignal(&HttpServer::requestServed))
        m_impl->logReceivers.fetch_sub(1, std::memory_order_relaxed);
}

void HttpServer::flushLog()
{
    std::vector<HttpLogEntry> entries;
    {
        std::lock_guard lock(m_impl->logMutex);
        if (m_impl->log.empty())
            return;
        entries.swap(m_impl->log);
    }
    const bool print = lcHttp().isInfoEnabled();
    for (const HttpLogEntry &entry : entries) {
        if (print)
            qCInfo(lcHttp).noquote() << formatLogLine(entry);
        emit requestServed(entry);
    }
}

QString formatLogLine(const HttpLogEntry &entry)
{
    // The target is the client's text: never let control characters reach a terminal.
    QByteArray target = entry.target;
    for (char &c : target) {
        if (uchar(c) < 0x20 || uchar(c) == 0x7f)
            c = '?';
    }
    return QStringLiteral("%1 \"%2 %3 %4\" %5 %6 %7 ms %8")
        .arg(QString::fromLatin1(entry.peer), QString::fromLatin1(entry.method), QString::fromUtf8(target),
             QString::fromLatin1(entry.version))
        .arg(entry.status)
        .arg(entry.bytes)
        .arg(entry.milliseconds, 0, 'f', 3)
        .arg(entry.cache.isEmpty() ? QStringLiteral("-") : QString::fromLatin1(entry.cache));
}
