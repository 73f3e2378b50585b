#pragma once

#include "cache/groupcommit.h"
#include "core/result.h"
#include "staleness/entrystatus.h"

#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QSet>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

class CacheStore;
class MemoryTier;
class Telemetry;
class WorkerPool;
struct CacheConfig;
struct JobSummary;
struct WorkerContext;

// CacheService's jobs: refresh, invalidate, verify and roll back, item by item on the service's
// worker pool, with progress and cancel. Refreshes of one pk coalesce, and refreshed entries are
// written through one GroupCommit. Lives on the service's thread (its signals are emitted there);
// cancel() and the queries may be called from any thread.
class CacheJobs : public QObject {
    Q_OBJECT

public:
    enum class Kind { Refresh, Invalidate, Verify, Rollback };

    CacheJobs(const CacheConfig &config, WorkerPool &pool, MemoryTier &memory, Telemetry &telemetry,
              QObject *parent = nullptr);
    ~CacheJobs() override;

    // A job whose pks are known now, or (planned) computed first on a worker. Returns its id; the
    // signals follow once the caller has it.
    int start(Kind kind, const QList<qint64> &pks);
    int startPlanned(Kind kind, std::function<Result<QList<qint64>>(WorkerContext &)> plan);
    void cancel(int job);
    void cancelAll();
    bool isRunning(int job) const;
    int running() const;
    // The Foos whose refresh is queued and not started yet, with the job that queued each first.
    QHash<qint64, int> queuedRefreshes() const;
    // The Foos whose refresh is queued or under way.
    QSet<qint64> refreshing() const;
    bool isRefreshing(qint64 pk) const;
    // The last verification of each Foo verified since the service started.
    QHash<qint64, Verification> verifications() const;
    // Writes the refreshed entries the group commit holds for this worker's store.
    void flush(CacheStore &store);

signals:
    void jobStarted(int job, int total);
    void jobProgress(int job, int done, int total);
    void entryRefreshed(int job, qint64 pk);
    void entryFailed(int job, qint64 pk, const QString &message);
    void entryVerified(int job, qint64 pk, const Verification &verification);
    void jobFinished(const JobSummary &summary);
    // Some entries were refreshed, invalidated or rolled back (which, entryRefreshed told).
    void entriesChanged();

private:
    struct Job;
    struct RefreshFlight;

    std::shared_ptr<Job> createJob(Kind kind);
    void addItems(const std::shared_ptr<Job> &job, const QList<qint64> &pks);
    void runItem(const std::shared_ptr<Job> &job, qint64 pk, WorkerContext &context);
    using Flight = std::pair<qint64, std::shared_ptr<RefreshFlight>>;
    // Refreshes coalesce: a request for a pk whose refresh is queued joins it; one for a pk whose
    // refresh already runs (and may have read the database before the change that prompted the
    // request) is queued to run right after it, once however many ask. The new ones are posted in
    // chunks of consecutive pks, up to maxChunk (verifications too). Any thread.
    static constexpr qsizetype maxChunk = 32;
    qsizetype chunkSize(qsizetype total) const;
    void enqueueRefreshes(const std::shared_ptr<Job> &job, const QList<qint64> &pks);
    void runRefreshes(const std::vector<Flight> &flights, WorkerContext &context);
    void refreshDone(qint64 pk, const std::shared_ptr<RefreshFlight> &flight, const Status &status);
    void verifyItems(const std::shared_ptr<Job> &job, const QList<qint64> &pks, WorkerContext &context);
    // Called on any thread; counts on the jobs' thread. Outcomes queue up and go over in one
    // queued call for however many arrive before the jobs' thread takes them: one call per Foo
    // (two for a verification) was a tenth of a verify of 100,000 small Foos, and a warm's every
    // entry woke the jobs' thread.
    void itemDone(const std::shared_ptr<Job> &job, qint64 pk, const Status &status);
    // Many verified, in order: entryVerified for each success, then what itemDone reports.
    struct Verified {
        qint64 pk = 0;
        Result<Verification> verification;
    };
    void itemsVerified(const std::shared_ptr<Job> &job, std::vector<Verified> items);
    struct Outcome {
        std::shared_ptr<Job> job;
        qint64 pk = 0;
        Status status;
        std::optional<Verification> verified;
    };
    void queueOutcomes(std::vector<Outcome> outcomes);
    void takeOutcomes(); // on the jobs' thread
    void countItem(Job &job, qint64 pk, const Status &status);
    void finishIfDone(const std::shared_ptr<Job> &job);
    void jobFailedToPlan(const std::shared_ptr<Job> &job, const QString &message);

    const CacheConfig &m_config;
    WorkerPool &m_pool;
    MemoryTier &m_memory;
    Telemetry &m_telemetry;

    mutable std::mutex m_mutex; // guards the maps below
    QHash<int, std::shared_ptr<Job>> m_jobs;
    QHash<qint64, std::shared_ptr<RefreshFlight>> m_refreshing; // pk → the refresh queued or under way
    QHash<qint64, Verification> m_verifications;
    std::mutex m_outcomesMutex; // guards m_outcomes
    std::vector<Outcome> m_outcomes; // not yet taken by the jobs' thread; a call is on its way when not empty
    int m_nextJob = 1;
    // Refreshes write through it, so a warm commits many entries per disk sync.
    GroupCommit m_groupCommit;
};
