#pragma once

#include <QObject>

#include <functional>

class ConsoleSession;
class JobListModel;
class QAction;
class QWidget;

// The cache's write and check actions with their shortcuts, confirmations and read-only rule:
// Refresh Selected (Ctrl+R), Refresh Stale (Ctrl+Shift+R), Refresh All…, Verify (Ctrl+Shift+V),
// Invalidate… (Del). They start CacheService jobs, named in the job list after the action; a Foo
// already queued for a refresh is not queued again, nor is a second Refresh Stale or All started
// while one runs. Results end up in message() (the window puts them in the status bar and the log).
class CacheActions : public QObject {
    Q_OBJECT

public:
    CacheActions(QWidget *window, JobListModel *jobs);

    void setSession(ConsoleSession *session);
    // The Foos the selection-based actions apply to.
    void setSelectionSource(std::function<QList<qint64>()> selection);
    // How many Foos there are (for "Refresh all 100 Foos?").
    void setFooCount(int count);
    // Enables what applies to the current selection and connection.
    void updateEnabled();
    // Refreshes these Foos (the ones a change to a node reaches), as a job named `what`.
    void refreshFoos(const QList<qint64> &pks, const QString &what);
    // A question with Yes and Cancel (or the tests' answer): true for Yes.
    bool confirm(const QString &question);
    // Tests answer the confirmations themselves.
    void setConfirmation(std::function<bool(const QString &question)> confirm);

    QAction *refreshSelected = nullptr;
    QAction *refreshStale = nullptr;
    QAction *refreshAll = nullptr;
    QAction *verify = nullptr;
    QAction *invalidate = nullptr;
    QAction *rollback = nullptr;

signals:
    void message(const QString &text, bool error);

private:
    void createActions();
    void startRefresh();
    void startRefreshStale();
    void startRefreshAll();
    void startVerify();
    void startInvalidate();
    void startRollback();
    // Names `job` after `what` and logs its start.
    void started(int job, const QString &what, int count);
    // `pks` without those already queued for a refresh (said in the log).
    QList<qint64> notQueued(const QList<qint64> &pks, const QString &what);
    // Whether a job named one of `names` runs (said in the log as the reason nothing starts).
    bool alreadyRunning(const QStringList &names, const QString &what);

    QWidget *m_window;
    JobListModel *m_jobs;
    ConsoleSession *m_session = nullptr;
    std::function<QList<qint64>()> m_selection;
    std::function<bool(const QString &)> m_confirm;
    int m_fooCount = 0;
    QList<QMetaObject::Connection> m_connections;
};
