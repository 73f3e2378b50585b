#include "foobrowser.h"

#include "footreeview.h"

#include "items/foofilterproxymodel.h"
#include "items/foorowstate.h"
#include "items/footreemodel.h"
#include "statedelegate.h"

#include <QAction>
#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QStyle>
#include <QScrollBar>
#include <QTreeView>
#include <QVBoxLayout>

FooBrowser::FooBrowser(QWidget *parent)
    : QWidget(parent)
{
    m_model = new FooTreeModel(this);
    m_proxy = new FooFilterProxyModel(this);
    m_proxy->setSourceModel(m_model);
    // Before the view's selection model connects (in setModel): this must learn that the current
    // row goes before the selection model moves the current index to a neighbour.
    connect(m_proxy, &QAbstractItemModel::rowsAboutToBeRemoved, this, &FooBrowser::rowsAboutToGo);
    createWidgets();
    connectSignals();
}

void FooBrowser::createWidgets()
{
    m_filter = new QLineEdit(this);
    m_filter->setObjectName(QStringLiteral("filter"));
    m_filter->setPlaceholderText(tr("Name or id; bar:970, zab:x, baz:17 (Ctrl+L)"));
    m_filter->setToolTip(tr("<p>Shows the Foos whose name contains the text, or whose id it is.</p>"
                            "<p><b>bar:</b>, <b>zab:</b> or <b>baz:</b> and an id shows the Foos that hold that node, "
                            "and with a name, those that hold a node whose name contains it: <i>baz:17</i> lists "
                            "every Foo Baz 17 is in. <b>id:</b> matches a Foo's id only.</p><p>Esc clears it.</p>"));
    m_filter->setClearButtonEnabled(true);
    auto *clear = new QAction(m_filter);
    clear->setShortcut(QKeySequence(Qt::Key_Escape));
    clear->setShortcutContext(Qt::WidgetShortcut);
    connect(clear, &QAction::triggered, m_filter, &QLineEdit::clear);
    m_filter->addAction(clear);
    m_state = new QComboBox(this);
    m_state->setObjectName(QStringLiteral("stateFilter"));
    m_state->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    // The states, with what each shows; counts are added to the texts as the states arrive.
    m_state->addItem(tr("All states"), QStringLiteral("all"));
    m_state->addItem(tr("Not fresh"), QStringLiteral("notfresh"));
    m_state->addItem(tr("Fresh"), QStringLiteral("fresh"));
    m_state->addItem(tr("Stale"), QStringLiteral("stale"));
    m_state->addItem(tr("Missing"), QStringLiteral("missing"));
    m_state->addItem(tr("Corrupt"), QStringLiteral("corrupt"));
    m_state->addItem(tr("Foreign / differs"), QStringLiteral("foreign"));
    m_state->addItem(tr("Unknown"), QStringLiteral("unknown"));
    for (int i = 0; i < m_state->count(); ++i)
        m_state->setItemData(i, m_state->itemText(i), Qt::UserRole + 1); // the text without its count
    m_noMatch = new QLabel(this);
    m_noMatch->setObjectName(QStringLiteral("noMatch"));
    m_noMatch->setWordWrap(true);
    m_noMatch->setContentsMargins(4, 8, 4, 8);
    m_noMatch->setAlignment(Qt::AlignCenter);
    m_noMatch->hide();
    m_view = new FooTreeView(this);
    m_view->setObjectName(QStringLiteral("tree"));
    m_view->setModel(m_proxy);
    m_view->setUniformRowHeights(true);
    m_view->setAlternatingRowColors(true);
    m_view->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_view->setContextMenuPolicy(Qt::ActionsContextMenu);
    m_view->setItemDelegateForColumn(FooTreeModel::StateColumn, new StateDelegate(m_view));
    m_view->header()->setSortIndicator(FooTreeModel::IdColumn, Qt::AscendingOrder);
    m_view->setSortingEnabled(true);
    QHeaderView *header = m_view->header();
    header->setStretchLastSection(false);
    header->setSectionResizeMode(FooTreeModel::NameColumn, QHeaderView::Stretch);
    const int digit = fontMetrics().horizontalAdvance(QLatin1Char('0'));
    header->resizeSection(FooTreeModel::IdColumn, digit * 7);
    header->resizeSection(FooTreeModel::ChildrenColumn, digit * 10);
    header->resizeSection(FooTreeModel::StateColumn, StateDelegate::minimumWidth(fontMetrics()));
    header->resizeSection(FooTreeModel::AgeColumn, digit * 8);
    header->resizeSection(FooTreeModel::SizeColumn, digit * 10);
    // The Name column stretches into what the others leave; never below a name like "foo-12345678",
    // or a narrow window shows "f…" in every row: the tree asks for that much width.
    int others = 0;
    for (int column = 0; column < header->count(); ++column)
        others += column == FooTreeModel::NameColumn ? 0 : header->sectionSize(column);
    const int name = fontMetrics().horizontalAdvance(QStringLiteral("foo-12345678")) + m_view->indentation() + 12;
    m_view->setMinimumWidth(others + name + style()->pixelMetric(QStyle::PM_ScrollBarExtent) + 2 * m_view->frameWidth());
    m_filterDelay.setSingleShot(true);
    m_filterDelay.setInterval(250);

    auto *filters = new QHBoxLayout;
    filters->addWidget(m_filter, 1);
    filters->addWidget(m_state);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 0, 4);
    layout->addLayout(filters);
    layout->addWidget(m_noMatch);
    layout->addWidget(m_view);
    m_impactBar = new QWidget(this);
    m_impactBar->setObjectName(QStringLiteral("impactBar"));
    m_impact = new QLabel(m_impactBar);
    m_impact->setObjectName(QStringLiteral("impact"));
    m_impact->setWordWrap(true);
    m_impact->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_showImpact = new QPushButton(tr("Show These"), m_impactBar);
    m_showImpact->setToolTip(tr("List these Foos in the tree (the filter for this node)"));
    m_refreshImpact = new QPushButton(tr("Refresh These"), m_impactBar);
    m_refreshImpact->setToolTip(tr("Refresh every Foo this node is in"));
    auto *impactLayout = new QHBoxLayout(m_impactBar);
    impactLayout->setContentsMargins(0, 2, 0, 0);
    impactLayout->addWidget(m_impact, 1);
    impactLayout->addWidget(m_showImpact);
    impactLayout->addWidget(m_refreshImpact);
    m_impactBar->hide();
    layout->addWidget(m_impactBar);
    m_countDelay.setSingleShot(true);
    m_countDelay.setInterval(100);
    m_noMatchDelay.setSingleShot(true);
    m_noMatchDelay.setInterval(0);
    connect(&m_noMatchDelay, &QTimer::timeout, this, &FooBrowser::showNoMatch);
}

