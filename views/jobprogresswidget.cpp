#include "jobprogresswidget.h"

#include "items/joblistmodel.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QToolButton>

JobProgressWidget::JobProgressWidget(JobListModel *jobs, QWidget *parent)
    : QWidget(parent)
    , m_jobs(jobs)
{
    m_label = new QLabel(this);
    m_bar = new QProgressBar(this);
    m_bar->setMaximumWidth(160);
    m_bar->setMaximumHeight(16);
    m_bar->setTextVisible(false);
    auto *details = new QToolButton(this);
    details->setText(tr("Jobs"));
    details->setToolTip(tr("Show the job panel: each job's progress, rate, time left and its own Cancel"));
    m_cancel = new QToolButton(this);
    m_cancel->setText(tr("Cancel All"));
    m_cancel->setToolTip(tr("Cancel the running jobs: what was written stays, the rest keeps its previous entry"));
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_label);
    layout->addWidget(m_bar);
    layout->addWidget(details);
    layout->addWidget(m_cancel);
    connect(m_cancel, &QToolButton::clicked, jobs, &JobListModel::cancelAll);
    connect(details, &QToolButton::clicked, this, &JobProgressWidget::showJobs);
    connect(jobs, &JobListModel::summaryChanged, this, &JobProgressWidget::update);
    hide();
}

QString JobProgressWidget::text() const
{
    return m_label->text();
}

void JobProgressWidget::update()
{
    const QString summary = m_jobs->summary();
    if (summary.isEmpty()) {
        hide();
        m_label->clear();
        return;
    }
    m_label->setText(summary);
    const int total = m_jobs->runningTotal();
    m_bar->setRange(0, total > 0 ? total : 0); // 0..0: busy, while the jobs plan their Foos
    m_bar->setValue(m_jobs->runningDone());
    show();
}
