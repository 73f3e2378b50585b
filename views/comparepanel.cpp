#include "comparepanel.h"

#include "core/background.h"

#include "core/bytesize.h"

#include "findbar.h"
#include "jsonsnippet.h"
#include "jsonview.h"

#include <QApplication>
#include <QClipboard>
#include <QDateTime>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QLocale>
#include <QScrollBar>
#include <QSplitter>
#include <QStackedWidget>
#include <QToolButton>
#include <QVBoxLayout>

namespace {

QLabel *titleLabel(QWidget *parent)
{
    auto *label = new QLabel(parent);
    label->setTextFormat(Qt::RichText);
    label->setContentsMargins(4, 2, 4, 2);
    return label;
}

QWidget *column(QLabel *title, JsonView *view, QWidget *parent)
{
    auto *widget = new QWidget(parent);
    auto *layout = new QVBoxLayout(widget);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    layout->addWidget(title);
    layout->addWidget(view);
    return widget;
}

} // namespace

ComparePanel::ComparePanel(QWidget *parent)
    : QWidget(parent)
    , m_saver(new ComparisonSaver(this))
{
    createWidgets();
    connectSignals();
    clear(tr("Select a Foo to compare its cached body with a live serialization."));
}

void ComparePanel::createWidgets()
{
    m_summary = new QLabel(this);
    m_summary->setObjectName(QStringLiteral("summary"));
    QFont bold = m_summary->font();
    bold.setBold(true);
    m_summary->setFont(bold);
    m_timing = new QLabel(this);
    m_timing->setForegroundRole(QPalette::PlaceholderText);
    m_previous = new QToolButton(this);
    m_previous->setArrowType(Qt::UpArrow);
    m_previous->setToolTip(tr("Previous difference (Shift+F7)"));
    m_next = new QToolButton(this);
    m_next->setArrowType(Qt::DownArrow);
    m_next->setToolTip(tr("Next difference (F7)"));
    auto *header = new QHBoxLayout;
    header->addWidget(m_summary);
    header->addStretch();
    header->addWidget(m_timing);
    m_position = new QLabel(this);
    m_position->setObjectName(QStringLiteral("differencePosition"));
    header->addWidget(m_position);
    header->addWidget(m_previous);
    header->addWidget(m_next);

    m_cached = new JsonView(this);
    m_cached->setObjectName(QStringLiteral("cachedView"));
    m_live = new JsonView(this);
    m_live->setObjectName(QStringLiteral("liveView"));
    m_cachedTitle = titleLabel(this);
    m_cachedTitle->setObjectName(QStringLiteral("cachedTitle"));
    m_liveTitle = titleLabel(this);
    m_liveTitle->setObjectName(QStringLiteral("liveTitle"));
    auto *panes = new QSplitter(Qt::Horizontal, this);
    panes->addWidget(column(m_cachedTitle, m_cached, panes));
    panes->addWidget(column(m_liveTitle, m_live, panes));
    panes->setChildrenCollapsible(false);
    m_unified = new JsonView(this);
    m_unified->setObjectName(QStringLiteral("unifiedView"));
    m_unifiedTitle = titleLabel(this);
    m_unifiedTitle->setObjectName(QStringLiteral("unifiedTitle"));
    // Both sides' titles in one line: never let their length widen the window.
    m_unifiedTitle->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_stack = new QStackedWidget(this);
    m_stack->addWidget(panes);
    m_stack->addWidget(column(m_unifiedTitle, m_unified, m_stack));

    m_differences = new QListWidget(this);
    m_differences->setObjectName(QStringLiteral("differences"));
    m_differences->setUniformItemSizes(true);
    m_splitter = new QSplitter(Qt::Vertical, this);
    m_splitter->addWidget(m_stack);
    m_splitter->addWidget(m_differences);
    m_splitter->setStretchFactor(0, 4);
    m_splitter->setStretchFactor(1, 1);

    m_find = new FindBar(this);
    m_find->setViews({ m_cached, m_live, m_unified });

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(header);
    layout->addWidget(m_find);
    layout->addWidget(m_splitter);
}