void FooBrowser::connectSignals()
{
    connect(m_filter, &QLineEdit::textChanged, &m_filterDelay, qOverload<>(&QTimer::start));
    connect(m_filter, &QLineEdit::textChanged, this, [this] { m_noMatch->hide(); });
    connect(&m_filterDelay, &QTimer::timeout, this, [this] {
        rememberCurrent(); // kept when the Foo still matches the new filter
        m_model->setFilter(m_filter->text().trimmed());
    });
    connect(m_state, &QComboBox::currentIndexChanged, this, &FooBrowser::applyStateFilter);
    connect(m_view->selectionModel(), &QItemSelectionModel::currentChanged, this,
            [this](const QModelIndex &current) { currentRowChanged(current); });
    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this, &FooBrowser::selectionChanged);
    connect(m_proxy, &QAbstractItemModel::rowsInserted, this, &FooBrowser::restoreRows);
    connect(m_proxy, &QAbstractItemModel::rowsRemoved, this, &FooBrowser::rowsGone);
    connect(m_proxy, &QAbstractItemModel::modelReset, this, &FooBrowser::modelWasReset);
    connect(m_view->verticalScrollBar(), &QAbstractSlider::actionTriggered, this, [this] { m_followRestored = false; });
    connect(m_proxy, &QAbstractItemModel::layoutChanged, this, &FooBrowser::queueFollow);
    connect(m_model, &FooTreeModel::loadingChanged, this, &FooBrowser::loadingChanged);
    connect(m_model, &QAbstractItemModel::dataChanged, &m_countDelay, qOverload<>(&QTimer::start));
    connect(&m_countDelay, &QTimer::timeout, this, &FooBrowser::updateStateCounts);
    for (auto signal : { &QAbstractItemModel::rowsInserted, &QAbstractItemModel::rowsRemoved })
        connect(m_proxy, signal, this, &FooBrowser::updateNoMatch);
    connect(m_proxy, &QAbstractItemModel::modelReset, this, &FooBrowser::updateNoMatch);
    connect(m_model, &FooTreeModel::loadingChanged, this, &FooBrowser::updateNoMatch);
    connect(m_showImpact, &QPushButton::clicked, this, [this] {
        if (m_shownImpact)
            m_filter->setText(QStringLiteral("%1:%2").arg(nodeLevelName(m_shownImpact->level)).arg(m_shownImpact->id));
    });
    connect(m_refreshImpact, &QPushButton::clicked, this, [this] {
        if (!m_shownImpact)
            return;
        QString node = nodeLevelName(m_shownImpact->level);
        node[0] = node[0].toUpper();
        emit refreshRequested(m_shownImpact->pks(), tr("Refresh what %1 %2 reaches").arg(node).arg(m_shownImpact->id));
    });
}

