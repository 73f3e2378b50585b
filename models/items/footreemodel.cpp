#include "footreemodel.h"

#include "footreemodel_p.h"

#include "cache/cacheservice.h"

#include <algorithm>

using Node = FooTreeNode;

FooTreeModel::FooTreeModel(QObject *parent)
    : QAbstractItemModel(parent)
    , d(std::make_unique<Private>(this))
{
}

FooTreeModel::~FooTreeModel() = default;

void FooTreeModel::setDatabase(const DatabaseConfig &database)
{
    d->loader.setDatabase(database);
    d->hasDatabase = true;
    // The states and verdicts spoke of the last connection's entries, which may share pks.
    d->statuses.clear();
    d->stateCounts.clear();
    d->outcomes.clear();
    d->statesRead = false;
    d->unreadable.clear();
    d->reset();
}

void FooTreeModel::setFilter(const QString &text)
{
    d->filter = text;
    d->reset();
}

void FooTreeModel::reload()
{
    d->reset();
}

bool FooTreeModel::isSignallingRows() const
{
    return d->signallingRows;
}

bool FooTreeModel::isLoading() const
{
    return d->pending > 0;
}

void FooTreeModel::setBatchSize(int rows)
{
    d->batchSize = std::max(1, rows);
}

QPartialOrdering FooTreeModel::compareSortKeys(const QModelIndex &left, const QModelIndex &right, int column) const
{
    const auto order = [](const auto &a, const auto &b) {
        return a < b ? QPartialOrdering::Less : b < a ? QPartialOrdering::Greater : QPartialOrdering::Equivalent;
    };
    if (left.model() == this && right.model() == this) {
        const Node &a = *Private::nodeOf(left);
        const Node &b = *Private::nodeOf(right);
        switch (column) {
        case NameColumn: return order(a.name, b.name);
        case IdColumn: return order(a.id, b.id);
        case ChildrenColumn: return order(a.childCount, b.childCount);
        default: break;
        }
    }
    return QVariant::compare(left.data(SortRole), right.data(SortRole));
}

int FooTreeModel::batchSize() const
{
    return d->batchSize;
}

void FooTreeModel::setAutoFetchChildren(bool on)
{
    d->autoFetchChildren = on;
}

QModelIndex FooTreeModel::fooIndex(qint64 pk, int column) const
{
    const Node *foo = d->fooNode(pk);
    return foo && column >= 0 && column < ColumnCount ? d->indexOf(foo, column) : QModelIndex();
}

QModelIndex FooTreeModel::indexOfRow(const void *node, int column) const
{
    return node ? d->indexOf(static_cast<const Node *>(node), column) : QModelIndex();
}

int FooTreeModel::fooRowOf(const QModelIndex &index)
{
    if (!index.isValid())
        return -1;
    const Node *node = Private::nodeOf(index);
    while (node->kind != Kind::Foo)
        node = node->parent;
    return node->row;
}

bool FooTreeModel::isFooRow(const QModelIndex &index)
{
    return index.isValid() && Private::nodeOf(index)->kind == Kind::Foo;
}

QModelIndex FooTreeModel::index(int row, int column, const QModelIndex &parent) const
{
    // Bounds checked here rather than by hasIndex(): a view asks this of every row it lays out, and
    // hasIndex() makes two more virtual calls.
    if (row < 0 || column < 0 || column >= ColumnCount || parent.column() > 0)
        return {};
    const Node *node = d->nodeOrRoot(parent);
    if (size_t(row) >= node->children.size())
        return {};
    return createIndex(row, column, node->children[size_t(row)].get());
}

QModelIndex FooTreeModel::parent(const QModelIndex &child) const
{
    if (!child.isValid())
        return {};
    return d->indexOf(Private::nodeOf(child)->parent);
}

int FooTreeModel::rowCount(const QModelIndex &parent) const
{
    if (parent.column() > 0)
        return 0;
    return int(d->nodeOrRoot(parent)->children.size());
}

int FooTreeModel::columnCount(const QModelIndex &) const
{
    return ColumnCount;
}

