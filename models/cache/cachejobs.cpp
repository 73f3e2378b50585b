// CacheService's jobs: refresh, invalidate and verify, item by item on the worker pool.
#include "cacheservice.h"

#include "cache/cachestore.h"
#include "cache/serviceinternals.h"
#include "cache/workerpool.h"

#include <QElapsedTimer>
#include <QThread>

#include <atomic>

struct CacheService::Job {
    int id = 0;
    JobKind kind = JobKind::Refresh;
    int total = -1; // -1 while the pks are being planned
    int done = 0;
    int failed = 0;
    int skipped = 0;
    QString firstError;
    std::atomic<bool> cancelled { false };
    // Set when the store answered "unavailable": the job's other items fail at once instead of
    // each waiting for its own timeout (Redis frozen: one timeout, not one per Foo).
    std::atomic<bool> storeUnavailable { false };
    QString unavailableMessage; // guarded by CacheService::m_mutex
    QElapsedTimer timer;
};

// One refresh of one pk, queued or running, and the jobs that wait for it. Guarded by m_mutex.
struct CacheService::RefreshFlight {
    std::vector<std::shared_ptr<Job>> jobs;
    bool running = false;
    std::shared_ptr<RefreshFlight> next; // asked for while this one ran
};

int CacheService::refresh(const QList<qint64> &pks)
{
    return startJob(JobKind::Refresh, pks);
}

int CacheService::invalidate(const QList<qint64> &pks)
{
    return startJob(JobKind::Invalidate, pks);
}

int CacheService::rollbackJob(const QList<qint64> &pks)
{
    return startJob(JobKind::Rollback, pks);
}

int CacheService::refreshAll()
{
    return startPlannedJob(JobKind::Refresh, [](WorkerContext &context) { return ServiceInternals::allPks(context); });
}

