#pragma once

#include "footreemodel.h"
#include "staleness/entrystatus.h"

#include <QByteArray>
#include <QColor>
#include <QDateTime>
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

// Sorting by state puts what needs attention first.
int stateRank(EntryState state);
QColor stateColor(EntryState state);
bool sameStatus(const EntryStatus &a, const EntryStatus &b);
// Seconds since the entry was cached; -1 when unknown.
qint64 ageSeconds(const EntryStatus &status);

// A tooltip of plain lines as rich text with every line escaped: a name like "<b>&amp;" shows as
// typed (QToolTip would take it for markup), and long lines still wrap.
QString richToolTip(const QStringList &lines);
