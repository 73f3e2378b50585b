#include "entrystatus.h"

#include <QObject>

QString entryStateName(EntryState state)
{
    switch (state) {
    case EntryState::Fresh: return QStringLiteral("fresh");
    case EntryState::Stale: return QStringLiteral("stale");
    case EntryState::Missing: return QStringLiteral("missing");
    case EntryState::Corrupt: return QStringLiteral("corrupt");
    case EntryState::Foreign: return QStringLiteral("foreign");
    case EntryState::Refreshing: return QStringLiteral("refreshing");
    case EntryState::Unknown: return QStringLiteral("unknown");
    case EntryState::Orphan: return QStringLiteral("orphan");
    }
    return QStringLiteral("unknown");
}

const QList<EntryState> &summaryStateOrder()
{
    static const QList<EntryState> order { EntryState::Fresh,   EntryState::Stale,      EntryState::Missing,
                                           EntryState::Corrupt, EntryState::Foreign,    EntryState::Refreshing,
                                           EntryState::Unknown, EntryState::Orphan };
    return order;
}

QString stateSummary(const QHash<EntryState, int> &counts)
{
    QStringList parts;
    int foos = 0;
    for (EntryState state : summaryStateOrder()) {
        if (state == EntryState::Orphan || !counts.value(state))
            continue;
        foos += counts.value(state);
        parts << QStringLiteral("%1 %2").arg(counts.value(state)).arg(entryStateName(state));
    }
    QString text = QObject::tr("%1 Foo: %2").arg(foos).arg(parts.join(QStringLiteral(", ")));
    if (const int orphans = counts.value(EntryState::Orphan))
        text += QObject::tr("; %1 orphan entr%2 of Foos that are gone").arg(orphans).arg(orphans == 1 ? "y" : "ies");
    return text;
}

namespace {

QString when(const QDateTime &at)
{
    return at.isValid() ? at.toUTC().toString(Qt::ISODate) : QObject::tr("an unknown time");
}

// The state of an entry that exists and is readable.
std::pair<EntryState, QString> judge(const EntryInfo &entry, const StatusInputs &inputs)
{
    if (!entry.foreign && entry.serializerVersion != inputs.serializerVersion)
        return { EntryState::Stale, QObject::tr("built by serializer version %1, the current one is %2")
                                        .arg(entry.serializerVersion)
                                        .arg(inputs.serializerVersion) };
    const auto verified = inputs.verifications.constFind(entry.pk);
    const bool verifiedThis = verified != inputs.verifications.cend() && !entry.digest.isEmpty()
        && verified->digest == entry.digest;
    if (verifiedThis && !verified->identical && !verified->keyOrderOnly)
        return { EntryState::Stale, QObject::tr("differs from live (%1), verified at %2")
                                        .arg(verified->summary, when(verified->at)) };
    if (entry.foreign)
        return { EntryState::Foreign, QObject::tr("not the body Preserve wrote: written by someone else, or changed since it was cached") };
    if (inputs.trackingInstalled) {
        const auto change = inputs.changes.constFind(entry.pk);
        if (change != inputs.changes.cend() && change->position > entry.changePosition)
            return { EntryState::Stale, QObject::tr("%1 at %2, after it was cached").arg(change->reason, when(change->at)) };
        if (entry.changePosition > 0 && entry.changePosition >= inputs.trackedSince)
            return { EntryState::Fresh, QObject::tr("no tracked change since it was cached at %1").arg(when(entry.cachedAt)) };
        if (!inputs.trackedSinceReason.isEmpty() && inputs.trackedSinceReason != QLatin1String("tracking installed"))
            return { EntryState::Unknown, QObject::tr("cached at %1, before the change log lost rows (%2): changes "
                                                      "before then are unknown")
                                              .arg(when(entry.cachedAt), inputs.trackedSinceReason) };
        return { EntryState::Unknown, QObject::tr("cached before change tracking was installed, at %1")
                                          .arg(when(entry.cachedAt)) };
    }
    if (verifiedThis)
        return { EntryState::Unknown, QObject::tr("identical to live when verified at %1; changes are not tracked")
                                          .arg(when(verified->at)) };
    return { EntryState::Unknown, QObject::tr("unknown since %1: change tracking is not installed").arg(when(entry.cachedAt)) };
}

} // namespace

QList<EntryStatus> computeStatus(const StatusInputs &inputs)
{
    QHash<qint64, const EntryInfo *> entries;
    for (const EntryInfo &entry : inputs.entries)
        entries.insert(entry.pk, &entry);
    QList<EntryStatus> statuses;
    statuses.reserve(inputs.foos.size());
    for (const auto &[pk, name] : inputs.foos) {
        EntryStatus status;
        status.pk = pk;
        status.name = name;
        const EntryInfo *entry = entries.value(pk);
        if (entry) {
            status.cachedAt = entry->cachedAt;
            status.size = entry->size;
            status.digest = entry->digest;
            status.serializerVersion = entry->serializerVersion;
            status.foreign = entry->foreign;
        }
        if (inputs.refreshing.contains(pk)) {
            status.state = EntryState::Refreshing;
            status.reason = QObject::tr("being refreshed");
        } else if (!entry) {
            status.state = EntryState::Missing;
            status.reason = QObject::tr("not in the store");
        } else if (!entry->problem.isEmpty()) {
            status.state = EntryState::Corrupt;
            status.reason = entry->problem;
        } else {
            std::tie(status.state, status.reason) = judge(*entry, inputs);
        }
        statuses << status;
    }
    if (inputs.orphans) {
        QSet<qint64> foos;
        for (const auto &[pk, name] : inputs.foos)
            foos.insert(pk);
        for (const EntryInfo &entry : inputs.entries) {
            if (foos.contains(entry.pk))
                continue;
            EntryStatus orphan;
            orphan.pk = entry.pk;
            orphan.state = EntryState::Orphan;
            orphan.reason = QObject::tr("Foo %1 no longer exists: the entry is never served ('preserve invalidate --orphans' "
                                        "removes it)").arg(entry.pk);
            orphan.cachedAt = entry.cachedAt;
            orphan.size = entry.size;
            orphan.digest = entry.digest;
            orphan.serializerVersion = entry.serializerVersion;
            orphan.foreign = entry.foreign;
            statuses << orphan;
        }
    }
    return statuses;
}
