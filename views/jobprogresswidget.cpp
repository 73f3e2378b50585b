#include "jobprogresswidget.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QToolButton>

JobProgressWidget::JobProgressWidget(QWidget *parent)
    : QWidget(parent)
{
    m_label = new QLabel(this);
    m_bar = new QProgressBar(this);
    m_bar->setMaximumWidth(180);
    m_bar->setMaximumHeight(16);
    m_bar->setTextVisible(false);
    m_cancel = new QToolButton(this);
    m_cancel->setText(tr("Cancel"));
    m_cancel->setToolTip(tr("Cancel the running jobs: what was written stays, the rest keeps its previous entry"));
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_label);
    layout->addWidget(m_bar);
    layout->addWidget(m_cancel);
    connect(m_cancel, &QToolButton::clicked, this, &JobProgressWidget::cancelAll);
    hide();
}

void JobProgressWidget::setService(CacheService *service)
{
    for (const auto &connection : std::as_const(m_connections))
        disconnect(connection);
    m_connections.clear();
    m_jobs.clear();
    m_service = service;
    if (service) {
        m_connections << connect(service, &CacheService::jobStarted, this, &JobProgressWidget::started)
                      << connect(service, &CacheService::jobProgress, this, &JobProgressWidget::progressed)
                      << connect(service, &CacheService::jobFinished, this, &JobProgressWidget::finished);
    }
    update();
}

void JobProgressWidget::expectJob(const QString &verb)
{
    m_nextVerb = verb;
}

void JobProgressWidget::started(int job, int total)
{
    Job &entry = m_jobs[job];
    entry.total = total;
    entry.verb = m_nextVerb.isEmpty() ? tr("Working") : m_nextVerb;
    entry.clock.start();
    m_nextVerb.clear();
    update();
}

void JobProgressWidget::progressed(int job, int done, int total)
{
    Job &entry = m_jobs[job];
    if (!entry.clock.isValid())
        entry.clock.start();
    entry.done = done;
    entry.total = total;
    update();
}

void JobProgressWidget::finished(const JobSummary &summary)
{
    m_jobs.remove(summary.job);
    update();
}

void JobProgressWidget::cancelAll()
{
    if (!m_service)
        return;
    for (auto it = m_jobs.cbegin(); it != m_jobs.cend(); ++it)
        m_service->cancel(it.key());
}

QString JobProgressWidget::text() const
{
    return m_label->text();
}

void JobProgressWidget::update()
{
    if (m_jobs.isEmpty()) {
        hide();
        m_label->clear();
        return;
    }
    int done = 0;
    int total = 0;
    qint64 elapsed = 1;
    QString verb;
    for (const Job &job : std::as_const(m_jobs)) {
        done += job.done;
        total += job.total;
        elapsed = qMax(elapsed, job.clock.isValid() ? job.clock.elapsed() : 1);
        verb = job.verb;
    }
    const double rate = double(done) * 1000.0 / double(elapsed);
    m_label->setText(tr("%1 %2 / %3 · %4/s").arg(verb).arg(done).arg(total).arg(rate, 0, 'f', rate < 10 ? 1 : 0));
    m_bar->setRange(0, qMax(1, total));
    m_bar->setValue(done);
    show();
}
