#include "footreemodel.h"

#include "footreeloader.h"
#include "itemformat.h"

#include <QColor>
#include <QDateTime>
#include <QHash>
#include <QScopeGuard>

#include <algorithm>
#include <vector>

namespace {

using Kind = FooTreeModel::Kind;

// One row of the tree. Children are owned; each node knows its row, so parent() needs no search.
// Only touched on the GUI thread.
struct Node {
    Kind kind = Kind::Foo;
    qint64 id = 0;
    QString name;
    qint64 childCount = -1; // from the database's count; -1 for a Baz (and the root)
    Node *parent = nullptr;
    int row = 0;
    std::vector<std::unique_ptr<Node>> children;
    bool loaded = false;  // every child is here
    bool loading = false; // a batch is on its way
    bool failed = false;  // the last batch failed: no more fetching until reload()
};

TreeLevel childLevel(const Node &node, bool isRoot)
{
    if (isRoot)
        return TreeLevel::Foo;
    switch (node.kind) {
    case Kind::Foo: return TreeLevel::Bar;
    case Kind::Bar: return TreeLevel::Zab;
    case Kind::Zab:
    case Kind::Baz: break;
    }
    return TreeLevel::Baz;
}

Kind kindOf(TreeLevel level)
{
    switch (level) {
    case TreeLevel::Foo: return Kind::Foo;
    case TreeLevel::Bar: return Kind::Bar;
    case TreeLevel::Zab: return Kind::Zab;
    case TreeLevel::Baz: break;
    }
    return Kind::Baz;
}

// Sorting by state puts what needs attention first.
int stateRank(EntryState state)
{
    switch (state) {
    case EntryState::Corrupt: return 0;
    case EntryState::Stale: return 1;
    case EntryState::Missing: return 2;
    case EntryState::Refreshing: return 3;
    case EntryState::Foreign: return 4;
    case EntryState::Unknown: return 5;
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
    case EntryState::Unknown: break;
    }
    return QColor(0x9e, 0x9e, 0x9e);
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

} // namespace

struct FooTreeModel::Private {
    explicit Private(FooTreeModel *model)
        : q(model)
    {
    }

    FooTreeModel *q;
    FooTreeLoader loader;
    Node root;
    bool hasDatabase = false;
    QString filter;
    quint64 generation = 1; // bumped by every reset; results of older ones are dropped
    int pending = 0;        // batches of this generation on their way
    bool reportedLoading = false; // what loadingChanged said last
    int batchSize = 200;
    bool autoFetchChildren = true;
    QHash<qint64, EntryStatus> statuses; // by Foo pk; kept across reloads
    QHash<qint64, Node *> foos;          // loaded Foo rows by pk

    static Node *nodeOf(const QModelIndex &index) { return static_cast<Node *>(index.internalPointer()); }
    Node *nodeOrRoot(const QModelIndex &index) { return index.isValid() ? nodeOf(index) : &root; }
    const Node *nodeOrRoot(const QModelIndex &index) const { return index.isValid() ? nodeOf(index) : &root; }
    QModelIndex indexOf(const Node *node, int column = 0) const
    {
        return node == &root ? QModelIndex() : q->createIndex(node->row, column, const_cast<Node *>(node));
    }
    const EntryStatus *statusOf(const Node &node) const
    {
        if (node.kind != Kind::Foo)
            return nullptr;
        const auto it = statuses.constFind(node.id);
        return it == statuses.constEnd() ? nullptr : &it.value();
    }

    bool canFetch(const Node &node) const
    {
        if (!hasDatabase || node.loaded || node.loading || node.failed)
            return false;
        return &node == &root || (node.kind != Kind::Baz && node.childCount > 0);
    }
    void fetch(Node &node);
    void deliver(Node &node, const Result<ChildBatch> &result);
    void insertRows(Node &node, const QList<NodeRow> &rows);
    void setPending(int count);
    void reset();

