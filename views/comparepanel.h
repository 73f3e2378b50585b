#pragma once

#include "items/documentloader.h"

#include <QWidget>

class JsonView;
class QLabel;
class QListWidget;
class QSplitter;
class QToolButton;

// The right side of the console: the Cached and Live panes side by side, scrolled together, the
// summary ("identical", "3 changes", "key order only") and the list of differing paths. It only
// shows a finished DocumentComparison; loading happens in DocumentLoader.
class ComparePanel : public QWidget {
    Q_OBJECT

public:
    explicit ComparePanel(QWidget *parent = nullptr);

    void showLoading(qint64 pk, const QString &name);
    void setComparison(const DocumentComparisonPtr &comparison);
    void clear(const QString &message);
    DocumentComparisonPtr comparison() const { return m_comparison; }
    // Scrolls both panes to the part of the document at `path` ("bar_set[3].zab_set[0]").
    void showPath(const QString &path);
    QString summaryText() const;
    JsonView *cachedView() const { return m_cached; }
    JsonView *liveView() const { return m_live; }
    QListWidget *differenceList() const { return m_differences; }
    QByteArray saveState() const;
    void restoreState(const QByteArray &state);

public slots:
    void nextDifference();
    void previousDifference();

private:
    void createWidgets();
    void connectSignals();
    void showDifference(int row);
    void syncScroll(JsonView *from, JsonView *to, int line);
    void setSummary(const QString &text, const QString &tone);

    JsonView *m_cached = nullptr;
    JsonView *m_live = nullptr;
    QLabel *m_cachedTitle = nullptr;
    QLabel *m_liveTitle = nullptr;
    QLabel *m_summary = nullptr;
    QLabel *m_timing = nullptr;
    QToolButton *m_previous = nullptr;
    QToolButton *m_next = nullptr;
    QListWidget *m_differences = nullptr;
    QSplitter *m_splitter = nullptr;
    DocumentComparisonPtr m_comparison;
    bool m_syncing = false;
};