void ComparePanel::connectSignals()
{
    connect(m_next, &QToolButton::clicked, this, &ComparePanel::nextDifference);
    connect(m_previous, &QToolButton::clicked, this, &ComparePanel::previousDifference);
    connect(m_cached, &JsonView::topLineChanged, this, [this](int line) { syncScroll(m_cached, m_live, line); });
    connect(m_live, &JsonView::topLineChanged, this, [this](int line) { syncScroll(m_live, m_cached, line); });
    connect(m_differences, &QListWidget::currentRowChanged, this, &ComparePanel::showDifference);
    connect(m_differences, &QListWidget::currentRowChanged, this, &ComparePanel::updatePosition);
    connect(m_saver, &ComparisonSaver::message, this, &ComparePanel::message);
    for (const Side side : { Side::Cached, Side::Live }) {
        connect(viewOf(side), &JsonView::saveRequested, this, [this, side] { saveSideAs(side); });
        connect(viewOf(side), &JsonView::copied, this,
                [this](const QString &what) { emit message(tr("Copied %1").arg(what), false); });
    }
}

void ComparePanel::find()
{
    // The pane that has the focus; from the bar itself (Ctrl+F again) or elsewhere, the same as before.
    for (JsonView *view : { m_cached, m_live, m_unified }) {
        if (view->hasFocus())
            m_find->setTarget(view);
    }
    if (m_unifiedShown && m_find->target() != m_unified)
        m_find->setTarget(m_unified); // the panes are not on screen
    ensureFindTarget();
    m_find->open();
}

void ComparePanel::findNext()
{
    if (m_find->isHidden())
        find();
    else
        m_find->findNext();
}

void ComparePanel::findPrevious()
{
    if (m_find->isHidden())
        find();
    else
        m_find->findPrevious();
}

void ComparePanel::setSummary(const QString &text, const QString &tone)
{
    m_summary->setText(text);
    m_summary->setStyleSheet(tone.isEmpty() ? QString() : QStringLiteral("color: %1").arg(tone));
}

ComparePanel::Shown ComparePanel::holdShown() const
{
    return { m_comparison, m_cached->document(), m_live->document() };
}

void ComparePanel::freeInBackground(Shown shown)
{
    if (!shown.comparison && shown.cached.lineCount() == 0 && shown.live.lineCount() == 0)
        return;
    releaseInBackground(std::make_shared<Shown>(std::move(shown)));
}

void ComparePanel::clear(const QString &message)
{
    Shown shown = holdShown();
    m_comparison.reset();
    m_cached->setPlaceholder(message);
    m_live->setPlaceholder(QString());
    m_unified->setPlaceholder(message);
    m_unifiedJson = {};
    freeInBackground(std::move(shown));
    m_cachedTitle->setText(tr("<b>Cached</b>"));
    m_liveTitle->setText(tr("<b>Live</b>"));
    m_unifiedTitle->setText(tr("<b>Cached</b> and <b>Live</b>"));
    m_unifiedTitle->setToolTip(QString());
    m_differences->clear();
    updatePosition();
    m_differences->hide();
    m_timing->clear();
    setSummary(QString(), QString());
    setHasDifferences(false);
}

void ComparePanel::setHasDifferences(bool available)
{
    m_previous->setEnabled(available);
    m_next->setEnabled(available);
    if (available == m_hasDifferences)
        return;
    m_hasDifferences = available;
    emit differencesChanged(available);
}

void ComparePanel::showLoading(qint64 pk, const QString &name)
{
    const QString text = tr("Loading Foo %1 (%2)…").arg(pk).arg(name);
    if (!m_comparison || m_comparison->pk != pk) {
        Shown shown = holdShown();
        m_cached->setPlaceholder(text);
        m_live->setPlaceholder(text);
        m_unified->setPlaceholder(text);
        m_unifiedJson = {};
        m_differences->clear();
        updatePosition();
        m_differences->hide();
        freeInBackground(std::move(shown));
        setHasDifferences(false);
    }
    setSummary(tr("Comparing Foo %1…").arg(pk), QString());
}

