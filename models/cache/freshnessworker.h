#pragma once

#include "cache/cacheservice.h"
#include "core/result.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QTimer>

#include <memory>

class Database;

struct FreshnessOptions {
    int pollMs = 50;      // how often the change log is read
    int debounceMs = 50;  // a Foo is refreshed once no change reached it for this long…
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
// One worker is active per database and app label: on PostgreSQL it holds a session advisory lock
// (released by the server when the process dies, kill -9 included), on SQLite an flock on a file
// beside the database. Others wait as standbys and take over within a second. Whoever becomes active
// first refreshes every entry the log says is stale (what a worker killed mid-batch left), then
// follows the log from the position it read before that pass: nothing is missed, nothing depends on
// a cursor kept anywhere. Lives on the service's thread.
class FreshnessWorker : public QObject {
    Q_OBJECT

public:
    struct Stats {
        bool active = false;
        qint64 changes = 0;    // change rows read (the latest per Foo per read)
        qint64 coalesced = 0;  // changes that joined a refresh already pending
        qint64 refreshed = 0;
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

signals:
    void becameActive();
    // The pass over what was stale when this worker became active is done.
    void caughtUp();
    void batchFinished(int refreshed, int failed);
    // After stop(), or with `once` when everything pending is done; `ok`: no refresh failed.
    void finished(bool ok);

private:
    struct Pending { // times in ms of m_clock
        qint64 firstSeenMs = 0;
        qint64 lastSeenMs = 0;
        qint64 notBeforeMs = 0; // after a failure: not before then
        QDateTime changedAt;    // of the latest change, for the lag
    };
    bool tryToLead();
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
    bool m_active = false;
    bool m_stopping = false;
    bool m_finished = false;
    bool m_failures = false;
    qint64 m_cursor = 0;
    int m_catchUpJob = 0;
    int m_batchJob = 0;
    QHash<qint64, QDateTime> m_batch; // pk → the change time it answers
    QHash<qint64, Pending> m_pending;
    QHash<qint64, qint64> m_handled; // per Foo, the latest change position taken
    bool m_readSinceCatchUp = false; // the log was read after the catch-up pass ended
    QElapsedTimer m_clock;
    QElapsedTimer m_sinceStandbyTry;
    QElapsedTimer m_sincePrune;
    QList<std::pair<qint64, qint64>> m_positions; // (m_clock ms, cursor) samples for the prune margin
    std::unique_ptr<CacheStore> m_store;          // the worker's own, to list the entries' positions
    Stats m_stats;
};
