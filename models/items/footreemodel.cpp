#include "footreemodel.h"

#include "footreemodel_p.h"

#include <QScopeGuard>

#include <algorithm>
#include <vector>

namespace {

using Kind = FooTreeModel::Kind;
using Node = FooTreeNode;

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

} // namespace


void FooTreeModel::Private::fetch(Node &node)
{
    ChildQuery query;
    query.level = childLevel(node, &node == &root);
    query.parentId = node.id;
    if (!node.children.empty())
        query.afterId = node.children.back()->id;
    query.limit = batchSize;
    query.filter = &node == &root ? filter : QString();
    query.ticket = loader.jobs().current();
    node.loading = true;
    setPending(pending + 1);
    // The callback runs on the GUI thread, from an event of the loader, which this model owns.
    loader.load(query, [this, nodePointer = &node, asked = query.ticket](const Result<ChildBatch> &result) {
        if (loader.jobs().isCurrent(asked)) // else the node is gone with its generation
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
    loader.jobs().invalidate();
    root.children.clear();
    root.loaded = root.loading = root.failed = false;
    foos.clear();
    pending = 0; // the batches on their way belong to the old generation
    q->endResetModel();
    if (canFetch(root)) // whoever reacted to modelReset may have asked already
        fetch(root);
    setPending(pending);
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
