#pragma once

#include "cache/impact.h"
#include "db/databaseconfig.h"
#include "staleness/entrystatus.h"

#include <QSet>
#include <QTimer>
#include <QWidget>

struct StatusSnapshot;

class FooFilterProxyModel;
class FooTreeModel;
class QAction;
class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QModelIndex;
class QTreeView;

// The left side of the console: the lazy Foo → Bar → Zab → Baz tree (FooTreeModel through
// FooFilterProxyModel), the server-side name/id filter and the state filter. Reload keeps the
// expanded nodes and the selection: they are re-expanded and re-selected as their rows arrive.
//
// currentChanged() speaks for the tree's current node, and says pk 0 whenever there is none any
// more: the node was filtered out (a state filter drops rows as their states change), or a reload or
// a new name filter came back without it. A current row that vanishes is not replaced by its
// neighbour, as QItemSelectionModel would do: under the "Stale" filter a Refresh Stale removes row
// after row, and following each neighbour would start a comparison per row.
class FooBrowser : public QWidget {
    Q_OBJECT

public:
    explicit FooBrowser(QWidget *parent = nullptr);

    void setDatabase(const DatabaseConfig &database);
    void updateStates(const StatusSnapshot &statuses);
    void reload();
    // Primary keys of the Foos the selected rows belong to (each once, in selection order).
    QList<qint64> selectedFooIds() const;
    QString currentPath() const;
    // Selects the loaded Foo with the most Bars (the screenshot and the tests use it).
    bool selectLargestFoo();
    bool selectFoo(qint64 pk);
    FooTreeModel *model() const { return m_model; }
    FooFilterProxyModel *proxy() const { return m_proxy; }
    // While jobs run, the rows shown stay shown (FooFilterProxyModel::setHeld).
    void holdRows(bool held);
    QTreeView *view() const { return m_view; }
    // Focuses the Foo filter (Ctrl+L) with its text selected.
    void focusFilter();
    QLineEdit *filterEdit() const { return m_filter; }
    QComboBox *stateBox() const { return m_state; }
    // Shown under the filters when they leave no row: "No Foo holds Baz 17".
    QLabel *noMatchLabel() const { return m_noMatch; }
    // "100 Foo: 60 fresh, 40 stale", as `preserve status` ends; empty before the first states.
    QString stateSummaryText() const { return m_summary; }
    // Under the tree, for a selected Bar, Zab or Baz: "Baz 17 is in 37 Foos, 4.2 MB cached", with
    // Show These (the tree lists them: the filter "baz:17") and Refresh These. Hidden for a Foo.
    void showImpact(const Impact &impact);
    void showImpactText(const QString &text);
    void hideImpact();
    QLabel *impactLabel() const { return m_impact; }
    QPushButton *showImpactButton() const { return m_showImpact; }
    QPushButton *refreshImpactButton() const { return m_refreshImpact; }
    QByteArray saveHeaderState() const;
    void restoreHeaderState(const QByteArray &state);

signals:
    // The selected node's Foo, that Foo's name and the node's JSON path; pk 0 when none.
    void currentChanged(qint64 fooId, const QString &fooName, const QString &path);
    void selectionChanged();
    void stateSummaryChanged(const QString &summary);
    // A Bar, Zab or Baz became current: what does a change to it reach?
    void impactWanted(NodeLevel level, qint64 id);
    // Refresh These, with the job's name ("Refresh what Baz 17 reaches").
    void refreshRequested(const QList<qint64> &pks, const QString &what);

private:
    struct NodeKey {
        int kind = 0;
        qint64 id = 0;
        bool operator==(const NodeKey &other) const = default;
    };
    friend size_t qHash(const NodeKey &key, size_t seed) { return qHashMulti(seed, key.kind, key.id); }

    void createWidgets();
    void connectSignals();
    void applyStateFilter();
    void updateStateCounts();
    void updateNoMatch();
    void showNoMatch();
    void currentRowChanged(const QModelIndex &current);
    void restoreRows(const QModelIndex &parent, int first, int last);
    void queueFollow();
    void followRestored();
    void rowsAboutToGo(const QModelIndex &parent, int first, int last);
    void rowsGone();
    void modelWasReset();
    void loadingChanged(bool loading);
    void rememberCurrent();
    void saveExpanded(const QModelIndex &parent);
    NodeKey keyOf(const QModelIndex &index) const;

    FooTreeModel *m_model = nullptr;
    FooFilterProxyModel *m_proxy = nullptr;
    QTreeView *m_view = nullptr;
    QLineEdit *m_filter = nullptr;
    QComboBox *m_state = nullptr;
    QLabel *m_noMatch = nullptr;
    QWidget *m_impactBar = nullptr;
    QLabel *m_impact = nullptr;
    QPushButton *m_showImpact = nullptr;
    QPushButton *m_refreshImpact = nullptr;
    std::optional<Impact> m_shownImpact;
    QTimer m_filterDelay;
    QTimer m_countDelay; // recounts the states once after a burst of changed rows
    QTimer m_noMatchDelay;
    QString m_summary;
    QSet<NodeKey> m_expanded; // to re-expand after a reload, as the rows arrive
    NodeKey m_selected;          // to re-select after a reload or a filter change; id 0: none pending
    bool m_currentRemoved = false; // the current row is being removed (rowsAboutToBeRemoved → rowsRemoved)
    // A row re-selected during a reload stays in sight while later batches sort in around it (the
    // proxy appends them, then moves them into place by a layout change, which keeps the scroll
    // offset, not the row). Until no batch is on its way, the operator scrolls or makes another row
    // current, or a reset.
    bool m_followRestored = false;
    bool m_followQueued = false;
};
