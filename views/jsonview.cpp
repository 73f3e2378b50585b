#include "jsonview.h"

#include "jsonsnippet.h"

#include <algorithm>

#include <QApplication>
#include <QClipboard>
#include <QContextMenuEvent>
#include <QFontDatabase>
#include <QMenu>
#include <QPainter>
#include <QPushButton>
#include <QScrollBar>

namespace {

constexpr int textMargin = 8;

bool isDark(const QPalette &palette)
{
    return palette.color(QPalette::Base).lightness() < 128;
}

QColor tint(const QColor &colour, int alpha)
{
    QColor result = colour;
    result.setAlpha(alpha);
    return result;
}

enum class Token { Plain, Key, String, Number, Literal };

// The length of the token that starts at `at`, and its kind.
std::pair<qsizetype, Token> nextToken(QStringView line, qsizetype at)
{
    const QChar c = line.at(at);
    if (c == QLatin1Char('"')) {
        qsizetype end = at + 1;
        while (end < line.size() && line.at(end) != QLatin1Char('"'))
            end += line.at(end) == QLatin1Char('\\') ? 2 : 1;
        end = qMin(end + 1, line.size());
        qsizetype next = end;
        while (next < line.size() && line.at(next) == QLatin1Char(' '))
            ++next;
        const bool key = next < line.size() && line.at(next) == QLatin1Char(':');
        return { end - at, key ? Token::Key : Token::String };
    }
    if (c.isDigit() || c == QLatin1Char('-') || c.isLetter()) {
        qsizetype end = at + 1;
        while (end < line.size() && (line.at(end).isLetterOrNumber() || line.at(end) == QLatin1Char('.')
                                     || line.at(end) == QLatin1Char('+') || line.at(end) == QLatin1Char('-')))
            ++end;
        return { end - at, c.isLetter() ? Token::Literal : Token::Number };
    }
    qsizetype end = at + 1;
    while (end < line.size() && line.at(end) != QLatin1Char('"') && !line.at(end).isLetterOrNumber()
           && line.at(end) != QLatin1Char('-'))
        ++end;
    return { end - at, Token::Plain };
}

} // namespace

struct JsonView::Colours {
    QColor text, key, string, number, literal, gutter, gutterText;
    QColor changed, added, removed, highlight, selection, match, currentMatch;

    explicit Colours(const QPalette &palette)
    {
        const bool dark = isDark(palette);
        text = palette.color(QPalette::Text);
        key = dark ? QColor(0x9c, 0xdc, 0xfe) : QColor(0x0b, 0x4f, 0x9c);
        string = dark ? QColor(0xce, 0x91, 0x78) : QColor(0xa3, 0x15, 0x15);
        number = dark ? QColor(0xb5, 0xce, 0xa8) : QColor(0x09, 0x86, 0x58);
        literal = dark ? QColor(0x56, 0x9c, 0xd6) : QColor(0x80, 0x00, 0x80);
        gutter = palette.color(QPalette::AlternateBase);
        gutterText = palette.color(QPalette::PlaceholderText);
        changed = dark ? QColor(0xd7, 0xa2, 0x2a, 70) : QColor(0xff, 0xd5, 0x4f, 110);
        added = dark ? QColor(0x3f, 0xb9, 0x50, 70) : QColor(0x7e, 0xd3, 0x8a, 110);
        removed = dark ? QColor(0xf8, 0x51, 0x49, 70) : QColor(0xff, 0x8a, 0x80, 110);
        highlight = tint(palette.color(QPalette::Highlight), 30);
        selection = tint(palette.color(QPalette::Highlight), 80);
        // Pink: not a colour the differences use (amber, green, red) nor the selection's.
        match = QColor(0xf4, 0x8f, 0xb1, 140);
        currentMatch = QColor(0xec, 0x40, 0x7a, 190);
    }

    QColor forMark(char mark) const
    {
        switch (LineMark(mark)) {
        case LineMark::Changed:
            return changed;
        case LineMark::Added:
            return added;
        case LineMark::Removed:
            return removed;
        case LineMark::None:
            break;
        }
        return {};
    }
};

