// The URL conf and what every endpoint shares: entry answers, the pk list, error bodies.
#include "apicontext.h"

#include "cache/cacheservice.h"
#include "cache/workerpool.h"
#include "serialize/jsonstring.h"

#include <QLoggingCategory>

#include <algorithm>

#include <microhttpd.h>

#include <sys/resource.h>

Q_DECLARE_LOGGING_CATEGORY(lcHttp)

namespace {

// A pk as Django's `<int:pk>` takes it from the URL: ASCII digits only (`[0-9]+`, leading zeros
// allowed); a sign, space or anything else finds no Foo (`/api/foos/+1/` is a 404, not Foo 1).
std::optional<qint64> primaryKey(const QByteArray &segment)
{
    if (segment.isEmpty() || !std::all_of(segment.cbegin(), segment.cend(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    bool ok = false;
    const qint64 pk = segment.toLongLong(&ok);
    return ok ? std::optional<qint64>(pk) : std::nullopt;
}

// Django's APPEND_SLASH: the same target with a slash after the path, query kept.
Reply appendSlash(const HttpRequest &request)
{
    const qsizetype question = request.target.indexOf('?');
    const QByteArray path = question < 0 ? request.target : request.target.left(question);
    const QByteArray location = path + '/' + (question < 0 ? QByteArray() : request.target.mid(question));
    ResponsePtr response = HttpResponses::empty();
    HttpResponses::addHeader(response, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
    HttpResponses::addHeader(response, MHD_HTTP_HEADER_LOCATION, location);
    // Django's SecurityMiddleware adds these to the redirect too (CommonMiddleware answers before
    // the view, so there is no X-Frame-Options or Allow).
    HttpResponses::addHeader(response, "X-Content-Type-Options", "nosniff");
    HttpResponses::addHeader(response, "Referrer-Policy", "same-origin");
    return { MHD_HTTP_MOVED_PERMANENTLY, response, {}, 0, false, {} };
}

} // namespace

ApiShared::ApiShared(CacheService &cacheService, HttpServerOptions serverOptions, HttpCounters &httpCounters,
                     std::shared_ptr<SuspendRegistry> suspendRegistry)
    : service(cacheService)
    , options(std::move(serverOptions))
    , style { options.cacheControl }
    , counters(httpCounters)
    , registry(std::move(suspendRegistry))
{
    // The connections come first, with a margin for the database, Redis, logs and pipes; half of
    // what is left may hold in-memory files and their responses. A low limit means no files.
    rlimit limit {};
    const qint64 open = ::getrlimit(RLIMIT_NOFILE, &limit) != 0 ? 1024
        : limit.rlim_cur == RLIM_INFINITY                       ? qint64(1) << 20
                                                                : qint64(limit.rlim_cur);
    responses.configure(options.threads, (open - options.maxConnections - 256) / 2);
}

std::optional<QList<qint64>> ApiShared::freshPks()
{
    std::lock_guard lock(listMutex);
    if (!pksKnown || pksAge.hasExpired(1000))
        return std::nullopt;
    return pks;
}

QByteArray ApiShared::defaultHost()
{
    std::lock_guard lock(listMutex);
    return boundHost;
}

void ApiShared::setPks(QList<qint64> ids)
{
    std::lock_guard lock(listMutex);
    pks = std::move(ids);
    pksKnown = true;
    pksAge.start();
}

void ApiShared::entriesChanged()
{
    std::lock_guard lock(listMutex);
    pksAge.invalidate();
}

QByteArray cacheLabel(int outcome)
{
    switch (Telemetry::Outcome(outcome)) {
    case Telemetry::Outcome::Hit: return "HIT";
    case Telemetry::Outcome::Miss: return "MISS";
    case Telemetry::Outcome::Stale: return "STALE";
    case Telemetry::Outcome::Bypass: return "BYPASS";
    case Telemetry::Outcome::Error: break;
    }
    return "MISS";
}

Reply serverError(const QString &reason)
{
    qCWarning(lcHttp).noquote() << "answering 500:" << reason;
    return HttpResponses::error(MHD_HTTP_INTERNAL_SERVER_ERROR, "A server error occurred.");
}

Reply entryReply(ApiShared &api, const HttpRequest &request, const EntryPtr &entry, const QByteArray &cache)
{
    using namespace HttpResponses;
    const bool hit = cache == "HIT" && entry->pk > 0; // pages and lists (pk 0) are not kept here
    const bool gzip = !entry->gzip.isEmpty() && acceptsGzip(request.acceptEncoding);
    const bool notModified = noneMatchHits(request.ifNoneMatch, entry->digest);
    const auto variant = notModified ? (gzip ? ResponseCache::NotModifiedGzip : ResponseCache::NotModifiedPlain)
                                     : (gzip ? ResponseCache::Gzip : ResponseCache::Plain);
    const QByteArray &body = gzip ? entry->gzip : entry->body;
    const HttpServerOptions &options = api.options;
    const bool file = hit && !notModified && options.fileResponseMin >= 0 && body.size() >= options.fileResponseMin
        && (options.fileResponseMax < 0 || body.size() <= options.fileResponseMax);
    ResponseCache::Found kept = hit ? api.responses.find(entry, variant, request.lane) : ResponseCache::Found {};
    ResponsePtr response = kept.response;
    bool fromFile = kept.fromFile;
    if (!response) {
        if (file) {
            const auto memFile = api.responses.file(entry, variant, [&body] { return MemFile::copyOf(body); });
            response = memFile ? HttpResponses::fromFile(*memFile) : nullptr;
        }
        fromFile = bool(response);
        if (!response)
            response = notModified ? HttpResponses::notModified(body.size()) : fromEntry(entry, gzip);
        if (notModified)
            addHeader(response, "Vary", "Accept, Accept-Encoding");
        else
            addApiHeaders(response, true);
        addRepresentationHeaders(response, { entityTag(entry->digest, gzip), entry->cachedAt, cache, gzip && !notModified },
                                 api.style);
        if (hit) {
            kept = api.responses.store(entry, variant, request.lane, response, fromFile);
            response = kept.response;
            fromFile = kept.fromFile;
        }
    }
    const qint64 bytes = notModified ? 0 : body.size();
    return { notModified ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK, response, cache, bytes, fromFile,
             notModified ? QByteArray() : entry->body };
}

ApiRouter::ApiRouter(CacheService &service, const HttpServerOptions &options, HttpCounters &counters,
                     std::shared_ptr<SuspendRegistry> registry)
    : m_api(std::make_shared<ApiShared>(service, options, counters, std::move(registry)))
    , m_pool(std::make_unique<WorkerPool>(service.config().database, service.config().store, qMax(1, options.liveWorkers)))
{
}

ApiRouter::~ApiRouter() = default;

std::optional<Reply> ApiRouter::route(HttpExchange &exchange)
{
    const HttpRequest &request = exchange.request;
    const QByteArray &path = request.path;
    if (path == "/metrics" || path == "/healthz") {
        if (!request.isGetOrHead())
            return HttpResponses::methodNotAllowed(request.method);
        return path == "/metrics" ? Endpoints::metrics(m_api, m_api->registry->suspendedCount())
                                  : Endpoints::health(m_api, *m_pool, exchange);
    }
    if (m_api->options.metricsOnly)
        return HttpResponses::notFound();
    if (path == "/api/foos" || path.startsWith("/api/foos/"))
        return routeFoos(exchange, path.mid(9));
    if (!m_api->options.adminToken.isEmpty()) {
        if (path == "/api/refresh" || path == "/api/status")
            return appendSlash(request);
        if (path == "/api/refresh/")
            return Endpoints::admin(m_api, *m_pool, exchange, "refresh-many", 0);
        if (path == "/api/status/")
            return Endpoints::admin(m_api, *m_pool, exchange, "status", 0);
        if (path.startsWith("/api/impact/")) {
            // "/api/impact/baz/17/" → "baz", "17", ""
            const QList<QByteArray> parts = path.mid(12).split('/');
            const auto id = parts.size() >= 2 ? primaryKey(parts[1]) : std::nullopt;
            if (parts.size() < 2 || parts.size() > 3 || !nodeLevelNamed(QString::fromLatin1(parts[0])) || !id)
                return HttpResponses::notFound();
            if (parts.size() == 2)
                return appendSlash(request);
            if (!parts[2].isEmpty())
                return HttpResponses::notFound();
            return Endpoints::admin(m_api, *m_pool, exchange, "impact-" + parts[0].toLower(), *id);
        }
    }
    return HttpResponses::notFound();
}

// `rest` is what follows "/api/foos": "", "/", "/<pk>", "/<pk>/", "/<pk>/refresh/", …
std::optional<Reply> ApiRouter::routeFoos(HttpExchange &exchange, const QByteArray &rest)
{
    const HttpRequest &request = exchange.request;
    const QList<QByteArray> parts = rest.split('/'); // "/1/" → "", "1", ""
    const bool admin = !m_api->options.adminToken.isEmpty();
    if (!rest.endsWith('/')) {
        const bool known = parts.size() <= 2
            || (admin && parts.size() == 3 && (parts[2] == "refresh" || parts[2] == "cache" || parts[2] == "rollback"));
        return known ? appendSlash(request) : HttpResponses::notFound();
    }
    if (parts.size() == 4 && admin && (parts[2] == "refresh" || parts[2] == "cache" || parts[2] == "rollback")) {
        const auto pk = primaryKey(parts[1]);
        if (!pk)
            return HttpResponses::notFound();
        return Endpoints::admin(m_api, *m_pool, exchange,
                                parts[2] == "refresh" ? "refresh" : parts[2] == "cache" ? "invalidate" : "rollback", *pk);
    }
    if (parts.size() > 3)
        return HttpResponses::notFound();
    const bool isList = parts.size() == 2;
    // DRF negotiates the renderer first thing in the view: a client that takes no JSON gets 406,
    // before a 405 for the method or a 404 for the pk.
    // `?format=` (DRF's URL_FORMAT_OVERRIDE) picks a renderer by name: anything but ours is a 404.
    if (const auto format = request.queryValue("format"); format && !format->isEmpty() && *format != "json")
        return HttpResponses::notFound();
    if (!HttpResponses::acceptsJson(request.accept))
        return HttpResponses::notAcceptable();
    if (request.method == "OPTIONS")
        return Endpoints::options(request, isList);
    if (!request.isGetOrHead())
        return HttpResponses::methodNotAllowed(request.method);
    const CachePolicy policy = m_api->options.policy;
    if (isList)
        return Endpoints::list(m_api, *m_pool, exchange, policy == CachePolicy::Live);
    const auto pk = primaryKey(parts[1]);
    if (!pk)
        return HttpResponses::notFound();
    bool live = policy != CachePolicy::Cached;
    if (admin && request.queryValue("cache") == QByteArray("skip")) {
        if (auto refused = Endpoints::authenticate(*m_api, request))
            return refused;
        live = true;
    }
    return Endpoints::detail(m_api, *m_pool, exchange, *pk, live);
}

void ApiRouter::entriesChanged(const QList<qint64> &pks)
{
    if (pks.isEmpty())
        m_api->responses.clear();
    for (qint64 pk : pks)
        m_api->responses.remove(pk);
    m_api->entriesChanged();
}

void ApiRouter::setBoundHost(const QByteArray &host)
{
    std::lock_guard lock(m_api->listMutex);
    m_api->boundHost = host;
}

void ApiRouter::sweep()
{
    MemoryTier &memory = m_api->service.memory();
    const quint64 changes = memory.mark() + quint64(memory.stats().evictions);
    if (changes == m_sweptAt && m_sinceSweep.isValid() && !m_sinceSweep.hasExpired(30000))
        return;
    m_sweptAt = changes;
    m_sinceSweep.start();
    m_api->responses.sweep();
}

Reply metadataReply(const QByteArray &viewName, const char *allow)
{
    QByteArray body = "{\"name\":";
    appendJsonString(body, viewName);
    body += ",\"description\":\"\",\"renders\":[\"application/json\"],\"parses\":[\"application/json\","
            "\"application/x-www-form-urlencoded\",\"multipart/form-data\"]}";
    return HttpResponses::json(MHD_HTTP_OK, body, allow);
}

std::optional<Reply> Endpoints::options(const HttpRequest &request, bool list)
{
    Q_UNUSED(request);
    // What DRF's SimpleMetadata answers for a read-only view (no "actions": no POST/PUT allowed).
    return metadataReply(list ? "Foo List" : "Foo Instance", "GET, HEAD, OPTIONS");
}

std::optional<Reply> Endpoints::metrics(const ApiSharedPtr &api, int waiting)
{
    QByteArray body = api->service.telemetry().prometheus();
    body += api->counters.prometheus(waiting);
    body += "# HELP preserve_http_response_file_bytes Bytes of large cached bodies kept as in-memory files for sendfile.\n"
            "# TYPE preserve_http_response_file_bytes gauge\n"
            "preserve_http_response_file_bytes "
        + QByteArray::number(api->responses.fileBytes()) + '\n'
        + "# HELP preserve_http_response_file_descriptors Descriptors held (or kept free) for those files and their responses.\n"
          "# TYPE preserve_http_response_file_descriptors gauge\n"
          "preserve_http_response_file_descriptors "
        + QByteArray::number(api->responses.descriptors()) + '\n';
    const qint64 size = body.size();
    ResponsePtr response = HttpResponses::fromBytes(std::move(body));
    HttpResponses::addHeader(response, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
    return Reply { MHD_HTTP_OK, response, {}, size, false, {} };
}