void FooBrowser::showImpact(const Impact &impact)
{
    // Only the node still current: an answer for one clicked past is dropped.
    const QModelIndex current = m_view->currentIndex();
    const auto kind = current.data(FooTreeModel::KindRole).value<FooTreeModel::Kind>();
    const int level = kind == FooTreeModel::Kind::Bar ? int(NodeLevel::Bar)
        : kind == FooTreeModel::Kind::Zab            ? int(NodeLevel::Zab)
        : kind == FooTreeModel::Kind::Baz            ? int(NodeLevel::Baz)
                                                     : -1;
    if (level != int(impact.level) || current.data(FooTreeModel::IdRole).toLongLong() != impact.id)
        return;
    m_shownImpact = impact;
    m_impact->setText(impact.sentence());
    m_showImpact->setEnabled(!impact.foos.isEmpty());
    m_refreshImpact->setEnabled(!impact.foos.isEmpty());
    m_impactBar->show();
}

void FooBrowser::showImpactText(const QString &text)
{
    m_shownImpact.reset();
    m_impact->setText(text);
    m_showImpact->setEnabled(false);
    m_refreshImpact->setEnabled(false);
    m_impactBar->show();
}

void FooBrowser::hideImpact()
{
    m_shownImpact.reset();
    m_impactBar->hide();
}

void FooBrowser::focusFilter()
{
    m_filter->setFocus(Qt::ShortcutFocusReason);
    m_filter->selectAll();
}

// "Stale (40)": every Foo the states speak of, counted as their rows show them.
void FooBrowser::updateStateCounts()
{
    int differing = 0;
    const QHash<EntryState, int> counts = m_model->stateCounts(&differing);
    int total = 0;
    for (int count : counts)
        total += count;
    const auto count = [&](const QString &key) {
        if (key == QLatin1String("all"))
            return total;
        if (key == QLatin1String("notfresh"))
            return total - counts.value(EntryState::Fresh);
        if (key == QLatin1String("foreign"))
            return differing; // foreign, or verified different
        for (EntryState state : summaryStateOrder()) {
            if (entryStateName(state) == key)
                return counts.value(state);
        }
        return 0;
    };
    for (int i = 0; i < m_state->count(); ++i) {
        const QString key = m_state->itemData(i).toString();
        m_state->setItemText(i, tr("%1 (%2)").arg(m_state->itemData(i, Qt::UserRole + 1).toString()).arg(count(key)));
    }
    m_summary = stateSummary(counts);
    emit stateSummaryChanged(m_summary);
    updateNoMatch();
}

// Later, from the event loop: showing the label resizes the tree, which may fetch rows, whose
// signals would come back here in the middle of the show.
void FooBrowser::updateNoMatch()
{
    m_noMatchDelay.start();
}

void FooBrowser::showNoMatch()
{
    const bool filtered = !m_filter->text().trimmed().isEmpty() || m_state->currentIndex() > 0;
    const bool empty = !m_model->isLoading() && m_proxy->rowCount() == 0 && filtered;
    if (empty) {
        const QString text = m_filter->text().trimmed();
        const QString state = m_state->currentData(Qt::UserRole + 1).toString();
        m_noMatch->setText(text.isEmpty() ? tr("No Foo in the state “%1”.").arg(state)
                           : m_state->currentIndex() > 0 ? tr("No Foo matches “%1” in the state “%2”.").arg(text, state)
                                                         : tr("No Foo matches “%1”.").arg(text));
    }
    m_noMatch->setVisible(empty);
}

