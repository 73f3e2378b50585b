// libmicrohttpd's callbacks, on the serving threads: connections opening and closing, the request
// target, each request from its headers to its "completed" notice, and the library's log lines.
#include "httpserverimpl.h"

#include "api/drfreplies.h"
#include "api/endpoints.h"
#include "api/httpstatus.h"
#include "http/cpuaffinity.h"
#include "http/quirks/connectionmemory.h"
#include "http/quirks/libraryanswers.h"
#include "http/quirks/requestsyntax.h"

#include <QCoreApplication>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <limits>
#include <optional>
#include <utility>

ConnectionState *ConnectionState::of(MHD_Connection *connection)
{
    const MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? static_cast<ConnectionState *>(info->socket_context) : nullptr;
}

namespace {


// Set on a serving thread once it is on its CPU (HttpServerOptions::pinThreads). A thread serves
// one daemon for its life, so it is pinned at its first connection (libmicrohttpd gives no
// earlier call on it).
thread_local bool onItsCpu = false;

// Set on a serving thread when the handler returns MHD_NO for a request it has answered itself:
// libmicrohttpd's "Application reported internal error" that follows at once is no error then.
thread_local bool answeredAndClosing = false;

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

// One pass over the request's header lines: the values the handlers read (the first line of
// each, as libmicrohttpd's lookup finds it), how many lines came of the three that must come at
// most once, and the first malformed line.
struct HeaderCensus {
    HttpRequest &request;
    const char *problem = nullptr;
    const char *previousEnd = nullptr; // where the previous line's value ends (its terminating NUL)
};

// libmicrohttpd parses the header lines in place: it writes a NUL over each colon and over each
// line's CR and LF, and hands out pointers into that buffer, in order. So a line follows the one
// before directly, one or two NULs after its value. A value it cut at a NUL of the client's
// ("Bearer <token>\0junk") or an obs-fold continuation it joined to the line's name
// ("Transfer-Encoding:\r\n chunked") leaves bytes between them: both are a 400, as nginx answers.
bool followsDirectly(const char *previousEnd, const char *key)
{
    return (key == previousEnd + 1 && previousEnd[0] == '\0')
        || (key == previousEnd + 2 && previousEnd[0] == '\0' && previousEnd[1] == '\0');
}

MHD_Result readHeader(void *cls, MHD_ValueKind, const char *key, const char *value)
{
    static constexpr std::pair<const char *, QByteArray HttpRequest::*> wanted[] = {
        { MHD_HTTP_HEADER_HOST, &HttpRequest::host },
        { MHD_HTTP_HEADER_ACCEPT, &HttpRequest::accept },
        { MHD_HTTP_HEADER_ACCEPT_ENCODING, &HttpRequest::acceptEncoding },
        { MHD_HTTP_HEADER_IF_NONE_MATCH, &HttpRequest::ifNoneMatch },
        { MHD_HTTP_HEADER_AUTHORIZATION, &HttpRequest::authorization },
        { MHD_HTTP_HEADER_CONTENT_TYPE, &HttpRequest::contentType },
        { MHD_HTTP_HEADER_TRANSFER_ENCODING, &HttpRequest::transferEncoding },
    };
    auto *census = static_cast<HeaderCensus *>(cls);
    HttpRequest &request = census->request;
    const QByteArrayView text = value ? QByteArrayView(value) : QByteArrayView("");
    if (!census->problem)
        census->problem = RequestSyntax::fieldProblem(key, text);
    if (!census->problem && census->previousEnd && !followsDirectly(census->previousEnd, key))
        census->problem = "Malformed header field value.";
    census->previousEnd = value ? value + text.size() : nullptr;
    if (qstricmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        ++request.contentLengthHeaders;
        return MHD_YES;
    }
    for (const auto &[name, field] : wanted) {
        if (qstricmp(key, name) != 0)
            continue;
        if ((request.*field).isNull())
            request.*field = QByteArray(text.data(), text.size()); // empty, not null, when sent empty
        if (field == &HttpRequest::host)
            ++request.hostHeaders;
        else if (field == &HttpRequest::transferEncoding)
            ++request.transferEncodingHeaders;
        break;
    }
    return MHD_YES;
}

// The size line of a chunked body's first chunk when it came with the headers: right after the
// header block (the last value's end, then the NULs libmicrohttpd wrote over the line ends). A size
// past 2^64 reads as the maximum. libmicrohttpd would wait for the whole chunk before a word of it
// reaches a handler (FFFFFFFFFFFFFFFF: until --timeout); nginx answers 413 at once.
std::optional<quint64> firstChunkSize(const char *lastValueEnd)
{
    const char *p = lastValueEnd;
    int nuls = 0;
    while (nuls < 4 && *p == '\0') {
        ++p;
        ++nuls;
    }
    if (nuls < 2)
        return std::nullopt;
    quint64 size = 0;
    int digits = 0;
    for (; digits < 32 && std::isxdigit(static_cast<unsigned char>(*p)); ++p, ++digits) {
        const int digit = *p <= '9' ? *p - '0' : (*p | 0x20) - 'a' + 10;
        size = size > (std::numeric_limits<quint64>::max() >> 4) ? std::numeric_limits<quint64>::max() : size * 16 + quint64(digit);
    }
    if (digits == 0 || (*p != '\r' && *p != '\n' && *p != ';'))
        return std::nullopt; // not (yet) a size line
    return size;
}

// Whether the method ends where libmicrohttpd ended it: at the NUL it wrote over the space before
// the target (which starts at `target`, after any more spaces), not at a NUL of its own ("GE\0T").
bool methodWhole(const char *method, const char *target)
{
    const char *end = method + std::strlen(method) + 1;
    while (end < target && *end == ' ')
        ++end;
    return end == target;
}

// The request target (libmicrohttpd shows it to the URI callback only) made origin-form, and why
// the method or target is malformed. From the URI callback: where the target starts and where
// libmicrohttpd ended it (the version follows at once, unless the target had a NUL of its own).
void readTarget(HttpRequest &request, const ConnectionState *state, const char *method, const char *version)
{
    if (request.target.isEmpty())
        request.target = request.path;
    const RequestSyntax::Target form = RequestSyntax::originForm(request.target, request.method);
    if (form.changed) {
        request.target = form.target;
        request.path = RequestSyntax::decodedPath(form.target);
    }
    request.authority = form.authority;
    request.syntaxProblem = RequestSyntax::methodProblem(request.method);
    if (!request.syntaxProblem && state && state->targetStart && !methodWhole(method, state->targetStart))
        request.syntaxProblem = "Malformed request method.";
    if (!request.syntaxProblem)
        request.syntaxProblem = state && state->targetEnd && version != state->targetEnd + 1 ? "Malformed request target." : form.problem;
    const qsizetype question = request.target.indexOf('?');
    if (question >= 0)
        request.query = request.target.mid(question + 1);
}

HttpLogEntry logEntryOf(const HttpExchange &exchange, bool delivered)
{
    const HttpRequest &request = exchange.request;
    return { exchange.startedAt, request.peer, request.method, request.target, request.version,
             exchange.answered ? exchange.reply.status : 0, delivered ? exchange.bodyBytes : 0,
             double(exchange.timer.nsecsElapsed()) / 1e6, exchange.reply.cache };
}

} // namespace

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
    ConnectionState *state = ConnectionState::of(connection);
    if (state) {
        // The deadline runs on until the body is in too (onAccess): --timeout bounds the whole request.
        request.target = state->target;
        request.peer = state->peer;
        request.lane = state->worker;
    }
    HeaderCensus census { request };
    MHD_get_connection_values(connection, MHD_HEADER_KIND, &readHeader, &census);
    // The last line: the empty line follows, its CR or LF a NUL too; a byte there was cut off.
    if (!census.problem && census.previousEnd && census.previousEnd[1] != '\0')
        census.problem = "Malformed header field value.";
    if (census.previousEnd && request.transferEncoding.compare("chunked", Qt::CaseInsensitive) == 0)
        request.firstChunkSize = firstChunkSize(census.previousEnd);
    readTarget(request, state, method, version);
    if (!request.syntaxProblem)
        request.syntaxProblem = census.problem;
    inFlight.fetch_add(1, std::memory_order_relaxed);
    return exchange;
}

