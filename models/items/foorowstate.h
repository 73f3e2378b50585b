#pragma once

#include "footreemodel.h"
#include "staleness/entrystatus.h"

#include <QByteArray>
#include <QColor>
#include <QDateTime>
#include <QHash>
#include <QList>
#include <QString>
#include <QStringList>

// What a Foo row of FooTreeModel shows about its cache entry besides its name: the state from
// CacheService::status() and the outcome of the last job that reported on that Foo. Plain values
// and functions; the model uses them on the GUI thread.

struct FooRowOutcome {
    FooTreeModel::Verdict verdict = FooTreeModel::Verdict::None;
    QString summary;     // "identical", "3 changes", or the error message of a failure
    QStringList details; // the first differences, "bar_set[0].name: "a" -> "b""
    QByteArray digest;   // of the entry that was verified; empty for a failure
    QDateTime at;
};

FooRowOutcome outcomeOf(const Verification &verification);
FooRowOutcome failureOf(const QString &message);
// A word for the state column: "identical", "key order", "differs", "failed".
QString verdictWord(FooTreeModel::Verdict verdict);
// The outcome in a sentence (and its details on further lines), for the tooltip.
QStringList outcomeLines(const FooRowOutcome &outcome);

// One whole read of the entries' states, by Foo pk, with what changed since the read before it. Made
// where the read is made (StatusLoader's thread), so that the GUI thread only swaps it in: on
// 100,000 Foos, building the map and comparing it took the GUI thread about 100 ms.
struct StatusSnapshot {
    QHash<qint64, EntryStatus> byPk;
    QHash<EntryState, int> counts;   // byPk's states (EntryStatus::state), counted
    QHash<qint64, EntryStatus> base; // what `changed` was found against: a copy sharing its data
    QList<qint64> changed;           // in one of the two only, or not sameStatus()

    static StatusSnapshot of(const QList<EntryStatus> &statuses, const QHash<qint64, EntryStatus> &base = {});
    static QHash<EntryState, int> countsOf(const QHash<qint64, EntryStatus> &byPk);
    static QList<qint64> changes(const QHash<qint64, EntryStatus> &from, const QHash<qint64, EntryStatus> &to);
};

// Sorting by state puts what needs attention first.
int stateRank(EntryState state);
QColor stateColor(EntryState state);
bool sameStatus(const EntryStatus &a, const EntryStatus &b);
// Seconds since the entry was cached; -1 when unknown.
qint64 ageSeconds(const EntryStatus &status);

// A tooltip of plain lines as rich text with every line escaped: a name like "<b>&amp;" shows as
// typed (QToolTip would take it for markup), and long lines still wrap.
QString richToolTip(const QStringList &lines);