void ComparePanel::setComparison(const DocumentComparisonPtr &comparison)
{
    Shown shown = holdShown();
    m_comparison = comparison;
    const DocumentComparison &c = *comparison;
    const FormattedComparison &f = c.formatted;
    showSide(Side::Cached);
    showSide(Side::Live);
    freeInBackground(std::move(shown));
    if (m_unifiedShown)
        showUnified();

    QString cachedInfo = tr("<b>Cached</b>");
    if (c.entry) {
        // The size the store holds, as the tree shows it.
        const qint64 size = c.storedBytes.isEmpty() ? c.entry->body.size() : c.storedBytes.size();
        cachedInfo += QStringLiteral(" &nbsp;·&nbsp; %1").arg(formatBytes(size));
        if (c.entry->cachedAt.isValid())
            cachedInfo += tr(" &nbsp;·&nbsp; cached %1")
                              .arg(QLocale().toString(c.entry->cachedAt.toLocalTime(), QLocale::ShortFormat));
        if (c.entry->foreign)
            cachedInfo += tr(" &nbsp;·&nbsp; written by someone else");
    }
    m_cachedTitle->setText(cachedInfo);
    if (c.againstPrevious) {
        QString previousInfo = tr("<b>Previous</b>");
        if (c.previous) {
            previousInfo += QStringLiteral(" &nbsp;·&nbsp; %1").arg(formatBytes(c.liveBytes));
            if (c.previous->cachedAt.isValid())
                previousInfo += tr(" &nbsp;·&nbsp; cached %1")
                                    .arg(QLocale().toString(c.previous->cachedAt.toLocalTime(), QLocale::ShortFormat));
        }
        m_liveTitle->setText(previousInfo);
    } else {
        m_liveTitle->setText(c.liveError.isEmpty() ? tr("<b>Live</b> &nbsp;·&nbsp; %1").arg(formatBytes(c.liveBytes))
                                                   : tr("<b>Live</b>"));
    }
    // One line for both: the kinds and sizes; the dates and who wrote it in the tooltip.
    const QString cachedSize = c.entry ? QStringLiteral(" %1").arg(formatBytes(c.storedBytes.isEmpty() ? c.entry->body.size()
                                                                                                    : c.storedBytes.size()))
                                       : QString();
    const QString liveSize = c.liveError.isEmpty() ? QStringLiteral(" %1").arg(formatBytes(c.liveBytes)) : QString();
    m_unifiedTitle->setText(tr("<span style=\"color:#c0392b\"><b>−</b></span> <b>Cached</b>%1 &nbsp;&nbsp; "
                               "<span style=\"color:#2e8b57\"><b>+</b></span> <b>%2</b>%3")
                                .arg(cachedSize, c.againstPrevious ? tr("Previous") : tr("Live"), liveSize));
    m_unifiedTitle->setToolTip(m_cachedTitle->text() + QStringLiteral("<br>") + m_liveTitle->text());

    const bool same = f.equal || f.keyOrderOnly;
    const QString tone = !f.differences.isEmpty() ? QStringLiteral("#c0392b")
                         : same                   ? QStringLiteral("#2e8b57")
                                                  : QString();
    setSummary(tr("Foo %1: %2").arg(c.pk).arg(f.summary), tone);
    m_timing->setText(tr("%1 ms").arg(qRound(c.seconds * 1000)));
    m_differences->clear();
    for (const FormattedDifference &difference : f.differences)
        m_differences->addItem(difference.text);
    // The list only takes room when there is something in it.
    m_differences->setVisible(!f.differences.isEmpty());
    setHasDifferences(!f.differences.isEmpty());
    updatePosition();
    ensureFindTarget();
    m_find->refresh();
}

// A side without a document ("Not cached") finds nothing: search the other side instead, or the
// bar says "No matches" beside a pane full of them.
void ComparePanel::ensureFindTarget()
{
    JsonView *target = m_find->target();
    if (m_unifiedShown || !target || target->hasDocument())
        return;
    JsonView *other = target == m_cached ? m_live : m_cached;
    if (other->hasDocument())
        m_find->setTarget(other);
}

void ComparePanel::setLayoutLimits(qint64 bytes, int lineLength)
{
    m_maxBytes = bytes;
    m_maxLineLength = lineLength;
    if (m_comparison) {
        showSide(Side::Cached);
        showSide(Side::Live);
    }
}

bool ComparePanel::isOversized(Side side) const
{
    return viewOf(side)->isOversized();
}

// One side into its pane: the document, the reason there is none, or (too large to lay out) a
// placeholder that offers the file instead.
void ComparePanel::showSide(Side side)
{
    const DocumentComparison &c = *m_comparison;
    const bool cached = side == Side::Cached;
    const FormattedJson &document = cached ? c.formatted.before : c.formatted.after;
    JsonView *view = viewOf(side);
    if (document.lineCount() == 0) {
        view->setPlaceholder(cached ? (c.cachedError.isEmpty() ? tr("Not cached") : c.cachedError) : c.liveError);
        return;
    }
    const qint64 bytes = cached ? (c.entry ? c.entry->body.size() : 0) : c.liveBytes;
    const QString hint = tr("Save it to a file to read it in an editor; the other side and the list of "
                            "differences work as usual.");
    if (bytes > m_maxBytes) {
        view->setOversized(tr("This body is %1, more than the %2 shown here.\n%3")
                               .arg(formatBytes(bytes), formatBytes(m_maxBytes), hint));
        return;
    }
    if (const int longest = longestLine(document); longest > m_maxLineLength) {
        view->setOversized(tr("A value in this body takes one line of %L1 characters, more than the %L2 "
                              "shown here.\n%3")
                               .arg(longest)
                               .arg(m_maxLineLength)
                               .arg(hint));
        return;
    }
    view->setDocument(document, cached ? c.formatted.beforeMarks : c.formatted.afterMarks,
                      changedSpans(c.formatted, cached));
}

