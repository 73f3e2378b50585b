#pragma once

#include "api/apicall.h"
#include "api/apishared.h"

#include <optional>

class WorkerPool;

namespace Endpoints {
// GET/HEAD /api/foos/<pk>/: the cached entry, or (live) the serializer's on the pool's workers.
std::optional<Reply> detail(const ApiSharedPtr &api, WorkerPool &pool, const ApiCall &call, qint64 pk, bool live);
} // namespace Endpoints