int CacheService::refreshStale()
{
    return startPlannedJob(JobKind::Refresh, [this](WorkerContext &context) -> Result<QList<qint64>> {
        StatusInputs shared;
        auto statuses = ServiceInternals::status(context, shared);
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

namespace {

// The pks of every entry the store holds.
Result<QList<qint64>> storedPks(WorkerContext &context)
{
    if (!context.store)
        return Error::unavailable(context.storeError);
    auto entries = context.store->list();
    if (!entries)
        return entries.error();
    QList<qint64> stored;
    for (const EntryInfo &entry : *entries)
        stored << entry.pk;
    return stored;
}

} // namespace

int CacheService::invalidateAll()
{
    return startPlannedJob(JobKind::Invalidate, storedPks);
}

int CacheService::verify(const QList<qint64> &pks)
{
    if (!pks.isEmpty())
        return startJob(JobKind::Verify, pks);
    return startPlannedJob(JobKind::Verify, storedPks);
}

void CacheService::cancel(int jobId)
{
    std::lock_guard lock(m_mutex);
    if (const auto job = m_jobs.value(jobId))
        job->cancelled = true;
}

void CacheService::cancelAll()
{
    std::lock_guard lock(m_mutex);
    for (const auto &job : std::as_const(m_jobs))
        job->cancelled = true;
}

bool CacheService::isRunning(int jobId) const
{
    std::lock_guard lock(m_mutex);
    return m_jobs.contains(jobId);
}

int CacheService::runningJobs() const
{
    std::lock_guard lock(m_mutex);
    return int(m_jobs.size());
}

QHash<qint64, int> CacheService::queuedRefreshes() const
{
    std::lock_guard lock(m_mutex);
    QHash<qint64, int> queued;
    for (auto it = m_refreshing.cbegin(); it != m_refreshing.cend(); ++it) {
        const RefreshFlight &flight = *it.value();
        const RefreshFlight *waiting = flight.running ? flight.next.get() : &flight;
        if (!waiting)
            continue;
        for (const auto &job : waiting->jobs) {
            if (!job->cancelled) {
                queued.insert(it.key(), job->id);
                break;
            }
        }
    }
    return queued;
}

std::shared_ptr<CacheService::Job> CacheService::createJob(JobKind kind)
{
    auto job = std::make_shared<Job>();
    job->kind = kind;
    job->timer.start();
    {
        std::lock_guard lock(m_mutex);
        job->id = m_nextJob++;
        m_jobs.insert(job->id, job);
    }
    return job;
}

int CacheService::startJob(JobKind kind, const QList<qint64> &pks)
{
    auto job = createJob(kind);
    // Emitted after the caller has the id, so it can tell its job's signals from others'.
    QMetaObject::invokeMethod(this, [this, job, pks] { addItems(job, pks); }, Qt::QueuedConnection);
    return job->id;
}

int CacheService::startPlannedJob(JobKind kind, std::function<Result<QList<qint64>>(WorkerContext &)> plan)
{
    auto job = createJob(kind);
    m_pool->post([this, job, plan = std::move(plan)](WorkerContext &context) {
        auto pks = plan(context);
        QMetaObject::invokeMethod(
            this,
            [this, job, pks] {
                if (pks)
                    addItems(job, *pks);
                else
                    jobFailedToPlan(job, pks.error().message);
            },
            Qt::QueuedConnection);
    });
    return job->id;
}

void CacheService::jobFailedToPlan(const std::shared_ptr<Job> &job, const QString &message)
{
    job->total = 0;
    job->firstError = message;
    emit jobStarted(job->id, 0);
    itemDone(job, 0, Error::unavailable(message));
}

void CacheService::addItems(const std::shared_ptr<Job> &job, const QList<qint64> &pks)
{
    job->total = int(pks.size());
    emit jobStarted(job->id, job->total);
    if (pks.isEmpty()) {
        itemDone(job, 0, success());
        return;
    }
    for (qint64 pk : pks) {
        if (job->kind == JobKind::Refresh)
            enqueueRefresh(job, pk);
        else
            m_pool->post([this, job, pk](WorkerContext &context) { runItem(job, pk, context); });
    }
}

void CacheService::runItem(const std::shared_ptr<Job> &job, qint64 pk, WorkerContext &context)
{
    if (job->cancelled) {
        itemDone(job, pk, Error::cancelled(tr("cancelled")));
        return;
    }
    switch (job->kind) {
    case JobKind::Refresh: // enqueueRefresh() posts these
        return;
    case JobKind::Verify:
        verifyItem(job, pk, context);
        return;
    case JobKind::Rollback: {
        Status rolled = m_config.database.readOnly ? Status(Error::invalid(tr("read-only connection: nothing is rolled back")))
            : context.store ? context.store->rollback(pk)
                            : Status(Error::unavailable(tr("the store is unavailable: %1").arg(context.storeError)));
        m_memory->remove(pk);
        if (!rolled)
            ServiceInternals::noteStoreError(context, rolled.error());
        itemDone(job, pk, rolled);
        return;
    }
    case JobKind::Invalidate: {
        Status removed = context.store ? context.store->remove(pk)
                                       : Status(Error::unavailable(tr("the store is unavailable: %1").arg(context.storeError)));
        m_memory->remove(pk);
        if (!removed)
            ServiceInternals::noteStoreError(context, removed.error());
        itemDone(job, pk, removed);
        return;
    }
    }
}

void CacheService::enqueueRefresh(const std::shared_ptr<Job> &job, qint64 pk)
{
    std::shared_ptr<RefreshFlight> created;
    {
        std::lock_guard lock(m_mutex);
        std::shared_ptr<RefreshFlight> &flight = m_refreshing[pk];
        if (!flight) {
            flight = created = std::make_shared<RefreshFlight>();
            flight->jobs.push_back(job);
        } else if (!flight->running) {
            flight->jobs.push_back(job);
        } else {
            if (!flight->next)
                flight->next = std::make_shared<RefreshFlight>();
            flight->next->jobs.push_back(job);
        }
    }
    if (created)
        m_pool->post([this, pk, created](WorkerContext &context) { runRefresh(pk, created, context); });
}

void CacheService::runRefresh(qint64 pk, const std::shared_ptr<RefreshFlight> &flight, WorkerContext &context)
{
    bool wanted = false;
    bool reachable = false;
    QString unavailable;
    {
        std::lock_guard lock(m_mutex);
        flight->running = true; // from now on, requests queue behind it (flight->next)
        for (const auto &job : flight->jobs) {
            wanted = wanted || !job->cancelled;
            reachable = reachable || !job->storeUnavailable;
            if (job->storeUnavailable)
                unavailable = job->unavailableMessage;
        }
    }
    if (!wanted) {
        refreshDone(pk, flight, Error::cancelled(tr("cancelled")));
        return;
    }
    if (!reachable) {
        refreshDone(pk, flight, Error::unavailable(unavailable));
        return;
    }
    const ServiceInternals internals { m_config, *m_memory, *m_telemetry };
    if (!context.store) {
        internals.refreshWritten(nullptr, Error::unavailable({}), 0);
        refreshDone(pk, flight, Error::unavailable(tr("the store is unavailable: %1").arg(context.storeError)));
        return;
    }
    QElapsedTimer timer;
    timer.start();
    auto entry = ServiceInternals::serialize(context, pk);
    if (!entry) {
        internals.refreshWritten(nullptr, entry.error(), double(timer.nsecsElapsed()) / 1e9);
        refreshDone(pk, flight, entry.error());
        return;
    }
    // Written by this thread or, together with others, by the thread already writing.
    // A failure of this thread's own write (it writes its own entry when it leads a batch) marks
    // its store for reopening.
    QThread *const thread = QThread::currentThread();
    m_groupCommit.submit(*context.store, *entry,
                         [this, internals, pk, flight, entry = *entry, timer, thread, &context](const Status &written) {
                             if (!written && QThread::currentThread() == thread)
                                 ServiceInternals::noteStoreError(context, written.error());
                             internals.refreshWritten(entry, written, double(timer.nsecsElapsed()) / 1e9);
                             refreshDone(pk, flight, written);
                         },
                         context.store->prefersBatches() && m_pool->onlyBackgroundQueued());
}

void CacheService::refreshDone(qint64 pk, const std::shared_ptr<RefreshFlight> &flight, const Status &status)
{
    std::vector<std::shared_ptr<Job>> jobs;
    std::shared_ptr<RefreshFlight> next;
    {
        std::lock_guard lock(m_mutex);
        if (!status && status.error().kind == Error::Kind::Unavailable) {
            for (const auto &job : flight->jobs) {
                if (!job->storeUnavailable.exchange(true))
                    job->unavailableMessage = status.error().message;
            }
        }
        jobs = std::move(flight->jobs);
        next = flight->next;
        if (next)
            m_refreshing.insert(pk, next);
        else
            m_refreshing.remove(pk);
    }
    if (next)
        m_pool->post([this, pk, next](WorkerContext &nextContext) { runRefresh(pk, next, nextContext); });
    for (const auto &job : jobs)
        itemDone(job, pk, status);
}

void CacheService::verifyItem(const std::shared_ptr<Job> &job, qint64 pk, WorkerContext &context)
{
    auto verification = ServiceInternals::verify(context, pk);
    if (verification) {
        {
            std::lock_guard lock(m_mutex);
            m_verifications.insert(pk, *verification);
        }
        QMetaObject::invokeMethod(this, [this, job, pk, v = *verification] { emit entryVerified(job->id, pk, v); },
                                  Qt::QueuedConnection);
    }
    itemDone(job, pk, verification ? success() : Status(verification.error()));
}

void CacheService::itemDone(const std::shared_ptr<Job> &job, qint64 pk, const Status &status)
{
    QMetaObject::invokeMethod(
        this,
        [this, job, pk, status] {
            if (job->total > 0) {
                if (status) {
                    ++job->done;
                    if (job->kind != JobKind::Verify)
                        emit entryRefreshed(job->id, pk);
                } else if (status.error().kind == Error::Kind::Cancelled) {
                    ++job->skipped;
                } else {
                    ++job->failed;
                    if (job->firstError.isEmpty())
                        job->firstError = status.error().message;
                    emit entryFailed(job->id, pk, status.error().message);
                }
                emit jobProgress(job->id, job->done + job->failed + job->skipped, job->total);
            }
            if (job->done + job->failed + job->skipped < job->total)
                return;
            {
                std::lock_guard lock(m_mutex);
                m_jobs.remove(job->id);
            }
            JobSummary summary { job->id, job->total, job->done, job->failed, job->cancelled || job->skipped > 0,
                                 double(job->timer.nsecsElapsed()) / 1e9, job->firstError };
            if (job->kind != JobKind::Verify && job->done > 0)
                emit entriesChanged({});
            emit jobFinished(summary);
        },
        Qt::QueuedConnection);
}
