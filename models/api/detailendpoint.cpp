// GET/HEAD /api/foos/<pk>/: the cached entry (memory hits answered on a serving thread, misses on the
// cache service's workers while the connection is suspended), or live on the server's own workers.
#include "detailendpoint.h"

#include "api/endpoints.h"

#include "api/drfreplies.h"
#include "api/httpstatus.h"
#include "api/negotiation.h"

#include "cache/cacheservice.h"
#include "cache/workerpool.h"
#include "db/database.h"
#include "serialize/serializer.h"

#include <QElapsedTimer>

namespace {

Reply lookupReply(ApiShared &api, const HttpRequest &request, const Result<CacheService::Lookup> &result)
{
    if (result)
        return entryReply(api, request, result->entry, cacheLabel(int(result->outcome)));
    if (result.error().kind == Error::Kind::NotFound)
        return DrfReplies::notFound();
    return serverError(result.error().message);
}

// A CacheService lookup that may answer on this thread (memory hit) or later on a worker.
struct PendingLookup {
    std::mutex mutex;
    std::optional<Result<CacheService::Lookup>> result;
    std::shared_ptr<ReplyLater> deferral;
};

// Serializes one Foo on a worker of the server's pool (X-Cache: BYPASS). The gzip copy is made only
// when the client takes it.
Reply liveReply(ApiShared &api, const HttpRequest &request, WorkerContext &context, qint64 pk)
{
    if (!context.database)
        return serverError(QStringLiteral("the database is unavailable: %1").arg(context.databaseError));
    QElapsedTimer timer;
    timer.start();
    auto body = context.serializer->foo(pk);
    if (!body) {
        if (body.error().kind == Error::Kind::NotFound)
            return DrfReplies::notFound();
        if (body.error().kind == Error::Kind::Database || body.error().kind == Error::Kind::Unavailable) {
            context.serializer.reset(); // reopened by the next task
            context.database.reset();
        }
        return serverError(body.error().message);
    }
    EntryMetadata metadata;
    metadata.cachedAt = QDateTime::currentDateTimeUtc();
    metadata.serializerVersion = Serializer::version;
    const QByteArray gzip = Negotiation::acceptsGzip(request.acceptEncoding) ? gzipCompress(*body) : QByteArray();
    const QByteArray digest = digestOf(*body);
    const EntryPtr entry = makeEntry(pk, std::move(body.value()), gzip, digest, metadata);
    api.service.telemetry().recordRequest(QStringLiteral("live"), Telemetry::Outcome::Bypass, entry->body.size(),
                                          double(timer.nsecsElapsed()) / 1e9);
    return entryReply(api, request, entry, "BYPASS");
}

} // namespace

std::optional<Reply> Endpoints::detail(const ApiSharedPtr &api, WorkerPool &pool, const ApiCall &call, qint64 pk, bool live)
{
    const HttpRequest &request = call.request;
    if (live) {
        auto deferral = call.defer();
        pool.post([api, request, deferral, pk](WorkerContext &context) {
            deferral->complete(liveReply(*api, request, context, pk));
        });
        return std::nullopt;
    }
    if (EntryPtr entry = api->service.getFromMemory(pk)) // most requests: no callback, no copy of the request
        return entryReply(*api, request, entry, "HIT");
    auto pending = std::make_shared<PendingLookup>();
    api->service.getAsync(pk, [api, request, pending](const Result<CacheService::Lookup> &result) {
        std::unique_lock lock(pending->mutex);
        if (!pending->deferral) { // still inside getAsync on the serving thread, or just after it
            pending->result = result;
            return;
        }
        lock.unlock();
        pending->deferral->complete(lookupReply(*api, request, result));
    });
    std::lock_guard lock(pending->mutex);
    if (pending->result)
        return lookupReply(*api, request, *pending->result);
    pending->deferral = call.defer();
    return std::nullopt;
}
