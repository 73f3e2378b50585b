#pragma once

#include "cache/entry.h"
#include "cache/impact.h"
#include "cache/memorytier.h"
#include "cache/storeconfig.h"
#include "core/result.h"
#include "db/databaseconfig.h"
#include "staleness/entrystatus.h"
#include "telemetry/telemetry.h"

#include <QHash>
#include <QObject>

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

class CacheJobs;
class StoreWatcher;
class WorkerPool;
struct WorkerContext;

struct CacheConfig {
    DatabaseConfig database;
    StoreConfig store;
    qint64 memoryBytes = 256LL * 1024 * 1024;
    int workers = 2;
    // Serve an entry known to be stale (Outcome::Stale) while one background refresh runs, instead of
    // serializing live before answering (RFC 5861 stale-while-revalidate).
    bool staleWhileRevalidate = false;
    // Keep the memory tier coherent with other processes through the store's watcher.
    bool watch = true;
};

struct JobSummary {
    int job = 0;
    int total = 0;
    int done = 0;   // refreshed, invalidated or verified
    int failed = 0;
    bool cancelled = false;
    double seconds = 0;
    QString firstError;
};

// The one way to the cache: get() is memory tier → store → cache on read (serialize live, store,
// return) with single flight, and refresh/invalidate/verify jobs run on a bounded pool of workers,
// each with its own database and store connections. Lives on one thread (its signals are emitted
// there); get() and getAsync() may be called from any thread.
class CacheService : public QObject {
    Q_OBJECT

public:
    struct Lookup {
        EntryPtr entry;
        Telemetry::Outcome outcome = Telemetry::Outcome::Hit;
        bool fromMemory = false;
    };
    using LookupCallback = std::function<void(const Result<Lookup> &)>;

    explicit CacheService(CacheConfig config, Telemetry *telemetry = nullptr, QObject *parent = nullptr);
    ~CacheService() override;

    const CacheConfig &config() const { return m_config; }
    MemoryTier &memory() { return *m_memory; }
    Telemetry &telemetry() { return *m_telemetry; }
    // Starts the coherence watcher (when configured); an error when it cannot connect yet.
    Status startWatching();

    // Thread-safe. Memory hits answer on the calling thread; everything else on a worker thread.
    // N concurrent misses for one pk serialize once; the others get that result.
    void getAsync(qint64 pk, LookupCallback done);
    // Thread-safe. The memory tier's entry (counted as a hit), or null: the caller then goes on
    // with getAsync. The HTTP server's fast path, with no callback to allocate.
    EntryPtr getFromMemory(qint64 pk);
    // Blocking form of getAsync (not on a worker thread).
    Result<Lookup> get(qint64 pk);
    // For a caller on a worker of its own (the list endpoint): the stored entries of `pks` that are
    // fresh, read in bulk on `context`'s connections and kept in memory unless not `keep`; the
    // rest is getAsync's.
    QHash<qint64, EntryPtr> freshStored(WorkerContext &context, const QList<qint64> &pks, bool keep = true);

    // Jobs: each returns a job id; progress and results arrive as signals.
    int refresh(const QList<qint64> &pks);
    int refreshAll();
    // Refreshes what is stale, missing or corrupt (see computeStatus).
    int refreshStale();
    int invalidate(const QList<qint64> &pks);
    // Every entry the store holds.
    int invalidateAll();
    // Re-serializes and compares with the stored entry (structurally); empty: every entry.
    int verify(const QList<qint64> &pks);
    void cancel(int job);
    bool isRunning(int job) const;
    // Jobs started and not finished (refreshes, invalidations, verifications).
    int runningJobs() const;
    // The Foos whose refresh is queued and not started yet (a refresh asked for now would join it),
    // with the job that queued each first.
    QHash<qint64, int> queuedRefreshes() const;

    // The state of every Foo's entry (and, `withOrphans`, of entries whose Foo is gone, after
    // them). Blocking; runs on a worker.
    Result<QList<EntryStatus>> status(bool withOrphans = false);
    // The entry the last refresh (or invalidation) of `pk` replaced (CacheStore::previous), and
    // putting it back (CacheStore::rollback: the two swap, so rolling back again undoes it). The
    // entry put back keeps its own change position: status() then says stale or fresh by the usual
    // rules. Blocking; run on a worker. Rolling back drops the memory tier's copy and announces it
    // through entriesChanged.
    Result<EntryPtr> previous(qint64 pk);
    Status rollback(qint64 pk);
    // The same as a job over several Foos (progress and entryRefreshed per Foo rolled back; a Foo
    // without a previous entry is a failure).
    int rollbackJob(const QList<qint64> &pks);
    // What a change to one Bar, Zab or Baz reaches (see Impact). Blocking; runs on a worker.
    Result<Impact> impact(NodeLevel level, qint64 id);

    // Test hook: while held, the workers start no new task, so a test can queue work (two refreshes
    // of one pk, a job to cancel) deterministically. get() and status() block while held.
    void holdWorkers(bool held);

signals:
    void jobStarted(int job, int total);
    void jobProgress(int job, int done, int total);
    void entryRefreshed(int job, qint64 pk);
    void entryFailed(int job, qint64 pk, const QString &message);
    void entryVerified(int job, qint64 pk, const Verification &verification);
    void jobFinished(const JobSummary &summary);
    // Entries changed in the store behind our back (another process), or were refreshed here; an
    // empty list means "some, unknown which".
    void entriesChanged(const QList<qint64> &pks);
    void storeUnavailable(const QString &message);
    void storeAvailable();

private:
    struct Flight;

    // Runs `task` on a worker ahead of queued jobs and waits for its result (not on a worker thread).
    template <typename T>
    T runUrgent(std::function<T(WorkerContext &)> task);
    void finishFlight(qint64 pk, const Result<Lookup> &result);
    void revalidate(qint64 pk);
    void connectWatcher(StoreWatcher *watcher);

    CacheConfig m_config;
    std::unique_ptr<Telemetry> m_ownTelemetry;
    Telemetry *m_telemetry;
    std::unique_ptr<MemoryTier> m_memory;
    std::unique_ptr<WorkerPool> m_pool;
    std::vector<std::unique_ptr<StoreWatcher>> m_watchers;

    std::unique_ptr<CacheJobs> m_jobs; // after m_pool: its tasks refer to the jobs

    mutable std::mutex m_mutex; // guards m_flights
    QHash<qint64, std::shared_ptr<Flight>> m_flights;
};
