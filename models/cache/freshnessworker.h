#pragma once

#include "cache/cacheservice.h"
#include "core/result.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QHash>
#include <QSet>
#include <QObject>
#include <QTimer>

#include <memory>
#include <thread>

class Database;

struct FreshnessOptions {
    int pollMs = 50;      // how often the change log is read (PostgreSQL: also at once on NOTIFY)
    // A Foo is refreshed once no change reached it for this long… 0: at once; changes that come
    // while its refresh runs still coalesce into the next one.
    int debounceMs = 0;
    int maxDelayMs = 1000; // …or this long after its first pending change, however busy it stays
    int batchSize = 500;  // Foos per refresh job, so that a burst never starves a single change
    bool once = false;    // catch up and drain what is pending, then finish
    // Foos the service's memory tier holds (clients read them lately: the serving process's worker)
    // go before the others when more are due than a batch takes.
    bool hotFirst = false;
    // The change log is pruned this often, up to the oldest position an entry reflects and never
    // past a position read `pruneMarginMs` ago (a refresh under way elsewhere, begun before that,
    // may still write an entry that reflects no more).
    int pruneEveryMs = 60000;
    int pruneMarginMs = 300000;
};

// Keeps the cache fresh by itself: follows the change log that the tracking triggers write and
// refreshes, through the CacheService, exactly the Foos each change reaches, coalescing many changes
// to one Foo within the debounce window into one refresh.
//
// PostgreSQL: any number of workers (one machine or many) share the work. Each reads the whole log
// (woken by the triggers' NOTIFY, or every pollMs); before refreshing a Foo it takes a session
// advisory lock on it with pg_try_advisory_lock (what another worker holds is passed over and tried
// again shortly), and drops it once the entry is written. A Foo whose entry already reflects the
// change (another worker refreshed it meanwhile) is not refreshed again. A worker killed with
// kill -9 loses its session and so its locks: the others, which read the same changes, take those
// Foos on their next try. SQLite (one machine, one writer at a time anyway): one worker is active
// per file, holding an flock beside it; others wait as standbys and take over within a second.
// On becoming active a worker first queues every entry the status calls stale, missing, corrupt or
// unknown (what a worker killed mid-batch left, what was cached before tracking), then follows the
// log from the position it read before that: nothing is missed, nothing depends on a cursor kept
// anywhere. A backlog never starves single changes: a quarter of each batch goes to the newest
// pending ones. On PostgreSQL a worker claims only about twice as many Foos as it has threads, and
// claims more as each is written, so a burst spreads over every worker. Workers leave a heartbeat (ChangeTracking::beat) about once a second. Lives on the
// service's thread.
class FreshnessWorker : public QObject {
    Q_OBJECT

public:
    struct Stats {
        bool active = false;
        qint64 changes = 0;    // change rows read (the latest per Foo per read)
        qint64 coalesced = 0;  // changes that joined a refresh already pending
        qint64 refreshed = 0;
        qint64 doneElsewhere = 0; // pending Foos whose entry reflected the change when taken (another worker's refresh)
        qint64 errors = 0;
        int queued = 0;        // Foos pending now
        double lastLagSeconds = 0; // change committed → entry written, the last batch's slowest
        double maxLagSeconds = 0;
        qint64 prunedThrough = 0; // the log's rows at or below this position were pruned
    };

    FreshnessWorker(CacheService &service, FreshnessOptions options, QObject *parent = nullptr);
    ~FreshnessWorker() override;

    // Opens its own database connection, refuses when change tracking is not installed (naming
    // `preserve track install`), then starts following (or waiting as a standby).
    Status start();
    // Finishes the refresh under way, then emits finished(). Safe to call twice.
    void stop();
    Stats stats() const { return m_stats; }
    QString id() const { return m_id; }

signals:
    void becameActive();
    // What was stale when this worker became active is refreshed (here or by another worker).
    void caughtUp();
    // A refresh job this worker started for `count` Foos (the console names it in its job list).
    void batchStarted(int job, int count);
    void batchFinished(int refreshed, int failed);
    // After stop(), or with `once` when everything pending is done; `ok`: no refresh failed, or
    // every one that did was done since.
    void finished(bool ok);

private:
    struct Pending { // times in ms of m_clock
        qint64 firstSeenMs = 0;
        qint64 lastSeenMs = 0;
        qint64 notBeforeMs = 0; // after a failure, or held by another worker: not before then
        qint64 required = 0;    // an entry at this position or later reflects what is pending
        QDateTime changedAt;    // of the latest change, for the lag (invalid: from the catch-up)
    };
    bool tryToLead();
    void becomeActive();
    void startCatchUp(); // reads the status on a thread of its own, then planCatchUp()
    void planCatchUp(const Result<QList<EntryStatus>> &statuses, qint64 required);
    void finishCatchUpIfDone();
    bool reconnect();
    void listen(); // PostgreSQL: the triggers' NOTIFY wakes the worker up at once
    // PostgreSQL: the advisory locks of as many of `candidates` as are free, up to `limit`.
    QList<qint64> claim(const QList<qint64> &candidates, int limit);
    void release(qint64 pk); // its advisory lock (PostgreSQL)
    void settle(qint64 pk, int job, bool refreshed);
    void beat(); // the heartbeat row others read (ChangeTracking::workers)
    void publish(); // the stats into the service's telemetry (/metrics)
    void poll();
    void readChanges();
    void startDueBatch();
    void onJobFinished(const JobSummary &summary);
    void finishIfDone();
    void pruneLog();

    CacheService &m_service;
    const FreshnessOptions m_options;
    std::unique_ptr<Database> m_database;
    int m_lockFile = -1;
    QTimer m_timer;
    QTimer m_wake; // single shot, 0 ms: a NOTIFY arrived
    const bool m_shared; // PostgreSQL: claims per Foo, no leader
    const QString m_id;  // in the heartbeat table
    bool m_active = false;
    bool m_stopping = false;
    bool m_finished = false;
    bool m_failures = false;
    qint64 m_cursor = 0;
    std::thread m_planner;      // computes the status for the catch-up, off the service's thread
    bool m_planning = false;
    bool m_troubled = false;    // refreshes failed since the last catch-up
    QSet<qint64> m_catchUpLeft; // catch-up Foos not refreshed yet
    int m_catchUpRefreshed = 0;
    QElapsedTimer m_catchUpClock;
    struct InFlight {
        int job = 0;
        qint64 required = 0;  // the position it answers
        QDateTime changedAt;
        bool claimed = false; // its advisory lock is held (PostgreSQL)
    };
    QHash<qint64, InFlight> m_inFlight; // Foos being refreshed, by pk
    QSet<int> m_jobs;                   // refresh jobs under way
    QHash<int, double> m_jobLag;        // refresh job → the slowest lag among its Foos
    QHash<qint64, Pending> m_pending;
    QHash<qint64, qint64> m_handled; // per Foo, the latest change position taken
    bool m_readSinceActive = false; // the log was read after the catch-up was planned
    QElapsedTimer m_clock;
    QElapsedTimer m_sinceStandbyTry;
    QElapsedTimer m_sincePrune;
    QElapsedTimer m_sinceBeat;
    bool m_beating = false; // the heartbeat table is there
    QList<std::pair<qint64, qint64>> m_positions; // (m_clock ms, cursor) samples for the prune margin
    std::unique_ptr<CacheStore> m_store;          // the worker's own, to list the entries' positions
    Stats m_stats;
};
