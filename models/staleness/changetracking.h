#pragma once

#include "core/result.h"
#include "db/databaseconfig.h"

#include <QDateTime>
#include <QHash>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

class Database;

// Change tracking: namespaced triggers on the Django tables that record, in a change log of their
// own (preserve_changes_<label>), which Foo ids any insert, update or delete of Foo, Bar, Zab, Baz
// or a Zab<->Baz link affects (a change to one Baz marks every Foo that reaches it). On PostgreSQL
// each change also NOTIFYs channel notifyChannel(label) with the Foo id, so staleness shows up
// live. Installing is idempotent; uninstalling removes exactly what install added. Updates of
// Foo.pre_serialized alone (the cache itself) are not changes; neither is writing a value back
// unchanged.
//
// Positions: "which changes does a body reflect" never depends on clocks.
// - SQLite: a position is a log id. There is one writer at a time, so ids become visible in order.
// - PostgreSQL: a position is a transaction id (xid) bound: position() is the reader's snapshot
//   xmin - 1, and a change is "after p" when the xid of the transaction that wrote it is > p. Log ids
//   are taken at write time but become visible at commit, out of order, so max(id) could hide a
//   change committed later with a smaller id; xids against xmin cannot (a change visible to the
//   snapshot but above its xmin reads as after: at worst one refresh too many, never a false fresh).
// In both, a re-install after uninstall continues above every earlier position (SQLite: the first
// row of a new log starts at the install's time in microseconds), so an old position never reads as
// covered by a new log.
//
// All functions run on the calling thread with the Database's connection (Qt SQL's rule).
namespace ChangeTracking {

struct Change {
    qint64 foo = 0;
    qint64 position = 0; // of this Foo's latest change (the scale of position(), see above)
    QString reason; // "Baz 17 updated", "Zab 3 deleted", "link Zab 9 -> Baz 2 inserted", …
    QDateTime at; // UTC, informational only
};

struct State {
    bool installed = false; // the log table and every trigger of triggerNames() are present
    bool logTable = false; // the log table exists (it may outlive a trigger someone dropped)
    qint64 position = 0; // position() now (0: not installed)
    // The log is complete for bodies built at a position >= trackedSince: the position of the
    // latest install that started (or restarted, after a gap with triggers missing) tracking.
    // A body built below it, or with no tracking at all, has unknown staleness. 0: no log.
    qint64 trackedSince = 0;
    // What started that period: "tracking installed", or "log rows deleted by hand" when rows the
    // log needs were deleted (or the log truncated) by someone other than prune().
    QString trackedSinceReason;
    qint64 logRows = 0; // including the "tracking installed" markers
    QStringList triggers; // of triggerNames(), those present, sorted
    QStringList missing; // of triggerNames(), those absent (all of them when nothing is installed)
};

// Refuses a read-only DatabaseConfig. Replaces the triggers (and functions) in one transaction,
// keeps an existing log (positions stay valid); starts a new tracking period (trackedSince) only
// when tracking was not complete before.
Status install(Database &database);
// Drops the triggers, functions and the log that install() created, nothing else. Idempotent.
Status uninstall(Database &database);
Result<State> state(Database &database);
// The position a serialization reflects when read before it or inside its ReadSnapshot; 0 when
// tracking is not installed.
Result<qint64> position(Database &database);
// Per Foo, its latest change with a position greater than `since` (one query). NotFound when
// tracking is not installed.
Result<QHash<qint64, Change>> changesSince(Database &database, qint64 since);
// One Foo's latest change with a position greater than `since` (nullopt: none), through the log's
// index on foo_id: cheap enough for every cache hit. NotFound when tracking is not installed.
Result<std::optional<Change>> latestChange(Database &database, qint64 foo, qint64 since);
// Every change row (Foo, position) at or below `upTo`, for deciding how far prune() may go.
Result<QList<std::pair<qint64, qint64>>> changeRows(Database &database, qint64 upTo);
// Deletes log rows at or below `position` (after every entry reflects them); keeps the marker that
// trackedSince reads. NotFound when tracking is not installed.
Status prune(Database &database, qint64 position);

// Keep-fresh workers leave a heartbeat, one row each in preserve_workers_<label> (made by install(),
// or by the first beat on an older install; dropped by uninstall()), about once a second. Anyone
// connected to the database can tell whether a worker runs, where, its queue and its lag.
struct WorkerBeat {
    QString id;            // host:pid
    QString host;
    qint64 pid = 0;
    bool active = false;   // following the log (not a SQLite standby)
    qint64 queued = 0;
    qint64 lagMs = 0;      // the last batch's
    qint64 refreshed = 0;
    qint64 errors = 0;
    QDateTime startedAt;
    double ageSeconds = 0; // since its last beat, by the database's clock
    // A worker that beat within this many seconds runs; one silent for longer has stopped or hangs.
    static constexpr double aliveSeconds = 5;
    bool alive() const { return ageSeconds <= aliveSeconds; }
};
// Makes the table when an older install lacks it (once, before the first beat).
Status prepareWorkers(Database &database);
Status beat(Database &database, const WorkerBeat &worker);
// The worker's row goes (at a clean stop); rows silent for an hour go with any beat.
Status leave(Database &database, const QString &id);
// Every worker seen in the last hour, the most recent beat first; none when there is no table.
Result<QList<WorkerBeat>> workers(Database &database);
// One line for people: "2 running: host:41 (active, queue 0, lag 35 ms), …; 1 silent for 42 s: …",
// or "none running".
QString describeWorkers(const QList<WorkerBeat> &workers);

QString notifyChannel(const QString &appLabel);
QString logTableName(const QString &appLabel);
QString workersTableName(const QString &appLabel);
// The triggers install() creates on that engine (preserve_track_<label>_<model>_<ins|upd|del|…>),
// sorted: read from its template.
QStringList triggerNames(const QString &appLabel, DatabaseConfig::Engine engine);

} // namespace ChangeTracking
