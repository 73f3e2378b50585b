#pragma once

#include <QWidget>

class JobListModel;
class QLabel;
class QProgressBar;
class QToolButton;

// The status bar's line for the running jobs: "Refresh stale 120 / 400 · 85/s · 4 s left", a
// progress bar, Cancel (every running job) and Jobs (the panel, with one Cancel per job). Hidden
// while nothing runs.
class JobProgressWidget : public QWidget {
    Q_OBJECT

public:
    explicit JobProgressWidget(JobListModel *jobs, QWidget *parent = nullptr);

    QString text() const;
    QToolButton *cancelButton() const { return m_cancel; }

signals:
    void showJobs();

private:
    void update();

    JobListModel *m_jobs;
    QLabel *m_label = nullptr;
    QProgressBar *m_bar = nullptr;
    QToolButton *m_cancel = nullptr;
};