void FooBrowser::setDatabase(const DatabaseConfig &database)
{
    m_expanded.clear();
    m_selected = {};
    m_model->setDatabase(database);
}

void FooBrowser::holdRows(bool held)
{
    m_proxy->setHeld(held);
    updateNoMatch();
}

void FooBrowser::updateStates(const StatusSnapshot &statuses)
{
    m_model->updateStates(statuses);
    updateStateCounts();
}

void FooBrowser::applyStateFilter()
{
    const QString key = m_state->currentData().toString();
    QSet<EntryState> states;
    if (key == QLatin1String("notfresh")) {
        for (EntryState state : summaryStateOrder()) {
            if (state != EntryState::Fresh)
                states.insert(state);
        }
    } else if (key != QLatin1String("all")) {
        for (EntryState state : summaryStateOrder()) {
            if (entryStateName(state) == key)
                states.insert(state);
        }
    }
    m_proxy->setStateFilter(states, key == QLatin1String("foreign"));
    updateNoMatch();
}

FooBrowser::NodeKey FooBrowser::keyOf(const QModelIndex &index) const
{
    return { index.data(FooTreeModel::KindRole).value<int>(), index.data(FooTreeModel::IdRole).toLongLong() };
}

void FooBrowser::saveExpanded(const QModelIndex &parent)
{
    for (int row = 0; row < m_proxy->rowCount(parent); ++row) {
        const QModelIndex index = m_proxy->index(row, 0, parent);
        if (m_view->isExpanded(index)) {
            m_expanded.insert(keyOf(index));
            saveExpanded(index);
        }
    }
}

void FooBrowser::reload()
{
    m_expanded.clear();
    saveExpanded({});
    rememberCurrent();
    m_model->reload();
}

void FooBrowser::rememberCurrent()
{
    const QModelIndex current = m_view->currentIndex();
    m_selected = current.isValid() ? keyOf(current) : NodeKey {};
}

void FooBrowser::rowsAboutToGo(const QModelIndex &parent, int first, int last)
{
    // The current row, or one of its ancestors, is among the rows going away.
    for (QModelIndex index = m_view->currentIndex().siblingAtColumn(0); index.isValid(); index = index.parent()) {
        if (index.parent() == parent && index.row() >= first && index.row() <= last) {
            m_currentRemoved = true;
            return;
        }
    }
}

void FooBrowser::rowsGone()
{
    if (!m_currentRemoved)
        return;
    m_currentRemoved = false;
    // No current row rather than the neighbour the selection model picked (see the class comment).
    // Clearing it announces pk 0 through currentRowChanged(); with no neighbour, nothing would.
    if (m_view->currentIndex().isValid())
        m_view->selectionModel()->setCurrentIndex(QModelIndex(), QItemSelectionModel::NoUpdate);
    else
        emit currentChanged(0, QString(), QString());
}

// QItemSelectionModel forgets the current index on a reset without a signal. When a node is to be
// re-selected as the rows arrive, the answer waits for the end of loading.
void FooBrowser::modelWasReset()
{
    m_followRestored = false;
    m_currentRemoved = false;
    emit selectionChanged();
    if (m_selected.id == 0)
        emit currentChanged(0, QString(), QString());
}

void FooBrowser::loadingChanged(bool loading)
{
    if (!loading)
        queueFollow();
    if (loading || m_selected.id == 0)
        return;
    // Loaded, and the node that was current did not come back (filtered out, or gone).
    m_selected = {};
    if (!m_view->currentIndex().isValid())
        emit currentChanged(0, QString(), QString());
}

// Once per turn of the event loop, however many insertions and layout changes came: each scrollTo()
// lays out every top-level row first.
void FooBrowser::queueFollow()
{
    if (!m_followRestored || m_followQueued)
        return;
    m_followQueued = true;
    QTimer::singleShot(0, this, &FooBrowser::followRestored);
}

