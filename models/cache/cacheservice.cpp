#include "cacheservice.h"

#include "cache/cachejobs.h"

#include "cache/cachestore.h"
#include "cache/workertasks.h"
#include "cache/storewatcher.h"
#include "cache/workerpool.h"
#include "db/database.h"
#include "serialize/serializer.h"
#include "staleness/changetracking.h"

#include <QElapsedTimer>
#include <QLoggingCategory>

#include <future>

Q_LOGGING_CATEGORY(lcCache, "preserve.cache", QtInfoMsg) // debug lines only when asked for (QT_LOGGING_RULES)

struct CacheService::Flight {
    std::vector<LookupCallback> waiters;
};

CacheService::CacheService(CacheConfig config, Telemetry *telemetry, QObject *parent)
    : QObject(parent)
    , m_config(std::move(config))
    , m_ownTelemetry(telemetry ? nullptr : std::make_unique<Telemetry>())
    , m_telemetry(telemetry ? telemetry : m_ownTelemetry.get())
    , m_memory(std::make_unique<MemoryTier>(m_config.memoryBytes))
    , m_pool(std::make_unique<WorkerPool>(m_config.database, m_config.store, m_config.workers))
    , m_jobs(std::make_unique<CacheJobs>(m_config, *m_pool, *m_memory, *m_telemetry))
{
    m_pool->setWhenIdle([this](WorkerContext &context) {
        if (context.store)
            m_jobs->flush(*context.store);
    });
    connect(m_jobs.get(), &CacheJobs::jobStarted, this, &CacheService::jobStarted);
    connect(m_jobs.get(), &CacheJobs::jobProgress, this, &CacheService::jobProgress);
    connect(m_jobs.get(), &CacheJobs::entryRefreshed, this, &CacheService::entryRefreshed);
    connect(m_jobs.get(), &CacheJobs::entryFailed, this, &CacheService::entryFailed);
    connect(m_jobs.get(), &CacheJobs::entryVerified, this, &CacheService::entryVerified);
    connect(m_jobs.get(), &CacheJobs::jobFinished, this, &CacheService::jobFinished);
    connect(m_jobs.get(), &CacheJobs::entriesChanged, this, [this] { emit entriesChanged({}); });
}

CacheService::~CacheService()
{
    m_jobs->cancelAll();
    for (auto &watcher : m_watchers)
        watcher->stop();
    // Joins the workers while everything they may touch still exists, m_pool included: a task that
    // finishes may post a follow-up (a queued refresh of the same pk).
    m_pool->shutdown();
    m_pool.reset();
}

Status CacheService::startWatching()
{
    if (!m_config.watch || !m_watchers.empty())
        return success();
    // The store's own watcher, and for Redis also the database's (change tracking notifications).
    m_watchers.push_back(createStoreWatcher(m_config.store, m_config.database));
    if (m_config.store.kind == StoreConfig::Kind::Redis)
        m_watchers.push_back(createStoreWatcher(StoreConfig {}, m_config.database));
    Status started = success();
    for (auto &watcher : m_watchers) {
        connectWatcher(watcher.get());
        if (auto status = watcher->start(); !status && started)
            started = status;
    }
    return started;
}

void CacheService::connectWatcher(StoreWatcher *watcher)
{
    connect(watcher, &StoreWatcher::entriesChanged, this, [this](const QList<qint64> &pks) {
        for (qint64 pk : pks)
            m_memory->remove(pk);
        emit entriesChanged(pks);
    });
    connect(watcher, &StoreWatcher::everythingChanged, this, [this] {
        m_memory->clear();
        emit entriesChanged({});
    });
    connect(watcher, &StoreWatcher::unavailable, this, &CacheService::storeUnavailable);
    connect(watcher, &StoreWatcher::available, this, &CacheService::storeAvailable);
}

EntryPtr CacheService::getFromMemory(qint64 pk)
{
    QElapsedTimer timer;
    timer.start();
    EntryPtr entry = m_memory->get(pk);
    if (entry)
        m_telemetry->recordRequest(m_config.store.kindName(), Telemetry::Outcome::Hit, entry->body.size(),
                                   double(timer.nsecsElapsed()) / 1e9);
    return entry;
}

void CacheService::getAsync(qint64 pk, LookupCallback done)
{
    if (EntryPtr entry = getFromMemory(pk))
        return done(Lookup { std::move(entry), Telemetry::Outcome::Hit, true });
    EntryPtr entry;
    {
        std::lock_guard lock(m_mutex);
        if (auto flight = m_flights.value(pk)) {
            flight->waiters.push_back(std::move(done));
            return;
        }
        // A flight puts its entry in memory before it ends (under this lock): looking again here
        // gives a miss that raced with the end of a flight that flight's entry, not a second lookup.
        entry = m_memory->get(pk);
        if (!entry) {
            auto flight = std::make_shared<Flight>();
            flight->waiters.push_back(std::move(done));
            m_flights.insert(pk, flight);
        }
    }
    if (entry) {
        m_telemetry->recordRequest(m_config.store.kindName(), Telemetry::Outcome::Hit, entry->body.size(), 0);
        return done(Lookup { std::move(entry), Telemetry::Outcome::Hit, true });
    }
    m_pool->post([this, pk](WorkerContext &context) {
        const WorkerTasks tasks { m_config, *m_memory, *m_telemetry };
        Result<Lookup> result = tasks.lookup(context, pk);
        if (result && result->outcome == Telemetry::Outcome::Stale)
            QMetaObject::invokeMethod(this, [this, pk] { revalidate(pk); }, Qt::QueuedConnection);
        finishFlight(pk, result);
    }, WorkerPool::Priority::Urgent); // a client waits: before any queued refresh
}