MHD_Result HttpServer::Impl::queue(HttpExchange &exchange, const Reply &answer)
{
    exchange.reply = ApiRouter::finish(exchange.request, answer);
    const Reply &reply = exchange.reply;
    // libmicrohttpd sends the headers only for HEAD.
    exchange.bodyBytes = exchange.request.isHead() ? 0 : reply.bodyBytes();
    exchange.answered = true;
    counters.requestsByClass[size_t(qBound(1, reply.status / 100, 5))].fetch_add(1, std::memory_order_relaxed);
    counters.bodyBytes.fetch_add(exchange.bodyBytes, std::memory_order_relaxed);
    bool fromFile = false;
    const ResponsePtr response = responseFor(exchange, reply, fromFile);
    if (fromFile && !exchange.request.isHead())
        exchange.corked = setCork(exchange.connection, true);
    return MHD_queue_response(exchange.connection, unsigned(reply.status), response.get());
}

ResponsePtr HttpServer::Impl::responseFor(const HttpExchange &exchange, const Reply &reply, bool &fromFile)
{
    fromFile = false;
    if (!reply.reusable || !reply.entry)
        return MhdResponse::build(reply);
    const bool notModified = reply.status == HttpStatus::NotModified;
    const auto variant = notModified ? (reply.gzip ? ResponseCache::NotModifiedGzip : ResponseCache::NotModifiedPlain)
                                     : (reply.gzip ? ResponseCache::Gzip : ResponseCache::Plain);
    const int lane = exchange.request.lane;
    ResponseCache::Found kept = responses.find(reply.entry, variant, lane);
    if (kept.response) {
        fromFile = kept.fromFile;
        return kept.response;
    }
    const QByteArray &body = reply.payload();
    const bool file = !notModified && options.fileResponseMin >= 0 && body.size() >= options.fileResponseMin
        && (options.fileResponseMax < 0 || body.size() <= options.fileResponseMax);
    const auto memFile = file ? responses.file(reply.entry, variant, [&body] { return MhdResponse::MemFile::copyOf(body); })
                              : nullptr;
    bool sentFromFile = false;
    ResponsePtr response = MhdResponse::build(reply, memFile.get(), &sentFromFile);
    kept = responses.store(reply.entry, variant, lane, response, sentFromFile);
    fromFile = kept.fromFile;
    return kept.response;
}

