#pragma once

#include "cache/entry.h"
#include "http/httpexchange.h"
#include "http/httpresponses.h"
#include "http/httpserver.h"
#include "http/responsecache.h"

#include <QElapsedTimer>
#include <QList>

#include <memory>
#include <mutex>
#include <optional>
#include <vector>

class CacheService;
class WorkerPool;
struct WorkerContext;

// The whole list, spliced from cached bodies once and kept while none of its entries changed.
struct SplicedList {
    QList<qint64> pks;
    std::vector<EntryPtr> entries; // those that exist, in pk order
    QByteArray body;
    QByteArray digest;             // SHA-256 over the entries' digests: changes with any byte of the body
    QDateTime lastModified;        // the newest entry's cachedAt
    ResponsePtr plain;
    ResponsePtr notModified;
    QByteArray gzip;               // made on first demand (on a worker)
    ResponsePtr gzipResponse;
};

// What the endpoints share with the callbacks they leave behind (CacheService lookups that end
// after a request, or even the server, is gone): held by shared_ptr, thread-safe.
struct ApiShared {
    ApiShared(CacheService &cacheService, HttpServerOptions serverOptions, HttpCounters &httpCounters,
              std::shared_ptr<SuspendRegistry> suspendRegistry);

    CacheService &service; // outlives the server (HttpServer's contract)
    const HttpServerOptions options;
    const HttpResponses::Style style;
    HttpCounters &counters;
    std::shared_ptr<SuspendRegistry> registry;
    ResponseCache responses;

    // The Foo pks, read on a worker and trusted for a second (a Foo added or deleted shows in the
    // list within that), or until entries change; kept for serving when the database is down.
    std::mutex listMutex;
    QList<qint64> pks;
    bool pksKnown = false;
    QElapsedTimer pksAge;
    std::shared_ptr<SplicedList> list;

    QByteArray boundHost; // "address:port", for requests without a Host header

    std::optional<QList<qint64>> freshPks();
    QByteArray defaultHost();
    void setPks(QList<qint64> ids);
    void entriesChanged();
};
using ApiSharedPtr = std::shared_ptr<ApiShared>;

// The answer for one entry: 304 when If-None-Match hits, the gzip copy when accepted, X-Cache as
// given. HIT answers are prebuilt once per entry (ResponseCache); others are built here (zero copy).
Reply entryReply(ApiShared &api, const HttpRequest &request, const EntryPtr &entry, const QByteArray &cache);
QByteArray cacheLabel(int outcome); // Telemetry::Outcome → "HIT", "MISS", "STALE", "BYPASS"
// 200 with what DRF's SimpleMetadata answers to OPTIONS on a view that takes no input it describes.
Reply metadataReply(const QByteArray &viewName, const char *allow);
// 500 with DRF's generic body; the reason goes to the log, never to the client.
Reply serverError(const QString &reason);

// List helpers shared by listendpoint.cpp and pagination.cpp (worker threads).
Result<QList<qint64>> currentPks(ApiShared &api, WorkerContext &context, bool live);
Reply pagedList(ApiShared &api, const HttpRequest &request, WorkerContext &context, const QList<qint64> &pks, bool live);
struct GatheredEntries {
    std::vector<EntryPtr> entries; // null where the Foo no longer exists
    int outcome = 0;               // Telemetry::Outcome naming the whole answer
};
// Every pk through the cache service at once (misses in parallel), waiting on this worker.
Result<GatheredEntries> gatherEntries(CacheService &service, const QList<qint64> &pks);

// The endpoints. Each is called on an MHD thread and answers now, or calls exchange.defer() and
// returns std::nullopt, completing the deferral later from a worker.
namespace Endpoints {
std::optional<Reply> detail(const ApiSharedPtr &api, WorkerPool &pool, HttpExchange &exchange, qint64 pk, bool live);
std::optional<Reply> list(const ApiSharedPtr &api, WorkerPool &pool, HttpExchange &exchange, bool live);
std::optional<Reply> options(const HttpRequest &request, bool list);
std::optional<Reply> metrics(const ApiSharedPtr &api, int waiting);
std::optional<Reply> health(const ApiSharedPtr &api, WorkerPool &pool, HttpExchange &exchange);
// Admin: `route` is "refresh", "refresh-many", "invalidate", "status"; pk where it applies.
std::optional<Reply> admin(const ApiSharedPtr &api, WorkerPool &pool, HttpExchange &exchange, const QByteArray &route, qint64 pk);
// Bearer token check, DRF's bodies (with the endpoint's Allow); std::nullopt when the request may pass.
std::optional<Reply> authenticate(const ApiShared &api, const HttpRequest &request, const char *allow = "GET, HEAD, OPTIONS");
} // namespace Endpoints

// Routes a request to its endpoint (the DRF URL conf: /api/foos/, /api/foos/<pk>/, APPEND_SLASH).
class ApiRouter {
public:
    ApiRouter(CacheService &service, const HttpServerOptions &options, HttpCounters &counters,
              std::shared_ptr<SuspendRegistry> registry);
    ~ApiRouter();

    // MHD thread.
    std::optional<Reply> route(HttpExchange &exchange);
    // Any thread: the memory tier changed (drop what was built from it).
    void entriesChanged(const QList<qint64> &pks);
    // The server's thread, every second: lets go of the responses of entries the memory tier let
    // go of. Skipped while the memory tier has not changed (no put, removal, clear or eviction),
    // but not for longer than 30 s (an entry still being sent at the last sweep goes then).
    void sweep();
    // "address:port": the Host of requests that send none (HTTP/1.0).
    void setBoundHost(const QByteArray &host);

private:
    std::optional<Reply> routeFoos(HttpExchange &exchange, const QByteArray &rest);

    ApiSharedPtr m_api;
    quint64 m_sweptAt = ~quint64(0); // the memory tier's changes and evictions at the last sweep
    QElapsedTimer m_sinceSweep;
    std::unique_ptr<WorkerPool> m_pool; // last: its queued tasks drain while the rest exists
};
