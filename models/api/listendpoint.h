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

namespace Endpoints {
// GET/HEAD /api/foos/: the list, spliced from the cached bodies, paged when asked (pagination.h).
std::optional<Reply> list(const ApiSharedPtr &api, WorkerPool &pool, const ApiCall &call, bool live);
} // namespace Endpoints

// List helpers shared with pagination.cpp (worker threads).
Result<QList<qint64>> currentPks(ApiShared &api, WorkerContext &context, bool live);
struct GatheredEntries {
    std::vector<EntryPtr> entries; // null where the Foo no longer exists
    int outcome = 0;               // Telemetry::Outcome naming the whole answer
};
// Every pk's entry: memory, then the store in bulk on `context` (CacheService::freshStored), then
// the rest through the cache service at once (misses in parallel), waiting on this worker.
// `keep`: what the store answers is kept in the memory tier (not for a list longer than it holds).
Result<GatheredEntries> gatherEntries(CacheService &service, WorkerContext &context, const QList<qint64> &pks,
                                      bool keep = true);
