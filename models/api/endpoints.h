#pragma once

#include "api/apicall.h"
#include "api/apishared.h"
#include "core/result.h"

#include <QList>

#include <optional>
#include <vector>

class CacheService;
class WorkerPool;
struct WorkerContext;

// The answer for one entry: 304 when If-None-Match hits, the gzip copy when accepted, X-Cache as
// given. A HIT on a stored entry is marked reusable (the transport builds it once per entry).
Reply entryReply(const ApiShared &api, const HttpRequest &request, const EntryPtr &entry, const QByteArray &cache);
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

// The endpoints. Each is called on a serving thread and answers now, or calls call.defer() and
// returns std::nullopt, completing the deferral later from a worker.
namespace Endpoints {
std::optional<Reply> detail(const ApiSharedPtr &api, WorkerPool &pool, const ApiCall &call, qint64 pk, bool live);
std::optional<Reply> list(const ApiSharedPtr &api, WorkerPool &pool, const ApiCall &call, bool live);
std::optional<Reply> options(const HttpRequest &request, bool list);
std::optional<Reply> metrics(const ApiSharedPtr &api);
std::optional<Reply> health(const ApiSharedPtr &api, WorkerPool &pool, const ApiCall &call);
// Admin: `route` is "refresh", "refresh-many", "invalidate", "status"; pk where it applies.
std::optional<Reply> admin(const ApiSharedPtr &api, WorkerPool &pool, const ApiCall &call, const QByteArray &route, qint64 pk);
// Bearer token check, DRF's bodies (with the endpoint's Allow); std::nullopt when the request may pass.
std::optional<Reply> authenticate(const ApiShared &api, const HttpRequest &request, const char *allow = "GET, HEAD, OPTIONS");
} // namespace Endpoints