// Called by libmicrohttpd: first when the headers are in (we copy what we need), then once per
// piece of body, then a final time (body complete: the answer is queued then — or the connection
// is suspended until a worker has it, and this runs again after the resume).
MHD_Result HttpServer::Impl::onAccess(void *cls, MHD_Connection *connection, const char *url, const char *method,
                                      const char *version, const char *upload, size_t *uploadSize, void **context)
{
    auto *impl = static_cast<Impl *>(cls);
    auto *exchange = static_cast<HttpExchange *>(*context);
    if (!exchange)
        return impl->onHeaders(connection, url, method, version, context);
    if (*uploadSize > 0)
        return impl->onBodyPiece(*exchange, upload, uploadSize);
    if (exchange->answered)
        return MHD_YES;
    if (!exchange->deferral) { // the request is complete, body included: no deadline while it is answered
        if (ConnectionState *state = ConnectionState::of(connection))
            RequestDeadlines::requestArrived(*state->deadline);
    }
    if (exchange->bodySeen > impl->options.bodyLimit)
        return impl->queue(*exchange, DrfReplies::error(HttpStatus::ContentTooLarge, "Request body too large."));
    if (exchange->deferral) { // resumed: a worker has left the answer
        auto reply = impl->registry->take(*exchange->deferral);
        return impl->queue(*exchange, reply ? *reply : DrfReplies::error(HttpStatus::ServiceUnavailable, "The server is shutting down."));
    }
    const ApiCall call { exchange->request, [exchange] { return exchange->defer(); } };
    auto reply = impl->router->route(call);
    if (!reply && !exchange->deferral)
        reply = serverError(QStringLiteral("no answer for %1").arg(QString::fromUtf8(exchange->request.target)));
    if (!reply)
        reply = exchange->registry->suspendUnlessDone(*exchange->deferral);
    return reply ? impl->queue(*exchange, *reply) : MHD_YES;
}

