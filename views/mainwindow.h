#pragma once

#include "items/consolesession.h"
#include "items/documentloader.h"

#include <QMainWindow>
#include <QTimer>

#include <memory>

class CacheActions;
class ComparePanel;
class ConnectDialog;
class FooBrowser;
class JobDock;
class JobListModel;
class JobProgressWidget;
class LogDock;
class QActionGroup;
class QMenu;
class QLabel;
class ServerDock;

// The desktop console: the Foo tree on the left, Cached and Live side by side on the right, the
// server and log docks below, cache actions in the toolbar, menus and the tree's context menu.
// Everything slow happens in models/ objects on their own threads; this window routes.
class MainWindow : public QMainWindow {
    Q_OBJECT

public:
    // `demoDatabase`: offered in the Connect dialog when it exists.
    explicit MainWindow(const QString &demoDatabase = QString(), QWidget *parent = nullptr);
    ~MainWindow() override;

    // Probes the connection on a worker, then switches to it; a failure shows in the status bar and
    // the log and opens the Connect dialog with the message.
    void openConnection(const ConnectionSpec &spec);
    void showConnectDialog(const QString &error = QString());

    ConsoleSession *session() const { return m_session.get(); }
    FooBrowser *browser() const { return m_browser; }
    ComparePanel *comparePanel() const { return m_compare; }
    CacheActions *cacheActions() const { return m_cacheActions; }
    ServerDock *serverDock() const { return m_serverDock; }
    LogDock *logDock() const { return m_logDock; }
    JobDock *jobDock() const { return m_jobDock; }
    JobListModel *jobs() const { return m_jobs; }

signals:
    void connected();
    void connectionFailed(const QString &message);
    // A comparison is on screen (the tests and the screenshot wait for it).
    void comparisonShown(qint64 pk);
    void statesUpdated();

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void createActions();
    void createMenus();
    void createWidgets();
    void connectSignals();
    void adopt(const ConnectionSpec &spec, const CacheConfig &config);
    void tryConnection(const ConnectionSpec &spec, bool fromDialog);
    void cancelConnecting();
    void setConnecting(const QString &name);
    void createDemo();
    void fillRecentMenu();
    void connectSession();
    void currentFooChanged(qint64 fooId, const QString &name, const QString &path);
    void showNoFoo();
    // Enables what can do something now: Reload with a connection, Next/Previous Difference with differences.
    void updateActions();
    void comparisonLoaded(const DocumentComparisonPtr &comparison);
    void entriesChanged(const QList<qint64> &pks);
    void report(const QString &text, bool error);
    // Asks before an action that ends the running jobs (`what`: "Quit", "Connect"); true: go on.
    bool mayEndJobs(const QString &what);
    void showAbout();
    void showShortcuts();
    void showWorkers(const QList<ChangeTracking::WorkerBeat> &workers);
    void restoreSettings();
    void saveSettings() const;

    QString m_demoDatabase;
    std::unique_ptr<ConsoleSession> m_session;
    FooBrowser *m_browser = nullptr;
    ComparePanel *m_compare = nullptr;
    ServerDock *m_serverDock = nullptr;
    LogDock *m_logDock = nullptr;
    JobListModel *m_jobs = nullptr;
    JobDock *m_jobDock = nullptr;
    JobProgressWidget *m_progress = nullptr;
    CacheActions *m_cacheActions = nullptr;
    QLabel *m_connectionLabel = nullptr;
    QLabel *m_statesLabel = nullptr;
    QLabel *m_workersLabel = nullptr; // the keep-fresh workers on the database (heartbeats)
    ConnectDialog *m_connectDialog = nullptr;
    QMenu *m_recentMenu = nullptr;    // File → Open Recent
    QWidget *m_connectingBar = nullptr; // status bar: busy and Cancel while a connection is tried
    quint64 m_attempt = 0;            // the connection attempt whose answer counts
    QString m_connecting;             // its name while it is tried; empty: none
    QAction *m_connectAction = nullptr;
    QAction *m_reloadAction = nullptr;
    QAction *m_quitAction = nullptr;
    QAction *m_nextDifference = nullptr;
    QAction *m_previousDifference = nullptr;
    QAction *m_copyPath = nullptr;
    QAction *m_copyJson = nullptr;
    QAction *m_saveCached = nullptr;
    QAction *m_saveLive = nullptr;
    QAction *m_findFoos = nullptr;
    QAction *m_comparePrevious = nullptr;
    QActionGroup *m_paneLayouts = nullptr; // View → Panes
    QAction *m_find = nullptr;
    QAction *m_findNext = nullptr;
    QAction *m_findPrevious = nullptr;
    QAction *m_aboutAction = nullptr;
    QAction *m_keepFresh = nullptr; // checkable: a keep-fresh worker in this process
    QTimer m_statusDelay;   // coalesces status reads after bursts of refreshes and changes
    QTimer m_documentDelay; // likewise for re-reading the Foo on screen
    QString m_lastStatusError;
    QTimer m_statusRetry;   // while the states cannot be read, tries again now and then
    qint64 m_shownFoo = 0;
    QString m_wantedPath;
    bool m_documentDirty = false;
};
