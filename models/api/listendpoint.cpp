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
#include "core/largebuffer.h"
#include "db/database.h"
#include "serialize/jsonstring.h"
#include "serialize/serializer.h"


#include <condition_variable>
#include <limits>

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

// Splices the list a chunk of entries at a time: in memory while it stays within `holdMax` bytes
// (its entries kept, for keptList()), in a temporary file past that, keeping no entry: the process
// then holds one chunk at a time, however long the list. Wide's 100,000 Foos made a 468 MB copy
// held beside the entries it came from: 1.1-1.4 GB outside the memory tier's budget.
class ListSplicer {
public:
    explicit ListSplicer(qint64 holdMax)
        : m_holdMax(holdMax)
    {
    }

    // Entries in pk order, null for a Foo that does not exist (left out, as DRF would).
    Status add(std::vector<EntryPtr> entries)
    {
        for (EntryPtr &entry : entries) {
            if (entry) {
                m_identity.add(*entry);
                if (auto appended = append(m_started ? "," : "[", entry->body); !appended)
                    return appended;
                m_started = true;
            }
            if (!m_file)
                m_entries.push_back(std::move(entry));
        }
        return success();
    }

    bool inFile() const { return bool(m_file); }

    Result<std::shared_ptr<SplicedList>> finish(const QList<qint64> &pks)
    {
        if (auto appended = append(m_started ? "]" : "[]", {}); !appended)
            return appended.error();
        if (m_file) {
            if (auto written = m_file->finish(); !written)
                return written.error();
        }
        m_body.squeeze(); // grown twofold at a time: up to twice its size held for as long as it is kept
        auto list = std::make_shared<SplicedList>();
        list->pks = pks;
        list->entries = std::move(m_entries);
        list->body = std::move(m_body);
        list->file = std::move(m_file);
        list->digest = m_identity.digest();
        list->lastModified = m_identity.lastModified();
        return list;
    }

private:
    Status append(QByteArrayView separator, QByteArrayView body)
    {
        const qsizetype more = separator.size() + body.size();
        if (!m_file && m_body.size() + more > m_holdMax) {
            auto file = SpillFile::create();
            if (!file) {
                // Served as before, from memory: a list that costs memory beats no list.
                qCWarning(lcApi).noquote() << "holding the list in memory past half the memory tier:" << file.error().message;
                m_holdMax = std::numeric_limits<qint64>::max();
                return append(separator, body);
            }
            m_file = std::move(*file);
            if (auto moved = m_file->append(m_body); !moved)
                return moved;
            m_body = QByteArray();
            m_entries = {};
        }
        if (m_file) {
            if (auto appended = m_file->append(separator); !appended)
                return appended;
            return m_file->append(body);
        }
        reserveLarge(m_body, more);
        m_body.append(separator);
        m_body.append(body);
        return success();
    }

    qint64 m_holdMax;
    bool m_started = false;
    std::vector<EntryPtr> m_entries;
    QByteArray m_body;
    std::unique_ptr<SpillFile> m_file;
    ListIdentity m_identity;
};

// The answer from a spliced list; null when the gzip copy the client wants is not made yet.
// An answer ApiRouter::finish() will indent (`Accept: application/json; indent=N`): sent without
// gzip whatever Accept-Encoding says, so no gzip copy is made for it.
bool indentAsked(const HttpRequest &request)
{
    return request.accept.contains('=') && Negotiation::acceptedIndent(request.accept) > 0;
}

std::optional<Reply> listReply(const SplicedList &list, const HttpRequest &request, const QByteArray &cache, const ApiShared &api)
{
    const bool gzip = Negotiation::acceptsGzip(request.acceptEncoding) && !indentAsked(request);
    if (gzip && !list.gzipMade)
        return std::nullopt; // also for a 304, whose Content-Length is the gzip copy's
    Reply reply;
    reply.representation = Representation { list.digest, gzip, list.lastModified, api.options.cacheControl };
    reply.cache = cache;
    reply.gzip = gzip;
    if (Negotiation::noneMatchHits(request.ifNoneMatch, list.digest)) {
        reply.status = HttpStatus::NotModified;
        reply.headers = { { "Vary", "Accept, Accept-Encoding" } };
        if (list.file)
            reply.length = gzip ? list.gzipFile->size() : list.file->size();
        else
            reply.length = gzip ? list.gzip.size() : list.body.size();
        return reply;
    }
    reply.status = HttpStatus::Ok;
    reply.headers = DrfReplies::apiHeaders(true);
    reply.body = gzip ? list.gzip : list.body; // shared, not copied
    reply.file = gzip ? list.gzipFile : list.file;
    reply.json = list.body; // a list in a file: read by buildList() only when asked for indented
    return reply;
}

