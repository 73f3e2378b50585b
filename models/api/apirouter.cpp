// The URL conf: which endpoint answers which request.
#include "apirouter.h"

#include "api/adminendpoints.h"
#include "api/detailendpoint.h"
#include "api/drfreplies.h"
#include "api/endpoints.h"
#include "api/listendpoint.h"
#include "api/negotiation.h"
#include "cache/cacheservice.h"
#include "cache/workerpool.h"

#include <algorithm>

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

} // namespace

ApiRouter::ApiRouter(CacheService &service, const ApiOptions &options, std::function<QByteArray()> transportMetrics)
    : m_api(std::make_shared<ApiShared>(service, options, std::move(transportMetrics)))
    , m_pool(std::make_unique<WorkerPool>(service.config().database, service.config().store, qMax(1, options.liveWorkers)))
{
    // The list's Foo ids, read once now rather than by the first request for it: on wide that
    // read walks the Foo table, about 100 ms that the first page took on top of its own 2 ms.
    // A list served live reads them with every request anyway.
    if (!options.metricsOnly && options.policy != CachePolicy::Live) {
        m_pool->post([api = m_api](WorkerContext &context) {
            if (!api->closing && !api->freshPks())
                (void)currentPks(*api, context, false); // a failure is the first request's to report
        });
    }
}

ApiRouter::~ApiRouter()
{
    m_api->closing = true; // before the pool drains its queue
}

std::optional<Reply> ApiRouter::route(const ApiCall &call)
{
    const HttpRequest &request = call.request;
    const QByteArray &path = request.path;
    if (path == "/metrics" || path == "/healthz") {
        if (!request.isGetOrHead())
            return DrfReplies::methodNotAllowed(request.method);
        return path == "/metrics" ? Endpoints::metrics(m_api)
                                  : Endpoints::health(m_api, *m_pool, call);
    }
    if (m_api->options.metricsOnly)
        return DrfReplies::notFound();
    if (path == "/api/foos" || path.startsWith("/api/foos/"))
        return routeFoos(call, path.mid(9));
    if (!m_api->options.adminToken.isEmpty()) {
        if (path == "/api/refresh" || path == "/api/status")
            return DrfReplies::appendSlash(request.target);
        if (path == "/api/refresh/")
            return Endpoints::admin(m_api, *m_pool, call, "refresh-many", 0);
        if (path == "/api/status/")
            return Endpoints::admin(m_api, *m_pool, call, "status", 0);
        if (path.startsWith("/api/impact/")) {
            // "/api/impact/baz/17/" → "baz", "17", ""
            const QList<QByteArray> parts = path.mid(12).split('/');
            const auto id = parts.size() >= 2 ? primaryKey(parts[1]) : std::nullopt;
            if (parts.size() < 2 || parts.size() > 3 || !nodeLevelNamed(QString::fromLatin1(parts[0])) || !id)
                return DrfReplies::notFound();
            if (parts.size() == 2)
                return DrfReplies::appendSlash(request.target);
            if (!parts[2].isEmpty())
                return DrfReplies::notFound();
            return Endpoints::admin(m_api, *m_pool, call, "impact-" + parts[0].toLower(), *id);
        }
    }
    return DrfReplies::notFound();
}

// `rest` is what follows "/api/foos": "", "/", "/<pk>", "/<pk>/", "/<pk>/refresh/", …
std::optional<Reply> ApiRouter::routeFoos(const ApiCall &call, const QByteArray &rest)
{
    const HttpRequest &request = call.request;
    const QList<QByteArray> parts = rest.split('/'); // "/1/" → "", "1", ""
    const bool admin = !m_api->options.adminToken.isEmpty();
    if (!rest.endsWith('/')) {
        const bool known = parts.size() <= 2
            || (admin && parts.size() == 3 && (parts[2] == "refresh" || parts[2] == "cache" || parts[2] == "rollback"));
        return known ? DrfReplies::appendSlash(request.target) : DrfReplies::notFound();
    }
    if (parts.size() == 4 && admin && (parts[2] == "refresh" || parts[2] == "cache" || parts[2] == "rollback")) {
        const auto pk = primaryKey(parts[1]);
        if (!pk)
            return DrfReplies::notFound();
        return Endpoints::admin(m_api, *m_pool, call,
                                parts[2] == "refresh" ? "refresh" : parts[2] == "cache" ? "invalidate" : "rollback", *pk);
    }
    if (parts.size() > 3)
        return DrfReplies::notFound();
    const bool isList = parts.size() == 2;
    // DRF negotiates the renderer first thing in the view: a client that takes no JSON gets 406,
    // before a 405 for the method or a 404 for the pk.
    // `?format=` (DRF's URL_FORMAT_OVERRIDE) picks a renderer by name: anything but ours is a 404.
    if (const auto format = request.queryValue("format"); format && !format->isEmpty() && *format != "json")
        return DrfReplies::notFound();
    if (!Negotiation::acceptsJson(request.accept))
        return DrfReplies::notAcceptable();
    if (request.method == "OPTIONS")
        return Endpoints::options(request, isList);
    if (!request.isGetOrHead())
        return DrfReplies::methodNotAllowed(request.method);
    const CachePolicy policy = m_api->options.policy;
    if (isList)
        return Endpoints::list(m_api, *m_pool, call, policy == CachePolicy::Live);
    const auto pk = primaryKey(parts[1]);
    if (!pk)
        return DrfReplies::notFound();
    bool live = policy != CachePolicy::Cached;
    if (admin && request.queryValue("cache") == QByteArray("skip")) {
        if (auto refused = Endpoints::authenticate(*m_api, request))
            return refused;
        live = true;
    }
    return Endpoints::detail(m_api, *m_pool, call, *pk, live);
}

Reply ApiRouter::finish(const HttpRequest &request, const Reply &reply)
{
    // DRF pretty-prints for `Accept: application/json; indent=N`: rare, so built per request.
    const QByteArray &accept = request.accept;
    const int indent = reply.json.isEmpty() || !accept.contains('=') ? 0 : Negotiation::acceptedIndent(accept);
    return indent > 0 ? DrfReplies::indented(reply, indent, request.ifNoneMatch) : reply;
}

void ApiRouter::entriesChanged()
{
    m_api->entriesChanged();
}

void ApiRouter::setBoundHost(const QByteArray &host)
{
    std::lock_guard lock(m_api->listMutex);
    m_api->boundHost = host;
}
