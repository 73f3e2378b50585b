#pragma once

#include <QByteArray>
#include <QHash>
#include <QString>

#include <array>
#include <atomic>
#include <mutex>

// Counters and latency histograms that the cache service and the HTTP server write to and the GUI,
// /metrics and the CLI read. Writers (any thread, libmicrohttpd's included) take no lock on the hot
// path: each (store, outcome) pair has preallocated atomics.
class Telemetry {
public:
    enum class Outcome { Hit, Miss, Stale, Bypass, Error };
    static constexpr int outcomeCount = 5;
    // Upper bounds of the latency buckets in seconds (Prometheus' defaults, finer at the low end).
    static constexpr std::array<double, 14> bucketBounds { 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                           0.025,  0.05,    0.1,    0.25,  0.5,    1.0,  2.5 };

    struct Histogram {
        std::array<qint64, bucketBounds.size() + 1> counts {}; // last: +Inf
        qint64 count = 0;
        double sum = 0;
    };
    struct StoreSnapshot {
        std::array<qint64, outcomeCount> requests {};
        qint64 bytesServed = 0;
        Histogram requestSeconds;
        qint64 refreshes = 0;
        qint64 refreshFailures = 0;
        Histogram refreshSeconds;
        qint64 errors = 0;
    };
    // The keep-fresh worker of this process (FreshnessWorker), when there is one.
    struct WorkerSnapshot {
        bool present = false;
        bool active = false; // the one active worker of its database and label (else a standby)
        qint64 queued = 0;
        qint64 changes = 0;
        qint64 coalesced = 0;
        qint64 refreshes = 0;
        qint64 errors = 0;
        Histogram lagSeconds; // change committed -> entry written, per Foo
    };
    struct Snapshot {
        WorkerSnapshot worker;
        QHash<QString, StoreSnapshot> stores; // by store kind ("db", "redis")
        qint64 memoryEntries = 0;
        qint64 memoryBytes = 0;
        qint64 memoryCapacity = 0;
        double hitRatio() const; // hits / (hits + misses + stale + bypass), 0 when idle
    };

    Telemetry();
    ~Telemetry();

    void recordRequest(const QString &store, Outcome outcome, qint64 bytes, double seconds);
    void recordRefresh(const QString &store, bool ok, double seconds);
    void recordError(const QString &store);
    void setMemory(qint64 entries, qint64 bytes, qint64 capacity);
    // The worker's state and totals (a few times a second at most: under a mutex) and its lag.
    void setWorker(bool active, qint64 queued, qint64 changes, qint64 coalesced, qint64 refreshes, qint64 errors);
    void recordWorkerLag(double seconds);

    Snapshot snapshot() const;
    // Prometheus text exposition format 0.0.4:
    //   preserve_cache_requests_total{store="db",result="hit"} 12
    //   preserve_cache_request_duration_seconds_bucket{store="db",le="0.001"} 10 … _sum, _count
    //   preserve_cache_bytes_served_total, preserve_refresh_total{result="ok|error"},
    //   preserve_refresh_duration_seconds (histogram), preserve_cache_errors_total,
    //   preserve_memory_entries, preserve_memory_bytes, preserve_memory_capacity_bytes; with a
    //   worker: preserve_worker_active, _queue_depth, _changes_total, _coalesced_total,
    //   _refreshes_total, _errors_total, preserve_worker_lag_seconds (histogram)
    QByteArray prometheus() const;
    static QString outcomeName(Outcome outcome); // "hit", "miss", "stale", "bypass", "error"

private:
    struct Counters;
    // Lock-free for a store kind already seen ("db", "redis" and "live" exist from the start);
    // a new kind takes m_mutex once. Past maxStores kinds, the rest are counted under "other".
    Counters &countersFor(const QString &store);

    static constexpr int maxStores = 16;
    // Append-only: a slot is written (under m_mutex) before m_storeCount publishes it (release), so
    // a reader that loads m_storeCount (acquire) may read slots below it without a lock.
    std::array<Counters *, maxStores> m_stores {};
    std::atomic<int> m_storeCount { 0 };
    std::mutex m_mutex; // serializes only the addition of store kinds
    std::atomic<qint64> m_memoryEntries { 0 };
    std::atomic<qint64> m_memoryBytes { 0 };
    std::atomic<qint64> m_memoryCapacity { 0 };
    mutable std::mutex m_workerMutex;
    WorkerSnapshot m_worker;
};