MHD_Result HttpServer::Impl::onHeaders(MHD_Connection *connection, const char *url, const char *method, const char *version,
                                       void **context)
{
    LibraryAnswers::handlerReached(connection);
    if (const ConnectionState *state = ConnectionState::of(connection); state && state->refused) {
        answeredAndClosing = true; // answered at the URI callback; libmicrohttpd closes the connection
        return MHD_NO;
    }
    HttpExchange *exchange = begin(connection, url, method, version);
    *context = exchange;
    if (auto refused = ConnectionMemory::refusal(connection, options.connectionMemory, answerHeadBytes())) {
        // Written here: libmicrohttpd would send it malformed, or not at all (ConnectionMemory).
        exchange->reply = std::move(*refused);
        exchange->answered = true;
        counters.requestsByClass[size_t(exchange->reply.status / 100)].fetch_add(1, std::memory_order_relaxed);
        exchange->sentDirectly = ConnectionMemory::answerDirectly(connection, exchange->reply, exchange->request.isHead(),
                                                                  ConnectionMemory::Then::KeepOpen);
        answeredAndClosing = true;
        return MHD_NO;
    }
    if (const char *problem = exchange->request.syntaxProblem) // answered now: the connection closes
        return queue(*exchange, DrfReplies::error(HttpStatus::BadRequest, problem));
    if (const char *problem = exchange->request.hostProblem())
        return queue(*exchange, DrfReplies::error(HttpStatus::BadRequest, problem));
    if (const auto problem = exchange->request.framingProblem()) // the body is not read: the connection closes
        return queue(*exchange, DrfReplies::error(problem->first, problem->second));
    bool number = false;
    const quint64 declared = headerOf(connection, MHD_HTTP_HEADER_CONTENT_LENGTH).toULongLong(&number);
    if (number && declared > quint64(options.bodyLimit)) // refused before a byte of it is read
        return queue(*exchange, DrfReplies::error(HttpStatus::ContentTooLarge, "Request body too large."));
    if (exchange->request.firstChunkSize.value_or(0) > quint64(options.bodyLimit))
        return queue(*exchange, DrfReplies::error(HttpStatus::ContentTooLarge, "Request body too large."));
    return MHD_YES;
}

MHD_Result HttpServer::Impl::onBodyPiece(HttpExchange &exchange, const char *upload, size_t *uploadSize)
{
    exchange.bodySeen += qint64(*uploadSize);
    const bool keep = exchange.request.method == "POST";
    if (exchange.bodySeen > options.bodyLimit) {
        // libmicrohttpd cannot answer in the middle of a body: read on (discarding) and answer 413
        // at its end, but give up on a client that keeps sending far past the limit.
        *uploadSize = 0;
        return exchange.bodySeen > 8 * options.bodyLimit ? MHD_NO : MHD_YES;
    }
    if (keep)
        exchange.request.body.append(upload, qsizetype(*uploadSize));
    *uploadSize = 0;
    return MHD_YES;
}

void HttpServer::Impl::onCompleted(void *cls, MHD_Connection *connection, void **context, MHD_RequestTerminationCode code)
{
    auto *impl = static_cast<Impl *>(cls);
    if (ConnectionState *state = ConnectionState::of(connection)) // kept alive: the next request has the same time
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
        auto *state = new ConnectionState;
        state->peer = peerOf(connection);
        state->deadline = impl->deadlines.opened(connection);
        if (const MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_DAEMON)) {
            const auto it = std::find(impl->daemons.cbegin(), impl->daemons.cend(), info->daemon);
            state->worker = it == impl->daemons.cend() ? 0 : int(it - impl->daemons.cbegin());
        }
        *socketContext = state;
        if (!onItsCpu && size_t(state->worker) < impl->workerCpus.size()) {
            onItsCpu = true;
            if (!CpuAffinity::pinCurrentThread(impl->workerCpus[size_t(state->worker)]))
                qCWarning(lcHttp) << "could not pin serving thread" << state->worker << "to CPU" << impl->workerCpus[size_t(state->worker)];
        }
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
    ConnectionState *state = ConnectionState::of(connection);
    if (state) {
        if (state->deadline)
            RequestDeadlines::requestStarted(*state->deadline);
        state->target = uri;
        state->targetStart = uri;
        state->targetEnd = uri ? uri + state->target.size() : nullptr;
    }
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
