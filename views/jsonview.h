#pragma once

#include "json/jsonformat.h"
#include "json/jsonunified.h"

#include <QAbstractScrollArea>

class QPainter;
class QPushButton;

// A read-only view of a FormattedJson that paints only the lines on screen: syntax colours, line
// numbers, marked (differing) lines, a highlighted part. A QPlainTextEdit needs ~0.8 s of GUI
// thread to take 100,000 lines with a QSyntaxHighlighter; this takes a shared copy of lines made
// on a worker, so even a 2 MB body shows at once. Selection is by whole lines (click, Shift+click,
// drag); Ctrl+C copies them. A side too large to lay out shows a placeholder with a "Save to File…"
// button instead (setOversized()).
class JsonView : public QAbstractScrollArea {
    Q_OBJECT

public:
    explicit JsonView(QWidget *parent = nullptr);

    // Shares the data (implicitly shared containers: no copy of the text). `spans`: per line, the
    // characters of a changed line that differ from the other side, marked more strongly.
    void setDocument(const FormattedJson &document, const QByteArray &marks, const QList<CharSpan> &spans = {});
    const QList<CharSpan> &charSpans() const { return m_spans; }
    // Shown instead of a document: "Not cached", an error, "Loading…".
    void setPlaceholder(const QString &text);
    // Shown instead of a side that is too large to lay out: `text` and a "Save to File…" button
    // (which emits saveRequested()).
    void setOversized(const QString &text);
    bool isOversized() const { return m_oversized; }
    QPushButton *saveButton() const { return m_saveButton; }
    QString placeholder() const { return m_placeholder; }
    const FormattedJson &document() const { return m_document; }
    bool hasDocument() const { return m_document.lineCount() > 0; }

    int topLine() const;
    void scrollToLine(int line);
    // Scrolls so `first` shows near the top and tints first..last (a selected Bar or Zab).
    void highlightRange(int first, int last);
    int currentLine() const { return m_current; }

    // Find: every occurrence of `text` in the document is tinted (none for an empty text); returns
    // how many there are. The current match, when there is one, is tinted more strongly.
    int setFindText(const QString &text, Qt::CaseSensitivity sensitivity = Qt::CaseInsensitive);
    int matchCount() const { return int(m_matches.size()); }
    int currentMatch() const { return m_currentMatch; } // -1: none yet
    // Makes the next (previous) match after the current one, or after the top of the view, current
    // and scrolls to it. Returns false when there is no match; `wrapped` says it went round the end.
    bool findNext(bool backward = false, bool *wrapped = nullptr);
    QString findText() const { return m_findText; }
    Qt::CaseSensitivity findSensitivity() const { return m_findSensitivity; }
    // Where `column` of `line` is drawn, in viewport pixels (tints start there).
    int xOfColumn(int line, int column) const;
    QString selectedText() const;
    // The JSON of the node on the current line (the whole document when no line is current), and
    // that node's path; empty without a document.
    QString currentJson() const;
    QString currentPath() const;

signals:
    void topLineChanged(int line);
    void currentLineChanged(int line);
    // The user asked to save this side to a file (context menu or the oversized placeholder).
    void saveRequested();
    // Something was copied to the clipboard ("Copied the JSON of bar_set[3]").
    void copied(const QString &what);

protected:
    void paintEvent(QPaintEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;
    void keyPressEvent(QKeyEvent *event) override;
    void contextMenuEvent(QContextMenuEvent *event) override;
    void changeEvent(QEvent *event) override;
    void focusInEvent(QFocusEvent *event) override;
    void focusOutEvent(QFocusEvent *event) override;

private:
    struct Colours;
    void updateScrollBars();
    void updateMetrics();
    int lineAt(int y) const;
    int visibleLines() const;
    void setCurrent(int line, bool extend);
    void paintLine(QPainter &painter, int line, int y, const Colours &colours) const;
    void copySelection();
    void copy(const QString &text, const QString &what);
    void placeSaveButton();
    void showMatch(int match);
    void paintFocusFrame(QPainter &painter) const;
    // The x of `column` on a line drawn from `textX`: by the font's advances, so wide characters
    // (CJK, emoji) keep the tints on the characters they belong to.
    int columnX(QStringView text, int column, int textX) const;

    FormattedJson m_document;
    QByteArray m_marks;
    QList<CharSpan> m_spans;
    QString m_placeholder;
    int m_lineHeight = 16;
    int m_charWidth = 8;
    int m_gutterWidth = 40;
    int m_longestLine = 0;
    int m_current = -1;
    int m_anchor = -1;
    int m_highlightFirst = -1;
    int m_highlightLast = -1;
    bool m_oversized = false;
    QString m_findText;
    Qt::CaseSensitivity m_findSensitivity = Qt::CaseInsensitive;
    QList<qsizetype> m_matches; // offsets of the find text's occurrences in m_document.text
    int m_currentMatch = -1;
    QPushButton *m_saveButton = nullptr;
};