JsonView::JsonView(QWidget *parent)
    : QAbstractScrollArea(parent)
{
    setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    setFocusPolicy(Qt::StrongFocus);
    viewport()->setCursor(Qt::IBeamCursor);
    updateMetrics();
    connect(verticalScrollBar(), &QScrollBar::valueChanged, this, &JsonView::topLineChanged);
    m_saveButton = new QPushButton(tr("Save to File…"), viewport());
    m_saveButton->setObjectName(QStringLiteral("saveToFile"));
    m_saveButton->setCursor(Qt::ArrowCursor);
    m_saveButton->hide();
    connect(m_saveButton, &QPushButton::clicked, this, &JsonView::saveRequested);
}

void JsonView::setDocument(const FormattedJson &document, const QByteArray &marks, const QList<CharSpan> &spans)
{
    m_document = document;
    m_marks = marks;
    m_spans = spans;
    m_placeholder.clear();
    m_oversized = false;
    m_saveButton->hide();
    m_current = m_anchor = m_highlightFirst = m_highlightLast = -1;
    m_matches.clear();
    m_currentMatch = -1;
    if (!m_findText.isEmpty()) // a new document keeps the search, case option too: its matches are found again
        setFindText(m_findText, m_findSensitivity);
    m_longestLine = 0;
    for (int line = 0; line < m_document.lineCount(); ++line)
        m_longestLine = qMax(m_longestLine, int(m_document.line(line).size()));
    updateMetrics();
    verticalScrollBar()->setValue(0);
    horizontalScrollBar()->setValue(0);
    viewport()->update();
}

void JsonView::setPlaceholder(const QString &text)
{
    setDocument({}, {});
    m_placeholder = text;
    viewport()->update();
}

void JsonView::setOversized(const QString &text)
{
    setPlaceholder(text);
    m_oversized = true;
    placeSaveButton();
    m_saveButton->show();
}

// Centred just below the middle, under the placeholder text (painted above the middle).
void JsonView::placeSaveButton()
{
    const QSize size = m_saveButton->sizeHint();
    const QRect area = viewport()->rect();
    m_saveButton->setGeometry(QRect(QPoint((area.width() - size.width()) / 2, area.height() / 2 + 8), size));
}

int JsonView::setFindText(const QString &text, Qt::CaseSensitivity sensitivity)
{
    m_findText = text;
    m_findSensitivity = sensitivity;
    m_matches.clear();
    m_currentMatch = -1;
    if (!text.isEmpty()) {
        for (qsizetype at = m_document.text.indexOf(text, 0, sensitivity); at >= 0;
             at = m_document.text.indexOf(text, at + text.size(), sensitivity))
            m_matches.append(at);
    }
    viewport()->update();
    return int(m_matches.size());
}

bool JsonView::findNext(bool backward, bool *wrapped)
{
    if (wrapped)
        *wrapped = false;
    if (m_matches.isEmpty())
        return false;
    int next = 0;
    if (m_currentMatch >= 0) {
        next = m_currentMatch + (backward ? -1 : 1);
    } else {
        // From the top of the view: the first match on screen or after it (or before it, backwards).
        const qsizetype from = m_document.lineStarts.value(topLine());
        next = int(std::lower_bound(m_matches.cbegin(), m_matches.cend(), from) - m_matches.cbegin());
        if (backward)
            --next;
    }
    const int count = int(m_matches.size());
    if (next < 0 || next >= count) {
        next = (next + count) % count;
        if (wrapped)
            *wrapped = true;
    }
    showMatch(next);
    return true;
}

void JsonView::showMatch(int match)
{
    m_currentMatch = match;
    const qsizetype offset = m_matches.at(match);
    const int line = int(std::upper_bound(m_document.lineStarts.cbegin(), m_document.lineStarts.cend(), offset)
                         - m_document.lineStarts.cbegin()) - 1;
    if (line < topLine() || line >= topLine() + visibleLines())
        scrollToLine(qMax(0, line - visibleLines() / 3));
    // And sideways, so the match is on screen in a long line.
    const int column = int(offset - m_document.lineStarts.at(line));
    const int x = textMargin + column * m_charWidth;
    const int width = viewport()->width() - m_gutterWidth;
    if (x < horizontalScrollBar()->value() || x + int(m_findText.size()) * m_charWidth > horizontalScrollBar()->value() + width)
        horizontalScrollBar()->setValue(qMax(0, x - width / 3));
    viewport()->update();
}

int JsonView::topLine() const
{
    return verticalScrollBar()->value();
}

void JsonView::scrollToLine(int line)
{
    verticalScrollBar()->setValue(line);
}

void JsonView::highlightRange(int first, int last)
{
    m_highlightFirst = first;
    m_highlightLast = last;
    if (first >= 0)
        scrollToLine(qMax(0, first - 2));
    viewport()->update();
}

