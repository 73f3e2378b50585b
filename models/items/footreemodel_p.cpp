#include "footreemodel_p.h"

#include "itemformat.h"

#include <QScopeGuard>

#include <algorithm>
#include <utility>

// How the rows load (fetch() to reset()), then what they show and what feeds the Foo rows' state and
// outcome columns (display() to fooId()).

using Kind = FooTreeModel::Kind;
using Node = FooTreeNode;

namespace {

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
    query.limit = std::clamp(int(node.children.size()), batchSize, std::max(batchSize, FooTreeModel::maxBatchSize));
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
    if (kind == Kind::Foo)
        fooIds.reserve(fooIds.size() + size_t(rows.size()));
    for (const NodeRow &row : rows) {
        auto child = std::make_unique<Node>();
        child->kind = kind;
        child->id = row.id;
        child->name = row.name;
        child->childCount = row.childCount;
        child->parent = &node;
        child->row = int(node.children.size());
        child->loaded = kind == Kind::Baz || row.childCount == 0;
        if (kind == Kind::Foo) {
            fooIdsAscending = fooIdsAscending && (fooIds.empty() || fooIds.back() < row.id);
            fooIds.push_back(row.id);
        }
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
    fooIds.clear();
    fooIdsAscending = true;
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

EntryState FooTreeModel::Private::shownStateOf(const EntryStatus &status, const FooRowOutcome *outcome, bool unreadable)
{
    if (unreadable)
        return EntryState::Unknown;
    if (status.state == EntryState::Fresh && outcome && outcome->verdict == FooTreeModel::Verdict::Differs)
        return EntryState::Stale;
    return status.state;
}

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
// One signal pair per run of changed rows (a view repaints only those), then one that says the
// change is whole: a proxy that sorts by these columns re-places the rows then, when every one of
// them holds its new value (see fooRowsSignalled()).
template <typename EmitRuns>
void FooTreeModel::Private::signalRows(EmitRuns emitRuns)
{
    const bool outer = !std::exchange(signallingRows, true); // a slot may change more rows meanwhile
    emitRuns();
    if (!outer)
        return;
    signallingRows = false;
    emit q->fooRowsSignalled();
}

// The name column (what the state filter and the tooltips read) and the entry's columns; not the id
// and children columns, which no state changes: were the sort column (by default the id) in the
// range, the sorting proxy would re-sort every changed row.
void FooTreeModel::Private::runChanged(int first, int last)
{
    emit q->dataChanged(q->index(first, NameColumn), q->index(last, NameColumn));
    emit q->dataChanged(q->index(first, StateColumn), q->index(last, SizeColumn));
}

void FooTreeModel::Private::rowsChanged(QList<int> rows)
{
    std::sort(rows.begin(), rows.end());
    rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
    if (rows.isEmpty())
        return;
    signalRows([&] {
        for (qsizetype i = 0; i < rows.size();) {
            qsizetype last = i;
            while (last + 1 < rows.size() && rows[last + 1] == rows[last] + 1)
                ++last;
            runChanged(rows[i], rows[last]);
            i = last + 1;
        }
    });
}

void FooTreeModel::Private::allRowsChanged()
{
    if (!root.children.empty())
        signalRows([&] { runChanged(0, int(root.children.size()) - 1); });
}

// nullptr clears.
void FooTreeModel::Private::setOutcome(qint64 pk, const FooRowOutcome *outcome)
{
    if (outcome)
        outcomes.insert(pk, *outcome);
    else if (!outcomes.remove(pk))
        return;
    if (const Node *foo = fooNode(pk))
        rowsChanged({ foo->row });
}

QVariant FooTreeModel::Private::sortKey(const Node &node, int column) const
{
    switch (column) {
    case NameColumn: return node.name;
    case IdColumn: return node.id;
    case ChildrenColumn: return node.childCount;
    default: break;
    }
    // Only the entry's columns look it up: a sort by id or name compares 10^5 rows many times over.
    const EntryStatus *status = statusOf(node);
    switch (column) {
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
