#include "httpserverimpl.h"

#include "api/drfreplies.h"
#include "api/httpstatus.h"
#include "cache/cacheservice.h"
#include "http/cpuaffinity.h"

#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QMetaMethod>

#include <netinet/in.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>

Q_LOGGING_CATEGORY(lcHttp, "preserve.http", QtInfoMsg)

namespace {

constexpr size_t maxQueuedLogEntries = 100000; // past this (no event loop running?) entries are dropped

} // namespace

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

void HttpServer::Impl::configureResponses()
{
    // The connections come first, with a margin for the database, Redis, logs and pipes; half of
    // what is left may hold in-memory files and their responses. A low limit means no files.
    rlimit limit {};
    const qint64 open = ::getrlimit(RLIMIT_NOFILE, &limit) != 0 ? 1024
        : limit.rlim_cur == RLIM_INFINITY                       ? qint64(1) << 20
                                                                : qint64(limit.rlim_cur);
    responses.clear();
    responses.configure(options.threads, (open - options.maxConnections - 256) / 2);
}

void HttpServer::Impl::sweepResponses()
{
    MemoryTier &memory = service.memory();
    const quint64 changes = memory.mark() + quint64(memory.stats().evictions);
    if (changes == sweptAt && sinceSweep.isValid() && !sinceSweep.hasExpired(30000))
        return;
    sweptAt = changes;
    sinceSweep.start();
    responses.sweep();
}

QByteArray HttpServer::Impl::metrics() const
{
    return counters.prometheus(registry ? registry->suspendedCount() : 0)
        + "# HELP preserve_http_response_file_bytes Bytes of large cached bodies kept as in-memory files for sendfile.\n"
          "# TYPE preserve_http_response_file_bytes gauge\n"
          "preserve_http_response_file_bytes "
        + QByteArray::number(responses.fileBytes()) + '\n'
        + "# HELP preserve_http_response_file_descriptors Descriptors held (or kept free) for those files and their responses.\n"
          "# TYPE preserve_http_response_file_descriptors gauge\n"
          "preserve_http_response_file_descriptors "
        + QByteArray::number(responses.descriptors()) + '\n';
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
    // A request waits for a worker at most --timeout, whatever the worker waits on (a database
    // that does not answer, a queue behind it): then DRF's 503, and the connection goes on.
    connect(&m_impl->logTimer, &QTimer::timeout, this, [this] {
        if (!m_impl->registry)
            return;
        static const Reply late = DrfReplies::error(HttpStatus::ServiceUnavailable, "Service temporarily unavailable, try again later.");
        if (const int expired = m_impl->registry->expire(qint64(m_impl->options.timeoutSeconds) * 1000, late))
            qCWarning(lcHttp) << expired << "request(s) had no answer within" << m_impl->options.timeoutSeconds << "s: answered 503";
    });
    m_impl->sweepTimer.setInterval(1000);
    connect(&m_impl->sweepTimer, &QTimer::timeout, this, [this] {
        if (m_impl->router)
            m_impl->sweepResponses();
        if (const int dropped = m_impl->deadlines.expire())
            qCInfo(lcHttp) << "dropped" << dropped << "connection(s) that sent no complete request in time";
    });
    connect(&service, &CacheService::entriesChanged, this, [this](const QList<qint64> &pks) {
        if (!m_impl->router)
            return;
        if (pks.isEmpty())
            m_impl->responses.clear();
        for (qint64 pk : pks)
            m_impl->responses.remove(pk);
        m_impl->router->entriesChanged();
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
    impl.configureResponses();
    impl.router = std::make_unique<ApiRouter>(impl.service, options, [&impl] { return impl.metrics(); });
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
    const std::vector<int> cpus = CpuAffinity::allowed();
    impl.workerCpus = options.pinThreads && int(cpus.size()) == threads ? cpus : std::vector<int>();
    impl.acceptor.start([daemons = impl.daemons](int socket, const sockaddr *peer, socklen_t length, int worker) {
        // Closes the socket on failure.
        return MHD_add_connection(daemons[size_t(worker)], socket, peer, length) == MHD_YES;
    }, options.maxConnections, threads, impl.workerCpus, [&impl] { return impl.deadlines.reclaimIdlest(); });
    impl.router->setBoundHost((ipv6 ? '[' + options.address.toLatin1() + ']' : options.address.toLatin1()) + ':'
                              + QByteArray::number(impl.port));
    impl.sweepTimer.start();
    impl.logTimer.start();
    qCInfo(lcHttp).noquote() << "listening on" << url().toString()
                                 + (impl.workerCpus.empty() ? QString() : tr(" (a serving thread on each CPU)"));
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
    impl.registry->resumeAllAndClose(DrfReplies::error(HttpStatus::ServiceUnavailable, "The server is shutting down."));
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

int HttpServer::idleConnections() const
{
    return m_impl->deadlines.idleCount();
}

int HttpServer::openConnections() const
{
    return int(m_impl->counters.connectionsOpen.load(std::memory_order_relaxed));
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
