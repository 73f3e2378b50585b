#pragma once

#include "api/apicall.h"
#include "api/apishared.h"

#include <optional>

class WorkerPool;

namespace Endpoints {
// /healthz: the store and the database, checked on the pool's workers.
std::optional<Reply> health(const ApiSharedPtr &api, WorkerPool &pool, const ApiCall &call);
// Admin: `route` is "refresh", "refresh-many", "invalidate", "status"; pk where it applies.
std::optional<Reply> admin(const ApiSharedPtr &api, WorkerPool &pool, const ApiCall &call, const QByteArray &route, qint64 pk);
// Bearer token check, DRF's bodies (with the endpoint's Allow); std::nullopt when the request may pass.
std::optional<Reply> authenticate(const ApiShared &api, const HttpRequest &request, const char *allow = "GET, HEAD, OPTIONS");
} // namespace Endpoints
