#include "cachejobs.h"

#include "cache/cacheservice.h"

#include "cache/cachestore.h"
#include "cache/workertasks.h"
#include "cache/workerpool.h"
#include "db/database.h"

#include <QElapsedTimer>
#include <QScopeGuard>
#include <QThread>

#include <algorithm>
#include <atomic>

struct CacheJobs::Job {
    int id = 0;
    Kind kind = Kind::Refresh;
    int total = -1; // -1 while the pks are being planned
    int done = 0;
    int failed = 0;
    int skipped = 0;
    QString firstError;
    std::atomic<bool> cancelled { false };
    // Set when the store answered "unavailable": the job's other items fail at once instead of
    // each waiting for its own timeout (Redis frozen: one timeout, not one per Foo).
    std::atomic<bool> storeUnavailable { false };
    QString unavailableMessage; // guarded by CacheJobs::m_mutex
    QElapsedTimer timer;
};

// One refresh of one pk, queued or running, and the jobs that wait for it. Guarded by m_mutex.
struct CacheJobs::RefreshFlight {
    std::vector<std::shared_ptr<Job>> jobs;
    bool running = false;
    std::shared_ptr<RefreshFlight> next; // asked for while this one ran
};

CacheJobs::CacheJobs(const CacheConfig &config, WorkerPool &pool, MemoryTier &memory, Telemetry &telemetry,
                     QObject *parent)
    : QObject(parent)
    , m_config(config)
    , m_pool(pool)
    , m_memory(memory)
    , m_telemetry(telemetry)
{
}

CacheJobs::~CacheJobs() = default;

QSet<qint64> CacheJobs::refreshing() const
{
    std::lock_guard lock(m_mutex);
    QSet<qint64> pks;
    for (auto it = m_refreshing.cbegin(); it != m_refreshing.cend(); ++it)
        pks.insert(it.key());
    return pks;
}

bool CacheJobs::isRefreshing(qint64 pk) const
{
    std::lock_guard lock(m_mutex);
    return m_refreshing.contains(pk);
}

QHash<qint64, Verification> CacheJobs::verifications() const
{
    std::lock_guard lock(m_mutex);
    return m_verifications;
}

void CacheJobs::flush(CacheStore &store)
{
    m_groupCommit.flush(store);
}

void CacheJobs::cancel(int jobId)
{
    std::lock_guard lock(m_mutex);
    if (const auto job = m_jobs.value(jobId))
        job->cancelled = true;
}

void CacheJobs::cancelAll()
{
    std::lock_guard lock(m_mutex);
    for (const auto &job : std::as_const(m_jobs))
        job->cancelled = true;
}

bool CacheJobs::isRunning(int jobId) const
{
    std::lock_guard lock(m_mutex);
    return m_jobs.contains(jobId);
}

int CacheJobs::running() const
{
    std::lock_guard lock(m_mutex);
    return int(m_jobs.size());
}

QHash<qint64, int> CacheJobs::queuedRefreshes() const
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

std::shared_ptr<CacheJobs::Job> CacheJobs::createJob(Kind kind)
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

int CacheJobs::start(Kind kind, const QList<qint64> &pks)
{
    auto job = createJob(kind);
    // Emitted after the caller has the id, so it can tell its job's signals from others'.
    QMetaObject::invokeMethod(this, [this, job, pks] { addItems(job, pks); }, Qt::QueuedConnection);
    return job->id;
}