void ComparePanel::setPaneLayout(PaneLayout layout)
{
    m_layout = layout;
    updatePaneLayout();
}

void ComparePanel::resizeEvent(QResizeEvent *event)
{
    QWidget::resizeEvent(event);
    updatePaneLayout();
}

void ComparePanel::updatePaneLayout()
{
    const bool unified = m_layout == PaneLayout::Unified || (m_layout == PaneLayout::Automatic && width() < unifiedBelow);
    if (unified == m_unifiedShown)
        return;
    m_unifiedShown = unified;
    m_stack->setCurrentIndex(unified ? 1 : 0);
    if (unified) {
        showUnified();
        if (m_find->target() == m_cached || m_find->target() == m_live)
            m_find->setTarget(m_unified);
    } else {
        m_unifiedJson = {};
        m_unified->setPlaceholder(QString());
        if (m_find->target() == m_unified)
            m_find->setTarget(m_cached);
    }
    emit unifiedChanged(unified);
}

// Both sides in one column; with one side only (not cached, no live body), that side as it is.
void ComparePanel::showUnified()
{
    m_unifiedJson = {};
    if (!m_comparison) {
        m_unified->setPlaceholder(m_cached->placeholder());
        return;
    }
    if (m_cached->isOversized() || m_live->isOversized()) {
        m_unified->setPlaceholder(tr("Too large for one column: widen the window (or View → Side by Side) to save "
                                     "the large side to a file."));
        return;
    }
    const bool hasCached = m_cached->hasDocument();
    const bool hasLive = m_live->hasDocument();
    if (hasCached && hasLive) {
        m_unifiedJson = unifyComparison(m_comparison->formatted);
        m_unified->setDocument(m_unifiedJson.document, m_unifiedJson.marks, m_unifiedJson.spans);
    } else if (hasCached || hasLive) {
        JsonView *side = hasCached ? m_cached : m_live;
        m_unified->setDocument(side->document(), {});
    } else {
        m_unified->setPlaceholder(m_cached->placeholder().isEmpty() ? m_live->placeholder() : m_cached->placeholder());
    }
    if (!m_shownPath.isEmpty())
        showPath(m_shownPath);
}

int ComparePanel::unifiedLine(int cachedLine, int liveLine) const
{
    if (m_unifiedJson.afterLines.isEmpty()) // one side only: its own lines
        return m_live->hasDocument() ? liveLine : cachedLine;
    return liveLine >= 0 ? m_unifiedJson.unifiedLineOfAfter(liveLine) : m_unifiedJson.unifiedLineOfBefore(cachedLine);
}

QString ComparePanel::summaryText() const
{
    return m_summary->text();
}

void ComparePanel::showPath(const QString &path)
{
    m_shownPath = path;
    if (!m_comparison)
        return;
    if (m_unifiedShown && m_unified->hasDocument()) {
        const JsonView *side = m_live->hasDocument() ? m_live : m_cached;
        const auto range = side->hasDocument() ? side->document().rangeOf(path) : FormattedJson::LineRange();
        const bool live = side == m_live;
        const int first = unifiedLine(live ? -1 : range.first, live ? range.first : -1);
        const int last = unifiedLine(live ? -1 : range.last, live ? range.last : -1);
        m_unified->highlightRange(path.isEmpty() ? -1 : first, path.isEmpty() ? -1 : last);
        if (path.isEmpty())
            m_unified->scrollToLine(0);
    }
    for (JsonView *view : { m_cached, m_live }) {
        if (!view->hasDocument())
            continue;
        const auto range = view->document().rangeOf(path);
        m_syncing = true;
        view->highlightRange(path.isEmpty() ? -1 : range.first, path.isEmpty() ? -1 : range.last);
        if (path.isEmpty())
            view->scrollToLine(0);
        m_syncing = false;
    }
}

