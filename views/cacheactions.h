#pragma once

#include <QObject>

#include <functional>

class ConsoleSession;
class JobProgressWidget;
class QAction;
class QWidget;
struct JobSummary;

// The cache's write and check actions with their shortcuts, confirmations and read-only rule:
// Refresh Selected (Ctrl+R), Refresh Stale (Ctrl+Shift+R), Refresh All…, Verify (Ctrl+Shift+V),
// Invalidate… (Del). They start CacheService jobs; results arrive as the service's signals and
// end up in message() (the window puts them in the status bar and the log).
class CacheActions : public QObject {
    Q_OBJECT

public:
    CacheActions(QWidget *window, JobProgressWidget *progress);

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
    void jobFinished(const JobSummary &summary);

    QWidget *m_window;
    JobProgressWidget *m_progress;
    ConsoleSession *m_session = nullptr;
    std::function<QList<qint64>()> m_selection;
    std::function<bool(const QString &)> m_confirm;
    int m_fooCount = 0;
    QList<QMetaObject::Connection> m_connections;
};
