#pragma once

#include "cache/cacheservice.h"

#include <QElapsedTimer>
#include <QHash>
#include <QWidget>

class QLabel;
class QProgressBar;
class QToolButton;

// The status bar's view of the cache service's jobs: "Refreshing 120 / 400 · 85/s", a progress bar
// and Cancel (which cancels every running job). Hidden while nothing runs.
class JobProgressWidget : public QWidget {
    Q_OBJECT

public:
    explicit JobProgressWidget(QWidget *parent = nullptr);

    void setService(CacheService *service);
    // What the next job started is called ("Refreshing", "Verifying", …).
    void expectJob(const QString &verb);
    QString text() const;
    QToolButton *cancelButton() const { return m_cancel; }

private:
    struct Job {
        int total = 0;
        int done = 0;
        QString verb;
        QElapsedTimer clock;
    };
    void started(int job, int total);
    void progressed(int job, int done, int total);
    void finished(const JobSummary &summary);
    void cancelAll();
    void update();

    CacheService *m_service = nullptr;
    QHash<int, Job> m_jobs;
    QString m_nextVerb;
    QLabel *m_label = nullptr;
    QProgressBar *m_bar = nullptr;
    QToolButton *m_cancel = nullptr;
    QList<QMetaObject::Connection> m_connections;
};