// On a serving thread: the kept list, when every entry in it is still the memory tier's.
std::optional<Reply> keptList(ApiShared &api, const HttpRequest &request, const QList<qint64> &pks)
{
    std::lock_guard lock(api.listMutex); // makeGzip() completes the list under it
    const std::shared_ptr<SplicedList> list = api.list;
    if (!list || list->file || list->pks != pks) // a list in a file holds no entries to check
        return std::nullopt;
    for (size_t i = 0; i < list->entries.size(); ++i) {
        if (!list->entries[i] || api.service.memory().get(pks[qsizetype(i)]) != list->entries[i])
            return std::nullopt;
    }
    return listReply(*list, request, "HIT", api);
}

// Compressed outside the lock (20 MB take a while); two racing requests may both compress, one wins.
Status makeGzip(SplicedList &list, ApiShared &api)
{
    {
        std::lock_guard lock(api.listMutex);
        if (list.gzipMade)
            return success();
    }
    QByteArray gzip;
    std::shared_ptr<const SpillFile> file;
    if (list.file) {
        auto made = gzipCompressFile(*list.file);
        if (!made)
            return made.error();
        file = std::move(*made);
    } else {
        gzip = gzipCompress(list.body);
    }
    std::lock_guard lock(api.listMutex);
    if (list.gzipMade)
        return success();
    list.gzip = std::move(gzip);
    list.gzipFile = std::move(file);
    list.gzipMade = true;
    return success();
}

} // namespace

