#include "foorowstate.h"

#include <QCoreApplication>

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("FooTreeModel", text);
}

QString when(const QDateTime &at)
{
    return at.isValid() ? at.toLocalTime().toString(Qt::ISODate) : tr("an unknown time");
}

} // namespace

FooRowOutcome outcomeOf(const Verification &verification)
{
    FooRowOutcome outcome;
    outcome.verdict = verification.identical ? FooTreeModel::Verdict::Identical
        : verification.keyOrderOnly           ? FooTreeModel::Verdict::KeyOrderOnly
                                              : FooTreeModel::Verdict::Differs;
    outcome.summary = verification.summary;
    outcome.details = verification.details;
    outcome.digest = verification.digest;
    outcome.at = verification.at;
    return outcome;
}

FooRowOutcome failureOf(const QString &message)
{
    FooRowOutcome outcome;
    outcome.verdict = FooTreeModel::Verdict::Failed;
    outcome.summary = message;
    outcome.at = QDateTime::currentDateTimeUtc();
    return outcome;
}

QString verdictWord(FooTreeModel::Verdict verdict)
{
    switch (verdict) {
    case FooTreeModel::Verdict::None: break;
    case FooTreeModel::Verdict::Identical: return tr("identical");
    case FooTreeModel::Verdict::KeyOrderOnly: return tr("key order");
    case FooTreeModel::Verdict::Differs: return tr("differs");
    case FooTreeModel::Verdict::Failed: return tr("failed");
    }
    return {};
}

QStringList outcomeLines(const FooRowOutcome &outcome)
{
    switch (outcome.verdict) {
    case FooTreeModel::Verdict::None: return {};
    case FooTreeModel::Verdict::Identical:
        return { tr("Verified at %1: identical to a live serialization.").arg(when(outcome.at)) };
    case FooTreeModel::Verdict::KeyOrderOnly:
        return { tr("Verified at %1: the same values as live, in another key order.").arg(when(outcome.at)) };
    case FooTreeModel::Verdict::Differs:
        return QStringList { tr("Verified at %1: differs from live (%2).").arg(when(outcome.at), outcome.summary) }
        + outcome.details;
    case FooTreeModel::Verdict::Failed:
        return { tr("Failed at %1: %2").arg(when(outcome.at), outcome.summary) };
    }
    return {};
}

int stateRank(EntryState state)
{
    switch (state) {
    case EntryState::Corrupt: return 0;
    case EntryState::Stale: return 1;
    case EntryState::Missing: return 2;
    case EntryState::Refreshing: return 3;
    case EntryState::Foreign: return 4;
    case EntryState::Unknown: return 5;
    case EntryState::Orphan: return 7;
    case EntryState::Fresh: return 6;
    }
    return 7;
}

QColor stateColor(EntryState state)
{
    switch (state) {
    case EntryState::Fresh: return QColor(0x2e, 0x7d, 0x32);
    case EntryState::Stale: return QColor(0xe6, 0x51, 0x00);
    case EntryState::Missing: return QColor(0x75, 0x75, 0x75);
    case EntryState::Corrupt: return QColor(0xc6, 0x28, 0x28);
    case EntryState::Foreign: return QColor(0x15, 0x65, 0xc0);
    case EntryState::Refreshing: return QColor(0x6a, 0x1b, 0x9a);
    case EntryState::Unknown:
    case EntryState::Orphan: break;
    }
    return QColor(0x9e, 0x9e, 0x9e);
}

StatusSnapshot StatusSnapshot::of(const QList<EntryStatus> &statuses, const QHash<qint64, EntryStatus> &base)
{
    StatusSnapshot snapshot;
    snapshot.byPk.reserve(statuses.size());
    for (const EntryStatus &status : statuses)
        snapshot.byPk.insert(status.pk, status);
    snapshot.counts = countsOf(snapshot.byPk); // from the map: a pk listed twice counts once
    snapshot.base = base;
    snapshot.changed = changes(base, snapshot.byPk);
    return snapshot;
}

QHash<EntryState, int> StatusSnapshot::countsOf(const QHash<qint64, EntryStatus> &byPk)
{
    QHash<EntryState, int> counts;
    for (const EntryStatus &status : byPk)
        ++counts[status.state];
    return counts;
}

QList<qint64> StatusSnapshot::changes(const QHash<qint64, EntryStatus> &from, const QHash<qint64, EntryStatus> &to)
{
    QList<qint64> changed;
    for (auto it = to.cbegin(); it != to.cend(); ++it) {
        const auto before = from.constFind(it.key());
        if (before == from.cend() || !sameStatus(*before, *it))
            changed.append(it.key());
    }
    for (auto it = from.cbegin(); it != from.cend(); ++it) {
        if (!to.contains(it.key()))
            changed.append(it.key());
    }
    return changed;
}

bool sameStatus(const EntryStatus &a, const EntryStatus &b)
{
    return a.state == b.state && a.reason == b.reason && a.cachedAt == b.cachedAt && a.size == b.size
        && a.digest == b.digest && a.serializerVersion == b.serializerVersion && a.foreign == b.foreign;
}

qint64 ageSeconds(const EntryStatus &status)
{
    return status.cachedAt.isValid() ? status.cachedAt.secsTo(QDateTime::currentDateTimeUtc()) : -1;
}

QString richToolTip(const QStringList &lines)
{
    QStringList escaped;
    escaped.reserve(lines.size());
    for (const QString &line : lines)
        escaped << line.toHtmlEscaped();
    return QStringLiteral("<qt>") + escaped.join(QStringLiteral("<br/>")) + QStringLiteral("</qt>");
}