QString JsonView::selectedText() const
{
    if (m_current < 0)
        return {};
    const int first = qMin(m_current, m_anchor);
    const int last = qMax(m_current, m_anchor);
    QStringList lines;
    for (int line = first; line <= last; ++line)
        lines << m_document.line(line).toString();
    return lines.join(QLatin1Char('\n'));
}

QString JsonView::currentJson() const
{
    if (!hasDocument())
        return {};
    return m_current < 0 ? nodeJson(m_document, 0) : lineJson(m_document, m_current);
}

QString JsonView::currentPath() const
{
    return m_current < 0 ? QString() : m_document.pathAt(m_current);
}

void JsonView::updateMetrics()
{
    const QFontMetrics metrics(font());
    m_lineHeight = metrics.lineSpacing();
    m_charWidth = metrics.horizontalAdvance(QLatin1Char('0'));
    const int digits = QString::number(qMax(1, m_document.lineCount())).size();
    m_gutterWidth = textMargin * 2 + m_charWidth * qMax(3, digits);
    updateScrollBars();
}

int JsonView::visibleLines() const
{
    return qMax(1, viewport()->height() / qMax(1, m_lineHeight));
}

void JsonView::updateScrollBars()
{
    verticalScrollBar()->setRange(0, qMax(0, m_document.lineCount() - visibleLines()));
    verticalScrollBar()->setPageStep(visibleLines());
    const int width = m_gutterWidth + textMargin * 2 + m_longestLine * m_charWidth;
    horizontalScrollBar()->setRange(0, qMax(0, width - viewport()->width()));
    horizontalScrollBar()->setPageStep(viewport()->width());
    horizontalScrollBar()->setSingleStep(m_charWidth * 2);
}

void JsonView::resizeEvent(QResizeEvent *event)
{
    QAbstractScrollArea::resizeEvent(event);
    updateScrollBars();
    placeSaveButton();
}

void JsonView::changeEvent(QEvent *event)
{
    if (event->type() == QEvent::FontChange)
        updateMetrics();
    QAbstractScrollArea::changeEvent(event);
}

int JsonView::lineAt(int y) const
{
    return qBound(0, topLine() + y / qMax(1, m_lineHeight), qMax(0, m_document.lineCount() - 1));
}

void JsonView::paintEvent(QPaintEvent *)
{
    QPainter painter(viewport());
    const QRect area = viewport()->rect();
    painter.fillRect(area, palette().color(QPalette::Base));
    if (!hasDocument()) {
        painter.setPen(palette().color(QPalette::PlaceholderText));
        painter.setFont(QApplication::font(this)); // prose, not JSON
        if (m_oversized)
            painter.drawText(QRect(16, 16, area.width() - 32, area.height() / 2 - 16),
                             Qt::AlignHCenter | Qt::AlignBottom | Qt::TextWordWrap, m_placeholder);
        else
            painter.drawText(area.adjusted(16, 16, -16, -16), Qt::AlignCenter | Qt::TextWordWrap, m_placeholder);
        paintFocusFrame(painter);
        return;
    }
    const Colours colours(palette());
    const int first = topLine();
    const int last = qMin(m_document.lineCount() - 1, first + visibleLines() + 1);
    painter.setClipRect(QRect(m_gutterWidth, 0, area.width() - m_gutterWidth, area.height()));
    for (int line = first; line <= last; ++line)
        paintLine(painter, line, (line - first) * m_lineHeight, colours);
    painter.setClipping(false);
    painter.fillRect(QRect(0, 0, m_gutterWidth, area.height()), colours.gutter);
    painter.setPen(colours.gutterText);
    for (int line = first; line <= last; ++line) {
        const int y = (line - first) * m_lineHeight;
        if (line < m_marks.size() && m_marks.at(line) != char(LineMark::None)) {
            QColor bar = colours.forMark(m_marks.at(line));
            bar.setAlpha(255);
            painter.fillRect(QRect(m_gutterWidth - 3, y, 3, m_lineHeight), bar);
        }
        painter.drawText(QRect(0, y, m_gutterWidth - textMargin, m_lineHeight), Qt::AlignRight | Qt::AlignVCenter,
                         QString::number(line + 1));
    }
    paintFocusFrame(painter);
}

