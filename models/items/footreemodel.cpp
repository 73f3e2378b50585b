#include "footreemodel.h"

#include "footreemodel_p.h"

#include "cache/cacheservice.h"

#include <QSet>

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
    const Node *foo = d->foos.value(pk);
    return foo && column >= 0 && column < ColumnCount ? d->indexOf(foo, column) : QModelIndex();
}

QModelIndex FooTreeModel::index(int row, int column, const QModelIndex &parent) const
{
    if (!hasIndex(row, column, parent))
        return {};
    const Node *node = d->nodeOrRoot(parent);
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
        const EntryState state = Private::shownStateOf(*it, outcome, !d->unreadable.isEmpty());
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
