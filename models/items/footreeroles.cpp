#include "footreemodel_p.h"

#include "cache/cacheservice.h"
#include "itemformat.h"

#include <QSet>

#include <algorithm>

// What the rows show (data(), headerData()) and what feeds the Foo rows' state and outcome columns.

using Kind = FooTreeModel::Kind;
using Node = FooTreeNode;

QVariant FooTreeModel::Private::display(const Node &node, int column) const
{
    const EntryStatus *status = statusOf(node);
    switch (column) {
    case NameColumn: return elideText(visibleText(node.name), maxNameLength);
    case IdColumn: return node.id;
    case ChildrenColumn: return node.kind == Kind::Baz ? QVariant() : QVariant(node.childCount);
    case StateColumn: {
        const QString text = stateText(node);
        return text.isEmpty() ? QVariant() : QVariant(text);
    }
    case AgeColumn: return status && status->cachedAt.isValid() ? QVariant(formatAge(ageSeconds(*status))) : QVariant();
    case SizeColumn:
        return status && status->state != EntryState::Missing ? QVariant(formatBytes(status->size)) : QVariant();
    default: break;
    }
    return {};
}

namespace {

EntryState shownStateOf(const EntryStatus &status, const FooRowOutcome *outcome, bool unreadable)
{
    if (unreadable)
        return EntryState::Unknown;
    if (status.state == EntryState::Fresh && outcome && outcome->verdict == FooTreeModel::Verdict::Differs)
        return EntryState::Stale;
    return status.state;
}

} // namespace

EntryState FooTreeModel::Private::shownState(const Node &node) const
{
    const EntryStatus *status = statusOf(node);
    return status ? shownStateOf(*status, outcomeFor(node), !unreadable.isEmpty()) : EntryState::Unknown;
}

QString FooTreeModel::Private::shownReason(const Node &node) const
{
    const EntryStatus *status = statusOf(node);
    if (!status) {
        if (!unreadable.isEmpty())
            return unreadable;
        return FooTreeModel::tr("not among the states last read (created since?); they are read again on the next change");
    }
    if (!unreadable.isEmpty())
        return FooTreeModel::tr("%1 (last read as %2)").arg(unreadable, entryStateName(status->state));
    if (shownState(node) != status->state)
        return FooTreeModel::tr("verified different from live since the states were last read");
    return status->reason;
}

// "stale · differs": the state, and the verdict of the last job that reported on the Foo.
QString FooTreeModel::Private::stateText(const Node &node) const
{
    const EntryStatus *status = statusOf(node);
    const FooRowOutcome *outcome = outcomeFor(node);
    QString text = status || hasState(node) ? entryStateName(shownState(node)) : QString();
    if (outcome) {
        if (!text.isEmpty())
            text += QStringLiteral(" · ");
        text += verdictWord(outcome->verdict);
    }
    return text;
}

// The whole name on the name column; for Foo rows, the state with its reason and the last outcome.
QVariant FooTreeModel::Private::toolTip(const Node &node, int column) const
{
    QStringList lines;
    if (column == NameColumn && !node.name.isEmpty())
        lines << visibleText(node.name);
    if (hasState(node))
        lines << FooTreeModel::tr("%1: %2").arg(entryStateName(shownState(node)), shownReason(node));
    if (const FooRowOutcome *outcome = outcomeFor(node))
        lines << outcomeLines(*outcome);
    return lines.isEmpty() ? QVariant() : QVariant(richToolTip(lines));
}

// One dataChanged (every column) per run of adjacent Foo rows.
void FooTreeModel::Private::rowsChanged(QList<int> rows)
{
    std::sort(rows.begin(), rows.end());
    rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
    for (qsizetype i = 0; i < rows.size();) {
        qsizetype last = i;
        while (last + 1 < rows.size() && rows[last + 1] == rows[last] + 1)
            ++last;
        emit q->dataChanged(q->index(rows[i], 0), q->index(rows[last], ColumnCount - 1));
        i = last + 1;
    }
}

// nullptr clears.
void FooTreeModel::Private::setOutcome(qint64 pk, const FooRowOutcome *outcome)
{
    if (outcome)
        outcomes.insert(pk, *outcome);
    else if (!outcomes.remove(pk))
        return;
    if (const Node *foo = foos.value(pk))
        rowsChanged({ foo->row });
}

QVariant FooTreeModel::Private::sortKey(const Node &node, int column) const
{
    const EntryStatus *status = statusOf(node);
    switch (column) {
    case NameColumn: return node.name;
    case IdColumn: return node.id;
    case ChildrenColumn: return node.childCount;
    case StateColumn: return status ? stateRank(shownState(node)) : stateRank(EntryState::Unknown) + 1;
    case AgeColumn: return status ? ageSeconds(*status) : qint64(-1);
    case SizeColumn: return status ? status->size : qint64(-1);
    default: break;
    }
    return {};
}

QString FooTreeModel::Private::jsonPath(const Node &node) const
{
    switch (node.kind) {
    case Kind::Foo: return QString();
    case Kind::Bar: return QStringLiteral("bar_set[%1]").arg(node.row);
    case Kind::Zab: return jsonPath(*node.parent) + QStringLiteral(".zab_set[%1]").arg(node.row);
    case Kind::Baz: return jsonPath(*node.parent) + QStringLiteral(".bazs[%1]").arg(node.row);
    }
    return {};
}

qint64 FooTreeModel::Private::fooId(const Node &node) const
{
    const Node *foo = &node;
    while (foo->kind != Kind::Foo && foo->parent)
        foo = foo->parent;
    return foo->id;
}

