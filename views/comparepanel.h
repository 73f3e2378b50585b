#pragma once

#include "comparisonsaver.h"
#include "items/documentloader.h"
#include "json/jsonunified.h"

#include <QWidget>

class FindBar;
class JsonView;
class QLabel;
class QListWidget;
class QSplitter;
class QStackedWidget;
class QToolButton;

// The right side of the console: the Cached and Live panes side by side, scrolled together, the
// summary ("identical", "3 changes", "key order only") and the list of differing paths. When the
// panel is narrow (or on request) one unified column shows both sides instead, as `diff -u` does.
// Inside a changed line, the characters that differ are marked. It only
// shows a finished DocumentComparison; loading happens in DocumentLoader. A side too large to lay
// out (see setLayoutLimits) shows a placeholder with "Save to File…"; the other side and the list
// of differences work as usual.
class ComparePanel : public QWidget {
    Q_OBJECT

public:
    using Side = ComparisonSaver::Side;
    // Automatic: unified below `unifiedBelow` pixels of panel width, side by side above.
    enum class PaneLayout { Automatic, SideBySide, Unified };
    static constexpr int unifiedBelow = 760;
    // Format and FileChooser: see ComparisonSaver, which does the saving.
    using Format = ComparisonSaver::Format;
    using FileChooser = ComparisonSaver::FileChooser;

    static constexpr qint64 defaultMaxLaidOutBytes = 8 * 1024 * 1024;
    static constexpr int defaultMaxLineLength = 64 * 1024;

    explicit ComparePanel(QWidget *parent = nullptr);

    void showLoading(qint64 pk, const QString &name);
    void setComparison(const DocumentComparisonPtr &comparison);
    void clear(const QString &message);
    DocumentComparisonPtr comparison() const { return m_comparison; }
    // Scrolls both panes to the part of the document at `path` ("bar_set[3].zab_set[0]").
    void showPath(const QString &path);
    QString summaryText() const;
    // Whether Next/Previous Difference can go anywhere: a comparison with differences is shown.
    bool hasDifferences() const { return m_hasDifferences; }
    JsonView *cachedView() const { return m_cached; }
    JsonView *liveView() const { return m_live; }
    JsonView *unifiedView() const { return m_unified; }
    void setPaneLayout(PaneLayout layout);
    PaneLayout paneLayout() const { return m_layout; }
    // Whether the unified column is on screen now.
    bool isUnified() const { return m_unifiedShown; }
    QListWidget *differenceList() const { return m_differences; }
    QByteArray saveState() const;
    void restoreState(const QByteArray &state);

    // A side whose body exceeds `bytes`, or with a line longer than `lineLength` characters (one
    // giant string value), is not laid out: painting such a line takes seconds per frame.
    void setLayoutLimits(qint64 bytes, int lineLength);
    bool isOversized(Side side) const;
    // The bytes saveSide() writes; empty when that side has no body in that format.
    QByteArray sideBytes(Side side, Format format) const;
    // Writes the side through QSaveFile (all or nothing: a failed write leaves an existing file as
    // it was). The outcome goes to message(). GUI thread.
    bool saveSide(Side side, const QString &fileName, Format format);
    void setFileChooser(FileChooser chooser);
    // For Edit → Copy as JSON / Copy JSON Path: the focused pane's current line (when one was
    // picked), else the part of the document selected in the tree (in the Live pane, or the Cached one when Live has none).
    QString selectionJson() const;
    QString selectionPath() const;
    bool hasPaneFocus() const { return focusedView() != nullptr; }
    FindBar *findBar() const { return m_find; }
    // "3 of 12" while F7 walks the differences; "12 differences" before; empty without any.
    QString differencePosition() const;

public slots:
    void nextDifference();
    void previousDifference();
    // Asks for a file name (FileChooser) and saves.
    void saveSideAs(Side side);
    void copySelectionJson();
    // Edit → Find (Ctrl+F): opens the find bar on the focused pane (the Cached one otherwise);
    // F3 / Shift+F3 walk its matches.
    void find();
    void findNext();
    void findPrevious();

signals:
    void message(const QString &text, bool error);
    void differencesChanged(bool available);
    void unifiedChanged(bool unified);

protected:
    void resizeEvent(QResizeEvent *event) override;

private:
    void showSide(Side side);
    void updatePaneLayout();
    void ensureFindTarget();
    void showUnified();
    // The unified column's line for a line of one side (-1: none).
    int unifiedLine(int cachedLine, int liveLine) const;
    JsonView *viewOf(Side side) const { return side == Side::Cached ? m_cached : m_live; }
    JsonView *focusedView() const;
    void createWidgets();
    void connectSignals();
    void showDifference(int row);
    void syncScroll(JsonView *from, JsonView *to, int line);
    void setSummary(const QString &text, const QString &tone);
    void setHasDifferences(bool available);
    void updatePosition();
    // What is on screen now, held so that it can be freed off the GUI thread once the panes show
    // something else (freeing the ~10^5 pieces of a 2 MB document took ~50 ms there).
    struct Shown {
        DocumentComparisonPtr comparison;
        FormattedJson cached;
        FormattedJson live;
    };
    Shown holdShown() const;
    static void freeInBackground(Shown shown);

    JsonView *m_cached = nullptr;
    JsonView *m_live = nullptr;
    JsonView *m_unified = nullptr;
    QLabel *m_cachedTitle = nullptr;
    QLabel *m_liveTitle = nullptr;
    QLabel *m_unifiedTitle = nullptr;
    QStackedWidget *m_stack = nullptr; // the two panes, or the unified column
    UnifiedJson m_unifiedJson;
    PaneLayout m_layout = PaneLayout::Automatic;
    bool m_unifiedShown = false;
    QLabel *m_summary = nullptr;
    QLabel *m_timing = nullptr;
    QToolButton *m_previous = nullptr;
    QToolButton *m_next = nullptr;
    QListWidget *m_differences = nullptr;
    QSplitter *m_splitter = nullptr;
    FindBar *m_find = nullptr;
    QLabel *m_position = nullptr;
    DocumentComparisonPtr m_comparison;
    ComparisonSaver *m_saver = nullptr;
    QString m_shownPath;
    qint64 m_maxBytes = defaultMaxLaidOutBytes;
    int m_maxLineLength = defaultMaxLineLength;
    bool m_syncing = false;
    bool m_hasDifferences = false;
};
