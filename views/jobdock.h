#pragma once

#include <QDockWidget>

class JobListModel;
class QTableView;
class QToolButton;

// The job panel: one row per job (named after the action that started it) with a progress bar,
// rate, time left, outcome and its own Cancel; Clear Finished empties the history.
class JobDock : public QDockWidget {
    Q_OBJECT

public:
    JobDock(JobListModel *jobs, QWidget *parent = nullptr);

    QTableView *view() const { return m_view; }
    // The Cancel button of `job`'s row (nullptr once it ended), for the tests.
    QToolButton *cancelButton(int job) const;

private:
    void addCancelButtons(int first, int last);
    void updateCancelButtons();

    JobListModel *m_jobs;
    QTableView *m_view = nullptr;
};