QHash<qint64, EntryPtr> CacheService::freshStored(WorkerContext &context, const QList<qint64> &pks, bool keep)
{
    const WorkerTasks tasks { m_config, *m_memory, *m_telemetry };
    return tasks.freshStored(context, pks, keep);
}

void CacheService::revalidate(qint64 pk)
{
    // One background refresh per stale entry (RFC 5861): none while one is queued or running, and
    // none once a fresh entry is in memory (stale entries never go there), which is the case when
    // the refresh finished between the stale serve and this call.
    if (m_jobs->isRefreshing(pk))
        return;
    if (m_memory->get(pk))
        return;
    refresh({ pk });
}

void CacheService::finishFlight(qint64 pk, const Result<Lookup> &result)
{
    std::shared_ptr<Flight> flight;
    {
        std::lock_guard lock(m_mutex);
        flight = m_flights.take(pk);
    }
    if (flight) {
        for (const auto &waiter : flight->waiters)
            waiter(result);
    }
}

Result<CacheService::Lookup> CacheService::get(qint64 pk)
{
    auto promise = std::make_shared<std::promise<Result<Lookup>>>();
    auto future = promise->get_future();
    getAsync(pk, [promise](const Result<Lookup> &result) { promise->set_value(result); });
    return future.get();
}

template <typename T>
T CacheService::runUrgent(std::function<T(WorkerContext &)> task)
{
    auto promise = std::make_shared<std::promise<T>>();
    auto future = promise->get_future();
    m_pool->post([promise, task = std::move(task)](WorkerContext &context) { promise->set_value(task(context)); },
                 WorkerPool::Priority::Urgent);
    return future.get();
}

namespace {

Error noStore(const WorkerContext &context)
{
    return Error::unavailable(QObject::tr("the store is unavailable: %1").arg(context.storeError));
}

} // namespace

Result<EntryPtr> CacheService::previous(qint64 pk)
{
    return runUrgent<Result<EntryPtr>>([pk](WorkerContext &context) -> Result<EntryPtr> {
        if (!context.store)
            return noStore(context);
        auto previous = context.store->previous(pk);
        if (!previous)
            WorkerTasks::noteStoreError(context, previous.error());
        return previous;
    });
}

Status CacheService::rollback(qint64 pk)
{
    if (m_config.database.readOnly)
        return Error::invalid(QObject::tr("read-only connection: nothing is rolled back"));
    Status rolled = runUrgent<Status>([pk](WorkerContext &context) -> Status {
        if (!context.store)
            return noStore(context);
        Status done = context.store->rollback(pk);
        if (!done)
            WorkerTasks::noteStoreError(context, done.error());
        return done;
    });
    if (rolled) {
        m_memory->remove(pk);
        QMetaObject::invokeMethod(this, [this, pk] { emit entriesChanged({ pk }); }, Qt::QueuedConnection);
    }
    return rolled;
}

Result<Impact> CacheService::impact(NodeLevel level, qint64 id)
{
    return runUrgent<Result<Impact>>([level, id](WorkerContext &context) -> Result<Impact> {
        if (!context.database)
            return Error::unavailable(QObject::tr("the database is unavailable: %1").arg(context.databaseError));
        if (!context.store)
            return noStore(context);
        return computeImpact(*context.database, *context.store, level, id);
    });
}

int CacheService::refresh(const QList<qint64> &pks)
{
    return m_jobs->start(CacheJobs::Kind::Refresh, pks);
}

int CacheService::invalidate(const QList<qint64> &pks)
{
    return m_jobs->start(CacheJobs::Kind::Invalidate, pks);
}

int CacheService::rollbackJob(const QList<qint64> &pks)
{
    return m_jobs->start(CacheJobs::Kind::Rollback, pks);
}

int CacheService::refreshAll()
{
    return m_jobs->startPlanned(CacheJobs::Kind::Refresh, [](WorkerContext &context) { return WorkerTasks::allPks(context); });
}

int CacheService::refreshStale()
{
    return m_jobs->startPlanned(CacheJobs::Kind::Refresh, [this](WorkerContext &context) -> Result<QList<qint64>> {
        StatusInputs shared;
        auto statuses = WorkerTasks::status(context, shared);
        if (!statuses)
            return statuses.error();
        QList<qint64> pks;
        for (const EntryStatus &status : *statuses) {
            if (status.state == EntryState::Stale || status.state == EntryState::Missing
                || status.state == EntryState::Corrupt)
                pks << status.pk;
        }
        return pks;
    });
}

int CacheService::invalidateAll()
{
    return m_jobs->startPlanned(CacheJobs::Kind::Invalidate, WorkerTasks::storedPks);
}

int CacheService::verify(const QList<qint64> &pks)
{
    if (!pks.isEmpty())
        return m_jobs->start(CacheJobs::Kind::Verify, pks);
    return m_jobs->startPlanned(CacheJobs::Kind::Verify, WorkerTasks::storedPks);
}

void CacheService::cancel(int job)
{
    m_jobs->cancel(job);
}

bool CacheService::isRunning(int job) const
{
    return m_jobs->isRunning(job);
}

int CacheService::runningJobs() const
{
    return m_jobs->running();
}

QHash<qint64, int> CacheService::queuedRefreshes() const
{
    return m_jobs->queuedRefreshes();
}

void CacheService::holdWorkers(bool held)
{
    m_pool->setHeld(held);
}

Result<QList<EntryStatus>> CacheService::status(bool withOrphans)
{
    StatusInputs shared;
    shared.orphans = withOrphans;
    shared.refreshing = m_jobs->refreshing();
    shared.verifications = m_jobs->verifications();
    return runUrgent<Result<QList<EntryStatus>>>(
        [shared](WorkerContext &context) { return WorkerTasks::status(context, shared); });
}