void FooTreeModel::setStatesUnreadable(const QString &reason)
{
    if (reason == d->unreadable)
        return;
    d->unreadable = reason;
    QList<int> rows;
    for (const Node *foo : std::as_const(d->foos))
        rows.append(foo->row);
    d->rowsChanged(rows);
}

QHash<EntryState, int> FooTreeModel::stateCounts(int *foreignOrDiffering) const
{
    QHash<EntryState, int> counts;
    int verifiedDifferent = 0;
    for (auto it = d->statuses.cbegin(); it != d->statuses.cend(); ++it) {
        const auto found = d->outcomes.constFind(it.key());
        const FooRowOutcome *outcome = found == d->outcomes.cend() ? nullptr : &found.value();
        const EntryState state = shownStateOf(*it, outcome, !d->unreadable.isEmpty());
        verifiedDifferent += state == EntryState::Foreign || (outcome && outcome->verdict == Verdict::Differs);
        ++counts[state];
    }
    if (foreignOrDiffering)
        *foreignOrDiffering = verifiedDifferent;
    return counts;
}

bool FooTreeModel::statesReadable() const
{
    return d->unreadable.isEmpty();
}

void FooTreeModel::updateStates(const QList<EntryStatus> &statuses)
{
    setStatesUnreadable(QString());
    QList<int> rows;
    if (!d->statesRead) {
        d->statesRead = true;
        for (const Node *foo : std::as_const(d->foos))
            rows.append(foo->row);
    }
    // A whole read replaces the last one: a Foo it no longer lists (deleted) keeps no state.
    QSet<qint64> listed;
    listed.reserve(statuses.size());
    for (const EntryStatus &status : statuses)
        listed.insert(status.pk);
    for (auto it = d->statuses.begin(); it != d->statuses.end();) {
        if (listed.contains(it.key())) {
            ++it;
            continue;
        }
        if (const Node *foo = d->foos.value(it.key()))
            rows.append(foo->row);
        it = d->statuses.erase(it);
    }
    for (const EntryStatus &status : statuses) {
        const Node *foo = d->foos.value(status.pk);
        // A verification speaks of the entry it compared; once the entry is another, it says nothing.
        const auto outcome = d->outcomes.constFind(status.pk);
        if (outcome != d->outcomes.cend() && !outcome->digest.isEmpty() && outcome->digest != status.digest) {
            d->outcomes.erase(outcome);
            if (foo)
                rows.append(foo->row);
        }
        auto it = d->statuses.find(status.pk);
        if (it != d->statuses.end() && sameStatus(*it, status))
            continue;
        d->statuses.insert(status.pk, status);
        if (foo)
            rows.append(foo->row);
    }
    d->rowsChanged(rows);
}

void FooTreeModel::setService(CacheService *service)
{
    for (const QMetaObject::Connection &connection : std::as_const(d->serviceConnections))
        disconnect(connection);
    d->serviceConnections.clear();
    d->service = service;
    if (!service)
        return;
    d->serviceConnections = {
        connect(service, &CacheService::entryVerified, this,
                [this](int, qint64 pk, const Verification &verification) { setVerification(pk, verification); }),
        connect(service, &CacheService::entryFailed, this,
                [this](int, qint64 pk, const QString &message) { setFailure(pk, message); }),
        connect(service, &CacheService::entryRefreshed, this, [this](int, qint64 pk) { clearOutcome(pk); }),
    };
}

void FooTreeModel::setVerification(qint64 pk, const Verification &verification)
{
    const FooRowOutcome outcome = outcomeOf(verification);
    d->setOutcome(pk, &outcome);
}

void FooTreeModel::setFailure(qint64 pk, const QString &message)
{
    if (pk == 0) // a job that failed as a whole (its plan), not one Foo
        return;
    const FooRowOutcome outcome = failureOf(message);
    d->setOutcome(pk, &outcome);
}

void FooTreeModel::clearOutcome(qint64 pk)
{
    d->setOutcome(pk, nullptr);
}

QVariant FooTreeModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid))
        return {};
    const Node &node = *Private::nodeOf(index);
    const int column = index.column();
    switch (role) {
    case Qt::DisplayRole: return d->display(node, column);
    case Qt::TextAlignmentRole:
        return column == NameColumn || column == StateColumn ? QVariant()
                                                             : QVariant(int(Qt::AlignRight | Qt::AlignVCenter));
    case Qt::ToolTipRole: return d->toolTip(node, column);
    case ReasonRole:
        if (d->hasState(node))
            return d->shownReason(node);
        return {};
    case Qt::ForegroundRole:
        if (d->hasState(node) && column == StateColumn)
            return stateColor(d->shownState(node));
        return {};
    case KindRole: return QVariant::fromValue(node.kind);
    case IdRole: return node.id;
    case FooIdRole: return d->fooId(node);
    case JsonPathRole: return d->jsonPath(node);
    case StateRole:
        if (d->hasState(node))
            return int(d->shownState(node));
        return {};
    case SortRole: return d->sortKey(node, column);
    case RawNameRole: return node.name;
    case VerdictRole:
        if (const FooRowOutcome *outcome = d->outcomeFor(node))
            return int(outcome->verdict);
        return {};
    case VerdictTextRole:
        if (const FooRowOutcome *outcome = d->outcomeFor(node))
            return outcomeLines(*outcome).join(QLatin1Char('\n'));
        return {};
    default: break;
    }
    return {};
}

QVariant FooTreeModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case NameColumn: return tr("Name");
    case IdColumn: return tr("Id");
    case ChildrenColumn: return tr("Children");
    case StateColumn: return tr("State");
    case AgeColumn: return tr("Age");
    case SizeColumn: return tr("Size");
    default: break;
    }
    return {};
}