int CacheJobs::startPlanned(Kind kind, std::function<Result<QList<qint64>>(WorkerContext &)> plan)
{
    auto job = createJob(kind);
    m_pool.post([this, job, plan = std::move(plan)](WorkerContext &context) {
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

void CacheJobs::jobFailedToPlan(const std::shared_ptr<Job> &job, const QString &message)
{
    job->total = 0;
    job->firstError = message;
    emit jobStarted(job->id, 0);
    itemDone(job, 0, Error::unavailable(message));
}

void CacheJobs::addItems(const std::shared_ptr<Job> &job, const QList<qint64> &pks)
{
    job->total = int(pks.size());
    emit jobStarted(job->id, job->total);
    if (pks.isEmpty()) {
        itemDone(job, 0, success());
        return;
    }
    if (job->kind == Kind::Refresh) {
        enqueueRefreshes(job, pks);
        return;
    }
    if (job->kind == Kind::Verify) {
        const qsizetype size = chunkSize(pks.size());
        for (qsizetype from = 0; from < pks.size(); from += size)
            m_pool.post([this, job, chunk = pks.mid(from, size)](WorkerContext &context) { verifyItems(job, chunk, context); });
        return;
    }
    for (qint64 pk : pks)
        m_pool.post([this, job, pk](WorkerContext &context) { runItem(job, pk, context); });
}

void CacheJobs::runItem(const std::shared_ptr<Job> &job, qint64 pk, WorkerContext &context)
{
    if (job->cancelled) {
        itemDone(job, pk, Error::cancelled(tr("cancelled")));
        return;
    }
    switch (job->kind) {
    case Kind::Refresh: // addItems() posts these and verifications in chunks
    case Kind::Verify:
        return;
    case Kind::Rollback: {
        Status rolled = m_config.database.readOnly ? Status(Error::invalid(tr("read-only connection: nothing is rolled back")))
            : context.store ? context.store->rollback(pk)
                            : Status(Error::unavailable(tr("the store is unavailable: %1").arg(context.storeError)));
        m_memory.remove(pk);
        if (!rolled)
            WorkerTasks::noteStoreError(context, rolled.error());
        itemDone(job, pk, rolled);
        return;
    }
    case Kind::Invalidate: {
        Status removed = context.store ? context.store->remove(pk)
                                       : Status(Error::unavailable(tr("the store is unavailable: %1").arg(context.storeError)));
        m_memory.remove(pk);
        if (!removed)
            WorkerTasks::noteStoreError(context, removed.error());
        itemDone(job, pk, removed);
        return;
    }
    }
}

qsizetype CacheJobs::chunkSize(qsizetype total) const
{
    // Consecutive Foos go to a worker together, so that they can share a snapshot (see
    // WorkerTasks::serializeMany); chunks stay small enough that every worker gets several.
    const qsizetype threads = qMax<qsizetype>(1, qsizetype(m_pool.threadCount()));
    return std::clamp<qsizetype>(total / (threads * 8), 1, maxChunk);
}

void CacheJobs::enqueueRefreshes(const std::shared_ptr<Job> &job, const QList<qint64> &pks)
{
    const qsizetype size = chunkSize(pks.size());
    std::vector<Flight> chunk;
    const auto post = [this, &chunk] {
        if (!chunk.empty())
            m_pool.post([this, flights = std::move(chunk)](WorkerContext &context) { runRefreshes(flights, context); });
        chunk = {};
    };
    for (qint64 pk : pks) {
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
        if (created) {
            chunk.push_back({ pk, created });
            if (qsizetype(chunk.size()) >= size)
                post();
        }
    }
    post();
}

void CacheJobs::runRefreshes(const std::vector<Flight> &flights, WorkerContext &context)
{
    std::vector<Flight> toRun;
    QList<qint64> pks;
    for (const auto &[pk, flight] : flights) {
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
        } else if (!reachable) {
            refreshDone(pk, flight, Error::unavailable(unavailable));
        } else {
            toRun.push_back({ pk, flight });
            pks << pk;
        }
    }
    if (toRun.empty())
        return;
    const WorkerTasks tasks { m_config, m_memory, m_telemetry };
    if (!context.store) {
        for (const auto &[pk, flight] : toRun) {
            tasks.refreshWritten(nullptr, Error::unavailable({}), 0, 0);
            refreshDone(pk, flight, Error::unavailable(tr("the store is unavailable: %1").arg(context.storeError)));
        }
        return;
    }
    QElapsedTimer timer;
    timer.start();
    const quint64 mark = m_memory.mark();
    // Where readers wait for each commit (a rollback-journal SQLite file, with the column store's
    // batches), the gzip'd bodies are made by GroupCommit: by this thread while it waits for
    // another's commit to end, else by the one that writes; those waits were a fifth of the
    // workers' time in a warm of wide. Elsewhere no reader waits to help, and the one writing
    // thread would compress every entry alone: each worker compresses its own, as it serializes.
    const bool later = context.database && context.store->prefersBatches() && context.database->commitsKeepReadersOut();
    if (later)
        context.database->setLockWaitWork([this] { return m_groupCommit.help(); });
    const auto noWork = qScopeGuard([&context, later] {
        if (later && context.database)
            context.database->setLockWaitWork({});
    });
    auto entries = WorkerTasks::serializeMany(context, pks, later ? WorkerTasks::Gzip::Later : WorkerTasks::Gzip::Build);
    if (entries.size() < toRun.size()) { // the connection broke: the rest on a new one
        std::vector<Flight> rest(toRun.begin() + qsizetype(entries.size()), toRun.end());
        toRun.erase(toRun.begin() + qsizetype(entries.size()), toRun.end());
        m_pool.post([this, rest = std::move(rest)](WorkerContext &next) { runRefreshes(rest, next); });
    }
    size_t last = 0; // the last entry to submit: it may not wait unless more work is queued
    for (size_t i = 0; i < entries.size(); ++i) {
        if (entries[i])
            last = i;
    }
    // Written by this thread or, together with others, by the thread already writing. A failure
    // of this thread's own write (it writes its own entries when it leads a batch) marks its store
    // for reopening. All but the chunk's last entry may wait: more follow at once.
    QThread *const thread = QThread::currentThread();
    for (size_t i = 0; i < toRun.size(); ++i) {
        const auto &[pk, flight] = toRun[i];
        auto &entry = entries[i];
        if (!entry) {
            tasks.refreshWritten(nullptr, entry.error(), double(timer.nsecsElapsed()) / 1e9, mark);
            refreshDone(pk, flight, entry.error());
            continue;
        }
        const bool mayWait = context.store->prefersBatches() && (i < last || m_pool.onlyBackgroundQueued());
        m_groupCommit.submit(*context.store, *entry,
                             [this, tasks, pk = pk, flight = flight, timer, mark, thread, &context](const Status &written, const EntryPtr &entry) {
                                 if (!written && QThread::currentThread() == thread)
                                     WorkerTasks::noteStoreError(context, written.error());
                                 tasks.refreshWritten(entry, written, double(timer.nsecsElapsed()) / 1e9, mark);
                                 refreshDone(pk, flight, written);
                             },
                             mayWait);
    }
}

void CacheJobs::refreshDone(qint64 pk, const std::shared_ptr<RefreshFlight> &flight, const Status &status)
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
        m_pool.post([this, pk, next](WorkerContext &nextContext) { runRefreshes({ { pk, next } }, nextContext); });
    for (const auto &job : jobs)
        itemDone(job, pk, status);
}

void CacheJobs::verifyItems(const std::shared_ptr<Job> &job, const QList<qint64> &pks, WorkerContext &context)
{
    if (job->cancelled) {
        for (qint64 pk : pks)
            itemDone(job, pk, Error::cancelled(tr("cancelled")));
        return;
    }
    auto verifications = WorkerTasks::verifyMany(context, pks);
    if (qsizetype(verifications.size()) < pks.size()) // the connection broke: the rest on a new one
        m_pool.post([this, job, rest = pks.mid(qsizetype(verifications.size()))](WorkerContext &next) { verifyItems(job, rest, next); });
    std::vector<Verified> items;
    items.reserve(verifications.size());
    for (size_t i = 0; i < verifications.size(); ++i)
        items.push_back({ pks[qsizetype(i)], std::move(verifications[i]) });
    itemsVerified(job, std::move(items));
}

void CacheJobs::itemDone(const std::shared_ptr<Job> &job, qint64 pk, const Status &status)
{
    std::vector<Outcome> one;
    one.push_back({ job, pk, status, std::nullopt });
    queueOutcomes(std::move(one));
}

void CacheJobs::itemsVerified(const std::shared_ptr<Job> &job, std::vector<Verified> items)
{
    std::vector<Outcome> outcomes;
    outcomes.reserve(items.size());
    {
        std::lock_guard lock(m_mutex);
        for (Verified &item : items) {
            if (item.verification) {
                m_verifications.insert(item.pk, *item.verification);
                outcomes.push_back({ job, item.pk, success(), std::move(item.verification.value()) });
            } else {
                outcomes.push_back({ job, item.pk, item.verification.error(), std::nullopt });
            }
        }
    }
    queueOutcomes(std::move(outcomes));
}

void CacheJobs::queueOutcomes(std::vector<Outcome> outcomes)
{
    if (outcomes.empty())
        return;
    bool first = false;
    {
        std::lock_guard lock(m_outcomesMutex);
        first = m_outcomes.empty();
        if (first)
            m_outcomes = std::move(outcomes);
        else
            m_outcomes.insert(m_outcomes.end(), std::make_move_iterator(outcomes.begin()), std::make_move_iterator(outcomes.end()));
    }
    if (first) // the call on its way takes these too
        QMetaObject::invokeMethod(this, [this] { takeOutcomes(); }, Qt::QueuedConnection);
}

void CacheJobs::takeOutcomes()
{
    std::vector<Outcome> outcomes;
    {
        std::lock_guard lock(m_outcomesMutex);
        outcomes.swap(m_outcomes);
    }
    // Progress once per job and call, after its items are counted; a job that ends says so
    // after its last item.
    std::vector<std::shared_ptr<Job>> progressed;
    const auto report = [&] {
        for (const auto &job : progressed) {
            if (job->total > 0)
                emit jobProgress(job->id, job->done + job->failed + job->skipped, job->total);
            finishIfDone(job);
        }
        progressed.clear();
    };
    for (const Outcome &outcome : outcomes) {
        if (outcome.verified)
            emit entryVerified(outcome.job->id, outcome.pk, *outcome.verified);
        countItem(*outcome.job, outcome.pk, outcome.status);
        if (std::find(progressed.begin(), progressed.end(), outcome.job) == progressed.end())
            progressed.push_back(outcome.job);
        if (outcome.job->done + outcome.job->failed + outcome.job->skipped >= outcome.job->total)
            report(); // its jobFinished before anything of a later item
    }
    report();
}

// On the service's thread: one item's outcome, counted and reported.
void CacheJobs::countItem(Job &job, qint64 pk, const Status &status)
{
    if (job.total <= 0)
        return;
    if (status) {
        ++job.done;
        if (job.kind != Kind::Verify)
            emit entryRefreshed(job.id, pk);
    } else if (status.error().kind == Error::Kind::Cancelled) {
        ++job.skipped;
    } else {
        ++job.failed;
        if (job.firstError.isEmpty())
            job.firstError = status.error().message;
        emit entryFailed(job.id, pk, status.error().message);
    }
}

void CacheJobs::finishIfDone(const std::shared_ptr<Job> &job)
{
    if (job->done + job->failed + job->skipped < job->total)
        return;
    {
        std::lock_guard lock(m_mutex);
        m_jobs.remove(job->id);
    }
    JobSummary summary { job->id, job->total, job->done, job->failed, job->cancelled || job->skipped > 0,
                         double(job->timer.nsecsElapsed()) / 1e9, job->firstError };
    if (job->kind != Kind::Verify && job->done > 0)
        emit entriesChanged();
    emit jobFinished(summary);
}
