// GET/HEAD /api/foos/: "[" + the cached bodies joined by "," + "]" — never re-serialized — kept
// whole while no entry changes; with a page size, DRF's PageNumberPagination shape.
#include "listendpoint.h"

#include "api/endpoints.h"
#include "api/pagination.h"

#include "api/drfreplies.h"
#include "api/httpstatus.h"
#include "api/negotiation.h"

#include "cache/cacheservice.h"
#include "cache/workerpool.h"
#include "db/database.h"
#include "serialize/jsonstring.h"
#include "serialize/serializer.h"

#include <QCryptographicHash>

#include <condition_variable>

namespace {

// The worst outcome names the list: BYPASS over MISS over STALE over HIT.
int rank(Telemetry::Outcome outcome)
{
    switch (outcome) {
    case Telemetry::Outcome::Bypass: return 3;
    case Telemetry::Outcome::Miss: return 2;
    case Telemetry::Outcome::Stale: return 1;
    default: return 0;
    }
}

QByteArray splice(const std::vector<EntryPtr> &entries)
{
    qsizetype size = 2;
    for (const EntryPtr &entry : entries)
        size += entry ? entry->body.size() + 1 : 0;
    QByteArray body;
    body.reserve(size);
    body += '[';
    for (const EntryPtr &entry : entries) {
        if (!entry)
            continue;
        if (body.size() > 1)
            body += ',';
        body += entry->body;
    }
    body += ']';
    return body;
}

std::shared_ptr<SplicedList> makeSplicedList(const QList<qint64> &pks, std::vector<EntryPtr> entries)
{
    auto list = std::make_shared<SplicedList>();
    list->pks = pks;
    list->body = splice(entries);
    QCryptographicHash digests(QCryptographicHash::Sha256);
    for (const EntryPtr &entry : entries) {
        if (!entry)
            continue;
        digests.addData(entry->digest);
        if (entry->cachedAt.isValid() && (!list->lastModified.isValid() || entry->cachedAt > list->lastModified))
            list->lastModified = entry->cachedAt;
    }
    list->digest = digests.result().toHex();
    list->entries = std::move(entries);
    return list;
}

// The answer from a spliced list; null when the gzip copy the client wants is not made yet.
std::optional<Reply> listReply(const SplicedList &list, const HttpRequest &request, const QByteArray &cache, const ApiShared &api)
{
    const bool gzip = Negotiation::acceptsGzip(request.acceptEncoding);
    if (gzip && !list.gzipMade)
        return std::nullopt; // also for a 304, whose Content-Length is the gzip copy's
    Reply reply;
    reply.representation = Representation { list.digest, gzip, list.lastModified, api.options.cacheControl };
    reply.cache = cache;
    reply.gzip = gzip;
    if (Negotiation::noneMatchHits(request.ifNoneMatch, list.digest)) {
        reply.status = HttpStatus::NotModified;
        reply.headers = { { "Vary", "Accept, Accept-Encoding" } };
        reply.length = gzip ? list.gzip.size() : list.body.size();
        return reply;
    }
    reply.status = HttpStatus::Ok;
    reply.headers = DrfReplies::apiHeaders(true);
    reply.body = gzip ? list.gzip : list.body; // shared, not copied
    reply.json = list.body;
    return reply;
}

// On a serving thread: the kept list, when every entry in it is still the memory tier's.
std::optional<Reply> keptList(ApiShared &api, const HttpRequest &request, const QList<qint64> &pks)
{
    std::lock_guard lock(api.listMutex); // makeGzip() completes the list under it
    const std::shared_ptr<SplicedList> list = api.list;
    if (!list || list->pks != pks)
        return std::nullopt;
    for (size_t i = 0; i < list->entries.size(); ++i) {
        if (!list->entries[i] || api.service.memory().get(pks[qsizetype(i)]) != list->entries[i])
            return std::nullopt;
    }
    return listReply(*list, request, "HIT", api);
}

// Compressed outside the lock (20 MB take a while); two racing requests may both compress, one wins.
void makeGzip(SplicedList &list, ApiShared &api)
{
    {
        std::lock_guard lock(api.listMutex);
        if (list.gzipMade)
            return;
    }
    QByteArray gzip = gzipCompress(list.body);
    std::lock_guard lock(api.listMutex);
    if (list.gzipMade)
        return;
    list.gzip = std::move(gzip);
    list.gzipMade = true;
}

} // namespace