Qt::ItemFlags FooTreeModel::flags(const QModelIndex &index) const
{
    Qt::ItemFlags flags = QAbstractItemModel::flags(index);
    if (index.isValid() && Private::nodeOf(index)->kind == Kind::Baz)
        flags |= Qt::ItemNeverHasChildren;
    return flags;
}

bool FooTreeModel::hasChildren(const QModelIndex &parent) const
{
    if (parent.column() > 0)
        return false;
    const Node *node = d->nodeOrRoot(parent);
    if (!node->children.empty())
        return true;
    if (!parent.isValid())
        return d->canFetch(*node);
    // Known from the count that came with the row; true until loaded shows otherwise.
    return node->kind != Kind::Baz && node->childCount > 0;
}

bool FooTreeModel::canFetchMore(const QModelIndex &parent) const
{
    if (parent.column() > 0)
        return false;
    return d->canFetch(*d->nodeOrRoot(parent));
}

void FooTreeModel::fetchMore(const QModelIndex &parent)
{
    if (canFetchMore(parent))
        d->fetch(*d->nodeOrRoot(parent));
}

void FooTreeModel::setStatesUnreadable(const QString &reason)
{
    if (reason == d->unreadable)
        return;
    d->unreadable = reason;
    d->allRowsChanged();
}

// From the states' own counts, moving the few rows a verdict shows otherwise: O(verdicts), not
// O(Foos), as the browser asks for it on every change.
QHash<EntryState, int> FooTreeModel::stateCounts(int *foreignOrDiffering) const
{
    const bool unreadable = !d->unreadable.isEmpty();
    QHash<EntryState, int> counts = d->stateCounts;
    int verifiedDifferent = counts.value(EntryState::Foreign);
    if (unreadable) {
        counts = { { EntryState::Unknown, int(d->statuses.size()) } };
        verifiedDifferent = 0;
    }
    for (auto it = d->outcomes.cbegin(); it != d->outcomes.cend(); ++it) {
        const auto status = d->statuses.constFind(it.key());
        if (status == d->statuses.cend())
            continue;
        const EntryState shown = Private::shownStateOf(*status, &it.value(), unreadable);
        if (!unreadable && shown != status->state) {
            if (--counts[status->state] == 0)
                counts.remove(status->state);
            ++counts[shown];
        }
        verifiedDifferent += shown != EntryState::Foreign && it->verdict == Verdict::Differs;
    }
    if (counts.value(EntryState::Unknown, -1) == 0)
        counts.remove(EntryState::Unknown);
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
    updateStates(StatusSnapshot::of(statuses, d->statuses));
}

void FooTreeModel::updateStates(const StatusSnapshot &snapshot)
{
    setStatesUnreadable(QString());
    const bool first = !d->statesRead; // no row showed a state before: every row changes
    d->statesRead = true;
    QList<int> rows;
    // A verification speaks of the entry it compared; once the entry is another, it says nothing.
    for (auto it = d->outcomes.begin(); it != d->outcomes.end();) {
        const auto status = snapshot.byPk.constFind(it.key());
        if (status == snapshot.byPk.cend() || it->digest.isEmpty() || it->digest == status->digest) {
            ++it;
            continue;
        }
        if (const Node *foo = d->fooNode(it.key()))
            rows.append(foo->row);
        it = d->outcomes.erase(it);
    }
    if (!first) {
        // A whole read replaces the last one: a Foo it no longer lists (deleted) keeps no state.
        const QList<qint64> changed = snapshot.base.isSharedWith(d->statuses) ? snapshot.changed
                                                                               : StatusSnapshot::changes(d->statuses, snapshot.byPk);
        for (qint64 pk : changed) {
            if (const Node *foo = d->fooNode(pk))
                rows.append(foo->row);
        }
    }
    d->statuses = snapshot.byPk;
    d->stateCounts = snapshot.counts;
    qsizetype counted = 0;
    for (int count : std::as_const(d->stateCounts))
        counted += count;
    if (counted != d->statuses.size()) // not made by StatusSnapshot::of(): count them here
        d->stateCounts = StatusSnapshot::countsOf(d->statuses);
    if (first)
        d->allRowsChanged();
    else
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
