#pragma once

#include "staleness/changetracking.h"
#include "staleness/entryinfo.h"

#include <QDateTime>
#include <QHash>
#include <QList>
#include <QSet>
#include <QString>
#include <QStringList>

// The state of one Foo's cache entry. The GUI, `preserve status` and /api/status/ all take it from
// computeStatus(), so they never disagree.
// Orphan: an entry whose Foo no longer exists (Redis keeps them; only with StatusInputs::orphans).
enum class EntryState { Fresh, Stale, Missing, Corrupt, Foreign, Refreshing, Unknown, Orphan };
QString entryStateName(EntryState state); // "fresh", "stale", …
// The states in the order a summary lists them (what needs attention after fresh), orphans last.
const QList<EntryState> &summaryStateOrder();

// For QSet<EntryState> (the console's state filter): Qt 6.4 has no qHash for enumerations.
inline size_t qHash(EntryState state, size_t seed = 0) noexcept
{
    return ::qHash(int(state), seed);
}

struct EntryStatus {
    qint64 pk = 0;
    QString name;
    EntryState state = EntryState::Unknown;
    QString reason;     // why, in words: "Baz 17 updated after it was cached", "not in the store", …
    QDateTime cachedAt; // invalid when missing or unknown
    qint64 size = 0;
    QByteArray digest;
    int serializerVersion = 0;
    bool foreign = false;
};

// What a re-serialization found (Verifier): identical to the entry with this digest, or not.
struct Verification {
    QByteArray digest; // of the entry that was compared
    bool identical = false;
    bool keyOrderOnly = false;
    QString summary;   // "identical", "3 changes", …
    QStringList details; // the first differences: "bar_set[3].zab_set[0].bazs[2].name: "a" -> "b""
    QDateTime at;
};

struct StatusInputs {
    QList<std::pair<qint64, QString>> foos; // every Foo: pk and name, by pk
    QList<EntryInfo> entries;               // the store's list()
    bool trackingInstalled = false;
    qint64 trackedSince = 0; // ChangeTracking::State::trackedSince
    QString trackedSinceReason; // ChangeTracking::State::trackedSinceReason
    QHash<qint64, ChangeTracking::Change> changes; // latest change per Foo (any position)
    QSet<qint64> refreshing;
    QHash<qint64, Verification> verifications;
    int serializerVersion = 0;
    bool orphans = false; // also list entries whose Foo is gone, after the Foos (state Orphan)
};

// Rules, in order: refreshing; no entry → missing; unreadable → corrupt; older serializer version →
// stale; written by someone else → foreign; a tracked change after the entry's change position →
// stale (with the change as reason); verified different → stale; tracked with no later change →
// fresh; otherwise unknown since the entry was cached — never a fresh that nothing proved.
QList<EntryStatus> computeStatus(const StatusInputs &inputs);

// "100 Foo: 60 fresh, 40 stale" from a count per state, as `preserve status` ends and the console's
// status bar says; orphans (not Foos) are added after a semicolon.
QString stateSummary(const QHash<EntryState, int> &counts);