Result<GatheredEntries> gatherEntries(CacheService &service, WorkerContext &context, const QList<qint64> &pks)
{
    struct State {
        std::mutex mutex;
        std::condition_variable done;
        qsizetype remaining = 0;
        GatheredEntries result;
        std::optional<Error> error;
    };
    auto state = std::make_shared<State>();
    state->result.entries.resize(size_t(pks.size()));
    // Memory first, then the store in bulk on this worker's connections; only what neither has
    // fresh goes through getAsync one by one (the store again, then cache on read).
    QList<qsizetype> missing;
    for (qsizetype i = 0; i < pks.size(); ++i) {
        if (EntryPtr entry = service.getFromMemory(pks[i]))
            state->result.entries[size_t(i)] = std::move(entry);
        else
            missing << i;
    }
    if (missing.size() > 1) {
        QList<qint64> missingPks;
        for (const qsizetype i : std::as_const(missing))
            missingPks << pks[i];
        const QHash<qint64, EntryPtr> stored = service.freshStored(context, missingPks);
        missing.removeIf([&](qsizetype i) {
            EntryPtr entry = stored.value(pks[i]);
            state->result.entries[size_t(i)] = entry;
            return bool(entry);
        });
    }
    state->remaining = missing.size();
    for (const qsizetype i : std::as_const(missing)) {
        service.getAsync(pks[i], [state, i](const Result<CacheService::Lookup> &lookup) {
            std::lock_guard lock(state->mutex);
            if (lookup) {
                state->result.entries[size_t(i)] = lookup->entry;
                if (rank(lookup->outcome) > rank(Telemetry::Outcome(state->result.outcome)))
                    state->result.outcome = int(lookup->outcome);
            } else if (lookup.error().kind != Error::Kind::NotFound && !state->error) {
                state->error = lookup.error(); // a Foo deleted meanwhile is left out, as DRF would
            }
            if (--state->remaining == 0)
                state->done.notify_all();
        });
    }
    std::unique_lock lock(state->mutex);
    state->done.wait(lock, [&] { return state->remaining == 0; });
    if (state->error)
        return *state->error;
    return state->result;
}

Result<QList<qint64>> currentPks(ApiShared &api, WorkerContext &context, bool live)
{
    if (!live) {
        if (auto pks = api.freshPks())
            return *pks;
    }
    Result<QList<qint64>> ids = context.database ? context.database->fooIds()
                                                 : Result<QList<qint64>>(Error::unavailable(context.databaseError));
    if (ids) {
        api.setPks(*ids);
        return ids;
    }
    if (context.database && (ids.error().kind == Error::Kind::Database || ids.error().kind == Error::Kind::Unavailable)) {
        context.serializer.reset();
        context.database.reset();
    }
    std::lock_guard lock(api.listMutex); // the database is down: serve the Foos we knew of
    if (!live && api.pksKnown)
        return api.pks;
    return ids.error();
}

// On a worker: the pks, the entries, the splice, the gzip copy — whatever is missing.
Reply buildList(ApiShared &api, const HttpRequest &request, WorkerContext &context, bool live)
{
    const auto pks = currentPks(api, context, live);
    if (!pks)
        return serverError(pks.error().message);
    if (api.options.pageSize > 0)
        return pagedList(api, request, context, *pks, live);
    if (live) {
        auto body = context.serializer->list();
        if (!body)
            return serverError(body.error().message);
        const bool gzip = Negotiation::acceptsGzip(request.acceptEncoding);
        const EntryPtr entry = makeEntry(0, std::move(body.value()), gzip ? gzipCompress(*body) : QByteArray(),
                                         digestOf(*body), EntryMetadata { QDateTime::currentDateTimeUtc(), Serializer::version, {}, 0, -1, false });
        return entryReply(api, request, entry, "BYPASS");
    }
    auto gathered = gatherEntries(api.service, context, *pks);
    if (!gathered)
        return serverError(gathered.error().message);
    std::shared_ptr<SplicedList> list;
    {
        std::lock_guard lock(api.listMutex);
        if (api.list && api.list->pks == *pks && api.list->entries == gathered->entries)
            list = api.list;
    }
    if (!list) {
        list = makeSplicedList(*pks, std::move(gathered->entries));
        std::lock_guard lock(api.listMutex);
        api.list = list;
    }
    const QByteArray cache = cacheLabel(gathered->outcome);
    if (Negotiation::acceptsGzip(request.acceptEncoding))
        makeGzip(*list, api);
    std::lock_guard lock(api.listMutex);
    return *listReply(*list, request, cache, api);
}

std::optional<Reply> Endpoints::list(const ApiSharedPtr &api, WorkerPool &pool, const ApiCall &call, bool live)
{
    const HttpRequest &request = call.request;
    if (!live && api->options.pageSize <= 0) {
        if (auto pks = api->freshPks()) {
            if (auto reply = keptList(*api, request, *pks))
                return reply;
        }
    }
    auto deferral = call.defer();
    pool.post([api, request, deferral, live](WorkerContext &context) {
        deferral->complete(buildList(*api, request, context, live));
    });
    return std::nullopt;
}