// The keyboard's pane, visible at a glance: two pixels of the highlight colour around it (the
// styles' own frame is one grey pixel, easily missed between two panes).
void JsonView::paintFocusFrame(QPainter &painter) const
{
    if (!hasFocus())
        return;
    painter.setClipping(false);
    painter.setPen(QPen(palette().color(QPalette::Highlight), 2));
    painter.setBrush(Qt::NoBrush);
    painter.drawRect(viewport()->rect().adjusted(1, 1, -1, -1));
}

void JsonView::focusInEvent(QFocusEvent *event)
{
    QAbstractScrollArea::focusInEvent(event);
    viewport()->update();
}

void JsonView::focusOutEvent(QFocusEvent *event)
{
    QAbstractScrollArea::focusOutEvent(event);
    viewport()->update();
}

void JsonView::paintLine(QPainter &painter, int line, int y, const Colours &colours) const
{
    const QRect row(m_gutterWidth, y, viewport()->width() - m_gutterWidth, m_lineHeight);
    if (line < m_marks.size() && m_marks.at(line) != char(LineMark::None))
        painter.fillRect(row, colours.forMark(m_marks.at(line)));
    if (line >= m_highlightFirst && line <= m_highlightLast)
        painter.fillRect(row, colours.highlight);
    if (m_current >= 0 && line >= qMin(m_current, m_anchor) && line <= qMax(m_current, m_anchor))
        painter.fillRect(row, colours.selection);
    const int textX = m_gutterWidth + textMargin - horizontalScrollBar()->value();
    if (line < m_spans.size() && !m_spans.at(line).isEmpty() && line < m_marks.size()) {
        // The characters that differ, in the line's own colour made stronger.
        const CharSpan span = m_spans.at(line);
        QColor strong = colours.forMark(m_marks.at(line));
        strong.setAlpha(qMin(255, strong.alpha() * 2 + 40));
        const int left = columnX(m_document.line(line), span.first, textX);
        painter.fillRect(QRect(left, y, columnX(m_document.line(line), span.end, textX) - left, m_lineHeight), strong);
    }
    if (!m_matches.isEmpty()) {
        // Every match on this line, as the text's columns (a fixed-width font); the current one stronger.
        const qsizetype start = m_document.lineStarts.at(line);
        const qsizetype end = start + m_document.line(line).size();
        auto it = std::lower_bound(m_matches.cbegin(), m_matches.cend(), start);
        for (; it != m_matches.cend() && *it < end; ++it) {
            const int column = int(*it - start);
            const int length = int(qMin<qsizetype>(m_findText.size(), end - *it));
            const int left = columnX(m_document.line(line), column, textX);
            const QRect box(left, y, columnX(m_document.line(line), column + length, textX) - left, m_lineHeight);
            const bool current = int(it - m_matches.cbegin()) == m_currentMatch;
            painter.fillRect(box, current ? colours.currentMatch : colours.match);
        }
    }
    const QStringView text = m_document.line(line);
    const QFontMetrics metrics(font());
    const int baseline = y + metrics.ascent() + (m_lineHeight - metrics.height()) / 2;
    int x = m_gutterWidth + textMargin - horizontalScrollBar()->value();
    qsizetype at = 0;
    while (at < text.size() && text.at(at) == QLatin1Char(' '))
        ++at;
    x += int(at) * m_charWidth;
    while (at < text.size()) {
        const auto [length, token] = nextToken(text, at);
        const QString piece = text.mid(at, length).toString();
        switch (token) {
        case Token::Key:
            painter.setPen(colours.key);
            break;
        case Token::String:
            painter.setPen(colours.string);
            break;
        case Token::Number:
            painter.setPen(colours.number);
            break;
        case Token::Literal:
            painter.setPen(colours.literal);
            break;
        case Token::Plain:
            painter.setPen(colours.text);
            break;
        }
        painter.drawText(x, baseline, piece);
        x += metrics.horizontalAdvance(piece);
        at += length;
        if (x > viewport()->width())
            break;
    }
}

int JsonView::xOfColumn(int line, int column) const
{
    return columnX(m_document.line(line), column, m_gutterWidth + textMargin - horizontalScrollBar()->value());
}

int JsonView::columnX(QStringView text, int column, int textX) const
{
    column = qBound(0, column, int(text.size()));
    // The line's leading spaces are skipped by a fixed width in paintLine; count them the same way.
    int spaces = 0;
    while (spaces < column && text.at(spaces) == QLatin1Char(' '))
        ++spaces;
    return textX + spaces * m_charWidth + QFontMetrics(font()).horizontalAdvance(text.mid(spaces, column - spaces).toString());
}

