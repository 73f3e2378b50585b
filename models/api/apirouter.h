#pragma once

#include "api/apicall.h"
#include "api/apioptions.h"

#include <functional>
#include <memory>
#include <optional>

class CacheService;
class WorkerPool;
struct ApiShared;

// The DRF API: routes a request to its endpoint (the DRF URL conf: /api/foos/, /api/foos/<pk>/,
// APPEND_SLASH) and answers with a plain Reply. Knows nothing of sockets: a transport hands it
// requests and sends what it answers. The CacheService must outlive the router.
class ApiRouter {
public:
    // `transportMetrics`: the transport's own lines of /metrics (any thread).
    ApiRouter(CacheService &service, const ApiOptions &options, std::function<QByteArray()> transportMetrics = {});
    ~ApiRouter();

    // A serving thread: the answer now, or nothing when the endpoint called call.defer().
    std::optional<Reply> route(const ApiCall &call);
    // What goes out for `reply` to `request`: DRF's indented rendering when the Accept header asks
    // for one. The transport calls it on every answer, deferred ones included. Thread-safe.
    static Reply finish(const HttpRequest &request, const Reply &reply);
    // Any thread: the memory tier changed (drop what was built from it).
    void entriesChanged();
    // "address:port": the Host of requests that send none (HTTP/1.0).
    void setBoundHost(const QByteArray &host);

private:
    std::optional<Reply> routeFoos(const ApiCall &call, const QByteArray &rest);

    std::shared_ptr<ApiShared> m_api;
    std::unique_ptr<WorkerPool> m_pool; // last: its queued tasks drain while the rest exists
};
