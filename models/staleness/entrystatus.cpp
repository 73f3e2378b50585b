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

// The words a status repeats for each of its entries, translated once per computeStatus(), and
// the times it names, formatted once per second: per entry, they took most of the 0.18 s that
// computeStatus() spent on 100,000 entries.
class Phrases {
public:
    const QString fresh = QObject::tr("no tracked change since it was cached at %1");
    const QString beforeTracking = QObject::tr("cached before change tracking was installed, at %1");
    const QString untracked = QObject::tr("unknown since %1: change tracking is not installed");
    const QString refreshing = QObject::tr("being refreshed");
    const QString missing = QObject::tr("not in the store");

    // ISO 8601 in UTC to the second, the form every reason uses.
    QString when(const QDateTime &at)
    {
        if (!at.isValid())
            return QObject::tr("an unknown time");
        const qint64 second = at.toSecsSinceEpoch();
        auto found = m_times.constFind(second);
        if (found == m_times.cend())
            found = m_times.insert(second, at.toUTC().toString(Qt::ISODate));
        return found.value();
    }

private:
    QHash<qint64, QString> m_times;
};

// The state of an entry that exists and is readable.
std::pair<EntryState, QString> judge(const EntryInfo &entry, const StatusInputs &inputs, Phrases &words)
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
                                        .arg(verified->summary, words.when(verified->at)) };
    if (entry.foreign)
        return { EntryState::Foreign, QObject::tr("not the body Preserve wrote: written by someone else, or changed since it was cached") };
    if (inputs.trackingInstalled) {
        const auto change = inputs.changes.constFind(entry.pk);
        if (change != inputs.changes.cend() && change->position > entry.changePosition)
            return { EntryState::Stale, QObject::tr("%1 at %2, after it was cached").arg(change->reason, words.when(change->at)) };
        if (entry.changePosition > 0 && entry.changePosition >= inputs.trackedSince)
            return { EntryState::Fresh, words.fresh.arg(words.when(entry.cachedAt)) };
        if (!inputs.trackedSinceReason.isEmpty() && inputs.trackedSinceReason != QLatin1String("tracking installed"))
            return { EntryState::Unknown, QObject::tr("cached at %1, before the change log lost rows (%2): changes "
                                                      "before then are unknown")
                                              .arg(words.when(entry.cachedAt), inputs.trackedSinceReason) };
        return { EntryState::Unknown, words.beforeTracking.arg(words.when(entry.cachedAt)) };
    }
    if (verifiedThis)
        return { EntryState::Unknown, QObject::tr("identical to live when verified at %1; changes are not tracked")
                                          .arg(words.when(verified->at)) };
    return { EntryState::Unknown, words.untracked.arg(words.when(entry.cachedAt)) };
}

} // namespace

QList<EntryStatus> computeStatus(const StatusInputs &inputs)
{
    QHash<qint64, const EntryInfo *> entries;
    entries.reserve(inputs.entries.size());
    for (const EntryInfo &entry : inputs.entries)
        entries.insert(entry.pk, &entry);
    Phrases words;
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
            status.reason = words.refreshing;
        } else if (!entry) {
            status.state = EntryState::Missing;
            status.reason = words.missing;
        } else if (!entry->problem.isEmpty()) {
            status.state = EntryState::Corrupt;
            status.reason = entry->problem;
        } else {
            std::tie(status.state, status.reason) = judge(*entry, inputs, words);
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