// Back to the re-selected row, and on to the next batch if the view shows its end: the view asks
// for it when it shows its last row, but the model, still loading while a batch goes in, ignores a
// request made meanwhile, and a view brought to its end by restoreRows() (a slot of rowsInserted)
// did not ask again (seen under load: 200 of 3,000 Foos). Once no batch is on its way, the reload is
// over: the view is the operator's again, and later changes (a state read) no longer move it.
void FooBrowser::followRestored()
{
    m_followQueued = false;
    const QModelIndex current = m_view->currentIndex();
    if (!m_followRestored || !current.isValid()) {
        m_followRestored = false;
        return;
    }
    m_view->scrollTo(current);
    if (m_model->isLoading())
        return;
    const int last = m_proxy->rowCount() - 1;
    if (last >= 0 && m_proxy->canFetchMore({})
        && m_view->viewport()->rect().intersects(m_view->visualRect(m_proxy->index(last, 0))))
        m_proxy->fetchMore({});
    if (!m_model->isLoading())
        m_followRestored = false;
}

// Rows arrive in batches after a reload: expand and select those that were before.
void FooBrowser::restoreRows(const QModelIndex &parent, int first, int last)
{
    queueFollow(); // rows may have gone in above it
    if (m_expanded.isEmpty() && m_selected.id == 0)
        return;
    for (int row = first; row <= last; ++row) {
        const QModelIndex index = m_proxy->index(row, 0, parent);
        const NodeKey key = keyOf(index);
        if (m_expanded.remove(key))
            m_view->expand(index);
        if (m_selected.id != 0 && key == m_selected) {
            m_selected = {};
            m_view->setCurrentIndex(index);
            m_view->scrollTo(index);
            m_followRestored = true;
            queueFollow();
        }
    }
}

void FooBrowser::currentRowChanged(const QModelIndex &current)
{
    m_followRestored = false; // restoreRows() sets it after making its row current
    if (m_currentRemoved)
        return; // the neighbour of a row being removed: rowsGone() clears the current index
    if (!current.isValid()) {
        emit currentChanged(0, QString(), QString());
        return;
    }
    const auto kind = current.data(FooTreeModel::KindRole).value<FooTreeModel::Kind>();
    if (kind == FooTreeModel::Kind::Foo) {
        hideImpact();
    } else {
        const NodeLevel level = kind == FooTreeModel::Kind::Bar ? NodeLevel::Bar
            : kind == FooTreeModel::Kind::Zab                   ? NodeLevel::Zab
                                                                : NodeLevel::Baz;
        m_shownImpact.reset();
        emit impactWanted(level, current.data(FooTreeModel::IdRole).toLongLong());
    }
    QModelIndex foo = current.siblingAtColumn(0);
    while (foo.parent().isValid())
        foo = foo.parent();
    emit currentChanged(current.data(FooTreeModel::FooIdRole).toLongLong(), foo.data().toString(),
                        current.data(FooTreeModel::JsonPathRole).toString());
}

QList<qint64> FooBrowser::selectedFooIds() const
{
    QList<qint64> ids;
    for (const QModelIndex &index : m_view->selectionModel()->selectedRows()) {
        const qint64 id = index.data(FooTreeModel::FooIdRole).toLongLong();
        if (id != 0 && !ids.contains(id))
            ids << id;
    }
    return ids;
}

QString FooBrowser::currentPath() const
{
    return m_view->currentIndex().data(FooTreeModel::JsonPathRole).toString();
}

bool FooBrowser::selectLargestFoo()
{
    int best = -1;
    qint64 most = -1;
    for (int row = 0; row < m_proxy->rowCount(); ++row) {
        const qint64 children = m_proxy->index(row, FooTreeModel::ChildrenColumn).data(FooTreeModel::SortRole).toLongLong();
        if (children > most) {
            most = children;
            best = row;
        }
    }
    if (best < 0)
        return false;
    m_view->setCurrentIndex(m_proxy->index(best, 0));
    m_view->scrollTo(m_view->currentIndex());
    return true;
}

bool FooBrowser::selectFoo(qint64 pk)
{
    const QModelIndex index = m_proxy->mapFromSource(m_model->fooIndex(pk));
    if (!index.isValid())
        return false;
    m_view->setCurrentIndex(index);
    m_view->scrollTo(index);
    return true;
}

QByteArray FooBrowser::saveHeaderState() const
{
    return m_view->header()->saveState();
}

void FooBrowser::restoreHeaderState(const QByteArray &state)
{
    QHeaderView *header = m_view->header();
    header->restoreState(state);
    // A width saved by an older version cut "fresh · identical".
    const int stateWidth = StateDelegate::minimumWidth(fontMetrics());
    if (header->sectionSize(FooTreeModel::StateColumn) < stateWidth)
        header->resizeSection(FooTreeModel::StateColumn, stateWidth);
}