Result<GatheredEntries> gatherEntries(CacheService &service, WorkerContext &context, const QList<qint64> &pks,
                                      bool keep)
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
        const QHash<qint64, EntryPtr> stored = service.freshStored(context, missingPks, keep);
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
    Result<QList<qint64>> ids = Error::unavailable(context.databaseError);
    if (context.database) {
        Database &database = *context.database;
        std::optional<ReadSnapshot> snapshot; // the ids and the mark they hold in
        std::optional<Database::ChangeMark> mark;
        if (database.commitsKeepReadersOut()) {
            snapshot.emplace(database);
            mark = database.snapshotChangeMark();
            if (mark && !live) {
                if (auto kept = api.pksUnchangedSince(database, *mark))
                    return *kept;
            }
        }
        ids = database.fooIds();
        if (ids) {
            api.setPks(*ids, mark);
            return ids;
        }
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

namespace {

// The whole list, a chunk of `ApiOptions::listChunk` Foos at a time (a long list never has all its
// entries in memory at once): each chunk's entries, in pk order, go to `take`. `keep()`, asked per
// chunk, says whether the store's answers for it are kept in the memory tier.
Status gatherInChunks(ApiShared &api, WorkerContext &context, const QList<qint64> &pks, int &outcome,
                      const std::function<bool()> &keep,
                      const std::function<Status(qsizetype, std::vector<EntryPtr>)> &take)
{
    const qsizetype chunk = qMax(1, api.options.listChunk);
    for (qsizetype from = 0; from < pks.size(); from += chunk) {
        auto gathered = gatherEntries(api.service, context, pks.mid(from, chunk), keep());
        if (!gathered)
            return gathered.error();
        if (rank(Telemetry::Outcome(gathered->outcome)) > rank(Telemetry::Outcome(outcome)))
            outcome = gathered->outcome;
        if (auto taken = take(from, std::move(gathered->entries)); !taken)
            return taken;
    }
    return success();
}

// Whether the entries now are those `kept` (a list in a file) was spliced from: their digests and
// newest cachedAt, without writing anything. Nothing read is kept in the memory tier.
Result<bool> fileListStillHolds(ApiShared &api, WorkerContext &context, const SplicedList &kept, int &outcome)
{
    ListIdentity identity;
    const Status gathered = gatherInChunks(
        api, context, kept.pks, outcome, [] { return false; },
        [&](qsizetype, std::vector<EntryPtr> entries) {
            for (const EntryPtr &entry : entries) {
                if (entry)
                    identity.add(*entry);
            }
            return success();
        });
    if (!gathered)
        return gathered.error();
    return identity.digest() == kept.digest && identity.lastModified() == kept.lastModified;
}

// The list to answer with: the kept one while its entries are the same, else spliced anew (and
// kept). A list held in memory is compared entry by entry as it is gathered, and not spliced again
// when every entry is the kept one's; a list in a file is first checked by its digests alone, and
// written again only when it changed.
Result<std::shared_ptr<SplicedList>> currentList(ApiShared &api, WorkerContext &context, const QList<qint64> &pks,
                                                 int &outcome)
{
    std::shared_ptr<SplicedList> kept;
    std::vector<EntryPtr> keptEntries; // a copy: another worker may renew them under the lock
    {
        std::lock_guard lock(api.listMutex);
        if (api.list && api.list->pks == pks) {
            kept = api.list;
            keptEntries = kept->entries;
        }
    }
    const bool keptInFile = kept && kept->file;
    if (keptInFile) {
        auto holds = fileListStillHolds(api, context, *kept, outcome);
        if (!holds)
            return holds.error();
        if (*holds)
            return kept;
        outcome = int(Telemetry::Outcome::Hit);
    }
    // While every entry so far is the kept in-memory list's, the entries wait here unspliced.
    bool sameEntries = kept && !keptInFile && keptEntries.size() == size_t(pks.size());
    std::vector<EntryPtr> waiting;
    ListSplicer splicer(api.service.memory().stats().capacity / 2);
    const Status gathered = gatherInChunks(
        api, context, pks, outcome,
        // A list that was in a file will be again: what the store answers for it is not kept.
        [&] { return !keptInFile && !splicer.inFile(); },
        [&](qsizetype from, std::vector<EntryPtr> entries) -> Status {
            if (sameEntries) {
                sameEntries = std::equal(entries.begin(), entries.end(), keptEntries.begin() + from);
                waiting.insert(waiting.end(), std::make_move_iterator(entries.begin()), std::make_move_iterator(entries.end()));
                if (sameEntries)
                    return success();
                entries = std::exchange(waiting, {});
            }
            return splicer.add(std::move(entries));
        });
    if (!gathered)
        return gathered.error();
    if (sameEntries)
        return kept;
    auto spliced = splicer.finish(pks);
    if (!spliced)
        return spliced.error();
    std::shared_ptr<SplicedList> list = std::move(*spliced);
    std::lock_guard lock(api.listMutex);
    // Other entry objects with the same bytes (cached again): the kept list stays, with its gzip
    // copy, and answers on the spot from now on with the entries the memory tier holds now.
    if (kept && !keptInFile && !list->file && api.list == kept && kept->digest == list->digest
        && kept->lastModified == list->lastModified) {
        kept->entries = std::move(list->entries);
        return kept;
    }
    api.list = list;
    return list;
}

Reply storedList(ApiShared &api, const HttpRequest &request, WorkerContext &context, const QList<qint64> &pks)
{
    int outcome = int(Telemetry::Outcome::Hit);
    auto current = currentList(api, context, pks, outcome);
    if (!current)
        return serverError(current.error().message);
    const std::shared_ptr<SplicedList> list = std::move(*current);
    if (Negotiation::acceptsGzip(request.acceptEncoding) && !indentAsked(request)) {
        if (auto made = makeGzip(*list, api); !made)
            return serverError(made.error().message);
    }
    Reply reply;
    {
        std::lock_guard lock(api.listMutex);
        reply = *listReply(*list, request, cacheLabel(outcome), api);
    }
    // Indented on request (rare), as DRF re-renders: a list in a file is read through a map of
    // it, which the reply's `file` keeps alive.
    if (reply.file && indentAsked(request)) {
        const QByteArrayView json = list->file->mapped();
        if (json.isEmpty())
            return serverError(QStringLiteral("cannot map the list's temporary file"));
        reply.json = QByteArray::fromRawData(json.data(), json.size());
    }
    return reply;
}

} // namespace

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
    return storedList(api, request, context, *pks);
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
