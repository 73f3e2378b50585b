#pragma once

#include <QByteArray>

// Which endpoints answer from the cache and which serialize live on every request (X-Cache: BYPASS).
enum class CachePolicy {
    Cached,     // list and detail from the cache (default)
    ListCached, // the list from the cache, detail live (the seed's closing advice)
    Live,       // both live
};

// What the DRF API itself is configured with, whatever transport carries it.
struct ApiOptions {
    int liveWorkers = 2;            // threads that serialize live, list and status work (bounded concurrency)
    int pageSize = 0;               // > 0: DRF's PageNumberPagination on the list
    CachePolicy policy = CachePolicy::Cached;
    QByteArray cacheControl;        // Cache-Control of API answers; empty: none (as DRF)
    QByteArray adminToken;          // non-empty: the admin endpoints exist, behind this bearer token
    bool metricsOnly = false;       // only /metrics and /healthz (a worker's port); the rest is 404
    int listChunk = 256;            // Foos the whole list gathers at a time (so much is in memory at once)
    int pksTrustMs = 1000;          // the list's Foo pks are used without looking for so long (tests: 0)
};