void ComparePanel::syncScroll(JsonView *from, JsonView *to, int line)
{
    if (m_syncing || !from->hasDocument() || !to->hasDocument())
        return;
    m_syncing = true;
    to->scrollToLine(correspondingLine(from->document(), to->document(), line));
    m_syncing = false;
}

void ComparePanel::showDifference(int row)
{
    if (!m_comparison || row < 0 || row >= m_comparison->formatted.differences.size())
        return;
    const FormattedDifference &difference = m_comparison->formatted.differences.at(row);
    if (m_unifiedShown && m_unified->hasDocument()) {
        // A changed value: its removed line first, then the added one below it.
        const int removed = m_unifiedJson.afterLines.isEmpty() ? -1 : m_unifiedJson.unifiedLineOfBefore(difference.beforeLine);
        const int added = unifiedLine(difference.beforeLine, difference.afterLine);
        const int first = removed >= 0 && (added < 0 || removed < added) ? removed : added;
        m_unified->highlightRange(first, qMax(first, added));
    }
    m_syncing = true;
    if (m_cached->hasDocument())
        m_cached->highlightRange(difference.beforeLine, difference.beforeLine);
    if (m_live->hasDocument())
        m_live->highlightRange(difference.afterLine, difference.afterLine);
    m_syncing = false;
}

// F7 / Shift+F7 go round, and say so when they pass the end: a silent wrap reads as "more changes".
void ComparePanel::nextDifference()
{
    const int count = m_differences->count();
    if (count == 0)
        return;
    const int current = m_differences->currentRow();
    if (current == count - 1)
        emit message(tr("Past the last difference: back at the first of %1").arg(count), false);
    m_differences->setCurrentRow((current + 1) % count);
}

void ComparePanel::previousDifference()
{
    const int count = m_differences->count();
    if (count == 0)
        return;
    const int current = m_differences->currentRow();
    if (current == 0)
        emit message(tr("Before the first difference: back at the last of %1").arg(count), false);
    m_differences->setCurrentRow(current <= 0 ? count - 1 : current - 1);
}

QString ComparePanel::differencePosition() const
{
    return m_position->text();
}

void ComparePanel::updatePosition()
{
    const int count = m_differences->count();
    const int current = m_differences->currentRow();
    m_position->setText(count == 0 ? QString()
                        : current < 0 ? (count == 1 ? tr("1 difference") : tr("%1 differences").arg(count))
                                      : tr("%1 of %2").arg(current + 1).arg(count));
}

QByteArray ComparePanel::saveState() const
{
    return m_splitter->saveState();
}

void ComparePanel::restoreState(const QByteArray &state)
{
    m_splitter->restoreState(state);
}

QByteArray ComparePanel::sideBytes(Side side, Format format) const
{
    return m_comparison ? ComparisonSaver::sideBytes(*m_comparison, side, format) : QByteArray();
}

bool ComparePanel::saveSide(Side side, const QString &fileName, Format format)
{
    return m_saver->save(m_comparison, side, fileName, format);
}

void ComparePanel::setFileChooser(FileChooser chooser)
{
    m_saver->setFileChooser(std::move(chooser));
}

void ComparePanel::saveSideAs(Side side)
{
    m_saver->saveAs(m_comparison, side);
}

// A pane counts once a line in it was picked: a window gives its first pane the focus on its own.
JsonView *ComparePanel::focusedView() const
{
    for (JsonView *view : { m_cached, m_live }) {
        if (view->hasFocus() && view->hasDocument() && view->currentLine() >= 0)
            return view;
    }
    return nullptr;
}

QString ComparePanel::selectionJson() const
{
    if (JsonView *view = focusedView())
        return view->currentJson();
    JsonView *view = m_live->hasDocument() ? m_live : m_cached;
    if (!view->hasDocument())
        return {};
    return nodeJson(view->document(), view->document().nodeOf(m_shownPath));
}

QString ComparePanel::selectionPath() const
{
    if (JsonView *view = focusedView())
        return view->currentPath();
    return m_shownPath;
}

void ComparePanel::copySelectionJson()
{
    const QString json = selectionJson();
    if (json.isEmpty()) {
        emit message(tr("Nothing to copy: no document is shown"), true);
        return;
    }
    QApplication::clipboard()->setText(json);
    const QString path = selectionPath();
    emit message(tr("Copied the JSON of %1 (%2)")
                     .arg(path.isEmpty() ? tr("the whole document") : path, formatBytes(json.toUtf8().size())),
                 false);
}