void JsonView::setCurrent(int line, bool extend)
{
    if (!hasDocument())
        return;
    line = qBound(0, line, m_document.lineCount() - 1);
    if (!extend || m_anchor < 0)
        m_anchor = line;
    m_current = line;
    if (line < topLine())
        scrollToLine(line);
    else if (line >= topLine() + visibleLines())
        scrollToLine(line - visibleLines() + 1);
    viewport()->update();
    emit currentLineChanged(line);
}

void JsonView::mousePressEvent(QMouseEvent *event)
{
    if (event->button() == Qt::LeftButton)
        setCurrent(lineAt(int(event->position().y())), event->modifiers() & Qt::ShiftModifier);
    QAbstractScrollArea::mousePressEvent(event);
}

void JsonView::mouseMoveEvent(QMouseEvent *event)
{
    if (event->buttons() & Qt::LeftButton)
        setCurrent(lineAt(int(event->position().y())), true);
}

void JsonView::keyPressEvent(QKeyEvent *event)
{
    const bool extend = event->modifiers() & Qt::ShiftModifier;
    if (event->matches(QKeySequence::Copy)) {
        copySelection();
    } else if (event->key() == Qt::Key_Down) {
        setCurrent(m_current + 1, extend);
    } else if (event->key() == Qt::Key_Up) {
        setCurrent(m_current - 1, extend);
    } else if (event->key() == Qt::Key_PageDown) {
        setCurrent(m_current + visibleLines(), extend);
    } else if (event->key() == Qt::Key_PageUp) {
        setCurrent(m_current - visibleLines(), extend);
    } else if (event->matches(QKeySequence::MoveToStartOfDocument)) {
        setCurrent(0, extend);
    } else if (event->matches(QKeySequence::MoveToEndOfDocument)) {
        setCurrent(m_document.lineCount() - 1, extend);
    } else {
        QAbstractScrollArea::keyPressEvent(event);
    }
}

void JsonView::copySelection()
{
    const int lines = qAbs(m_current - m_anchor) + 1;
    if (const QString text = selectedText(); !text.isEmpty())
        copy(text, lines == 1 ? tr("1 line") : tr("%n lines", nullptr, lines));
}

void JsonView::copy(const QString &text, const QString &what)
{
    QApplication::clipboard()->setText(text);
    emit copied(what);
}

// The window's Edit menu has the same commands with their shortcuts (they act on the focused
// pane's current line); these show the shortcuts so they can be learnt here.
void JsonView::contextMenuEvent(QContextMenuEvent *event)
{
    if (!hasDocument()) {
        if (m_oversized) {
            QMenu menu(this);
            connect(menu.addAction(tr("&Save to File…")), &QAction::triggered, this, &JsonView::saveRequested);
            menu.exec(event->globalPos());
        }
        return;
    }
    const int line = lineAt(event->pos().y());
    if (m_current < 0 || line < qMin(m_current, m_anchor) || line > qMax(m_current, m_anchor))
        setCurrent(line, false);
    const QString path = m_document.pathAt(line);
    const QString where = path.isEmpty() ? tr("the document") : path;
    QMenu menu(this);
    QAction *copyLines = menu.addAction(tr("&Copy Lines"));
    copyLines->setShortcut(QKeySequence::Copy);
    connect(copyLines, &QAction::triggered, this, &JsonView::copySelection);
    QAction *copyJson = menu.addAction(tr("Copy as &JSON"));
    copyJson->setShortcut(QKeySequence(tr("Ctrl+Shift+J")));
    connect(copyJson, &QAction::triggered, this,
            [this, line, where] { copy(lineJson(m_document, line), tr("the JSON of %1").arg(where)); });
    QAction *copyPath = menu.addAction(tr("Copy JSON &Path"));
    copyPath->setShortcut(QKeySequence(tr("Ctrl+Shift+C")));
    connect(copyPath, &QAction::triggered, this, [this, path] { copy(path, tr("the path %1").arg(path)); });
    connect(menu.addAction(tr("Copy &Whole Side as JSON")), &QAction::triggered, this,
            [this] { copy(m_document.text, tr("the whole document")); });
    menu.addSeparator();
    connect(menu.addAction(tr("&Save Body As…")), &QAction::triggered, this, &JsonView::saveRequested);
    menu.exec(event->globalPos());
}