    QVariant display(const Node &node, int column) const;
    QVariant sortKey(const Node &node, int column) const;
    QString jsonPath(const Node &node) const;
    qint64 fooId(const Node &node) const;
};

void FooTreeModel::Private::fetch(Node &node)
{
    ChildQuery query;
    query.level = childLevel(node, &node == &root);
    query.parentId = node.id;
    if (!node.children.empty())
        query.afterId = node.children.back()->id;
    query.limit = batchSize;
    query.filter = &node == &root ? filter : QString();
    query.generation = generation;
    node.loading = true;
    setPending(pending + 1);
    // The callback runs on the GUI thread, from an event of the loader, which this model owns.
    loader.load(query, [this, nodePointer = &node, asked = generation](const Result<ChildBatch> &result) {
        if (asked == generation) // else the node is gone with its generation
            deliver(*nodePointer, result);
    });
}

void FooTreeModel::Private::deliver(Node &node, const Result<ChildBatch> &result)
{
    // Counted down last, so that loading does not flicker off while the next batch is being asked for.
    const auto done = qScopeGuard([this] { setPending(pending - 1); });
    if (!result) {
        node.loading = false;
        node.failed = true;
        emit q->loadFailed(FooTreeModel::tr("Cannot load the %1: %2")
                               .arg(&node == &root ? FooTreeModel::tr("Foos")
                                                   : FooTreeModel::tr("children of %1").arg(node.name),
                                    result.error().message));
        return;
    }
    // Still `loading` while the rows go in: whoever reacts to rowsInserted (a view, the model tester)
    // and asks for more must not ask for this batch again.
    insertRows(node, result->rows);
    node.loading = false;
    node.loaded = result->complete;
    if (node.loaded && &node != &root && node.childCount != qint64(node.children.size())) {
        // Rows were added or removed since the count: show what is there.
        node.childCount = qint64(node.children.size());
        const QModelIndex changed = indexOf(&node, ChildrenColumn);
        emit q->dataChanged(changed, changed);
    }
    if (!node.loaded && autoFetchChildren && &node != &root)
        fetch(node);
}

void FooTreeModel::Private::insertRows(Node &node, const QList<NodeRow> &rows)
{
    if (rows.isEmpty())
        return;
    const int first = int(node.children.size());
    const Kind kind = kindOf(childLevel(node, &node == &root));
    q->beginInsertRows(indexOf(&node), first, first + int(rows.size()) - 1);
    node.children.reserve(node.children.size() + rows.size());
    for (const NodeRow &row : rows) {
        auto child = std::make_unique<Node>();
        child->kind = kind;
        child->id = row.id;
        child->name = row.name;
        child->childCount = row.childCount;
        child->parent = &node;
        child->row = int(node.children.size());
        child->loaded = kind == Kind::Baz || row.childCount == 0;
        if (kind == Kind::Foo)
            foos.insert(row.id, child.get());
        node.children.push_back(std::move(child));
    }
    q->endInsertRows();
}

void FooTreeModel::Private::setPending(int count)
{
    pending = count;
    if (reportedLoading != (pending > 0)) {
        reportedLoading = pending > 0;
        emit q->loadingChanged(reportedLoading);
    }
}

void FooTreeModel::Private::reset()
{
    q->beginResetModel();
    ++generation;
    loader.dropBefore(generation);
    root.children.clear();
    root.loaded = root.loading = root.failed = false;
    foos.clear();
    pending = 0; // the batches on their way belong to the old generation
    q->endResetModel();
    if (canFetch(root)) // whoever reacted to modelReset may have asked already
        fetch(root);
    setPending(pending);
}

QVariant FooTreeModel::Private::display(const Node &node, int column) const
{
    const EntryStatus *status = statusOf(node);
    switch (column) {
    case NameColumn: return node.name;
    case IdColumn: return node.id;
    case ChildrenColumn: return node.kind == Kind::Baz ? QVariant() : QVariant(node.childCount);
    case StateColumn: return status ? QVariant(entryStateName(status->state)) : QVariant();
    case AgeColumn: return status && status->cachedAt.isValid() ? QVariant(formatAge(ageSeconds(*status))) : QVariant();
    case SizeColumn:
        return status && status->state != EntryState::Missing ? QVariant(formatBytes(status->size)) : QVariant();
    default: break;
    }
    return {};
}

QVariant FooTreeModel::Private::sortKey(const Node &node, int column) const
{
    const EntryStatus *status = statusOf(node);
    switch (column) {
    case NameColumn: return node.name;
    case IdColumn: return node.id;
    case ChildrenColumn: return node.childCount;
    case StateColumn: return status ? stateRank(status->state) : stateRank(EntryState::Unknown) + 1;
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
    d->reset();
}

void FooTreeModel::setFilter(const QString &text)
{
    d->filter = text;
    d->reset();
}

void FooTreeModel::updateStates(const QList<EntryStatus> &statuses)
{
    QList<int> rows;
    for (const EntryStatus &status : statuses) {
        auto it = d->statuses.find(status.pk);
        if (it != d->statuses.end() && sameStatus(*it, status))
            continue;
        d->statuses.insert(status.pk, status);
        if (const Node *foo = d->foos.value(status.pk))
            rows.append(foo->row);
    }
    std::sort(rows.begin(), rows.end());
    // One dataChanged per run of adjacent rows.
    for (qsizetype i = 0; i < rows.size();) {
        qsizetype last = i;
        while (last + 1 < rows.size() && rows[last + 1] == rows[last] + 1)
            ++last;
        emit dataChanged(index(rows[i], 0), index(rows[last], ColumnCount - 1));
        i = last + 1;
    }
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
    case Qt::ToolTipRole:
    case ReasonRole:
        if (const EntryStatus *status = d->statusOf(node))
            return status->reason;
        return {};
    case Qt::ForegroundRole:
        if (const EntryStatus *status = d->statusOf(node); status && column == StateColumn)
            return stateColor(status->state);
        return {};
    case KindRole: return QVariant::fromValue(node.kind);
    case IdRole: return node.id;
    case FooIdRole: return d->fooId(node);
    case JsonPathRole: return d->jsonPath(node);
    case StateRole:
        if (const EntryStatus *status = d->statusOf(node))
            return int(status->state);
        return {};
    case SortRole: return d->sortKey(node, column);
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
