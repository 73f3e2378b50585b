#include "jobdock.h"

#include "items/joblistmodel.h"

#include <QApplication>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QPainter>
#include <QPushButton>
#include <QStyledItemDelegate>
#include <QTableView>
#include <QToolButton>
#include <QVBoxLayout>

namespace {


// A progress bar with the "12 / 40" text in the Progress column; busy while the job plans.
class ProgressDelegate : public QStyledItemDelegate {
public:
    using QStyledItemDelegate::QStyledItemDelegate;

    void paint(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const override
    {
        const double fraction = index.data(JobListModel::FractionRole).toDouble();
        QStyleOptionProgressBar bar;
        bar.rect = option.rect.adjusted(2, 2, -2, -2);
        bar.state = option.state | QStyle::State_Horizontal;
        bar.minimum = 0;
        bar.maximum = fraction < 0 ? 0 : 1000;
        bar.progress = fraction < 0 ? 0 : int(fraction * 1000);
        bar.text = index.data().toString();
        bar.textVisible = true;
        bar.textAlignment = Qt::AlignCenter;
        const QWidget *widget = option.widget;
        QStyle *style = widget ? widget->style() : QApplication::style();
        style->drawControl(QStyle::CE_ProgressBar, &bar, painter, widget);
    }
};

} // namespace

JobDock::JobDock(JobListModel *jobs, QWidget *parent)
    : QDockWidget(tr("Jobs"), parent)
    , m_jobs(jobs)
{
    setObjectName(QStringLiteral("jobDock"));
    m_view = new QTableView(this);
    m_view->setModel(jobs);
    m_view->setItemDelegateForColumn(JobListModel::ProgressColumn, new ProgressDelegate(m_view));
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_view->verticalHeader()->hide();
    m_view->horizontalHeader()->setSectionResizeMode(JobListModel::NameColumn, QHeaderView::Interactive);
    m_view->horizontalHeader()->setStretchLastSection(true);
    m_view->setColumnWidth(JobListModel::NameColumn, 240);
    m_view->setColumnWidth(JobListModel::ProgressColumn, 150);
    m_view->setColumnWidth(JobListModel::RateColumn, 70);
    m_view->setColumnWidth(JobListModel::LeftColumn, 60);
    m_view->setWordWrap(false);

    auto *clear = new QPushButton(tr("Clear Finished"), this);
    clear->setObjectName(QStringLiteral("clearFinished"));
    connect(clear, &QPushButton::clicked, jobs, &JobListModel::clearFinished);
    auto *buttons = new QHBoxLayout;
    buttons->addStretch();
    buttons->addWidget(clear);
    auto *body = new QWidget(this);
    auto *layout = new QVBoxLayout(body);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(m_view);
    layout->addLayout(buttons);
    setWidget(body);

    connect(jobs, &QAbstractItemModel::rowsInserted, this,
            [this](const QModelIndex &, int first, int last) { addCancelButtons(first, last); });
    connect(jobs, &QAbstractItemModel::dataChanged, this, &JobDock::updateCancelButtons);
    connect(jobs, &QAbstractItemModel::modelReset, this, [this] { addCancelButtons(0, m_jobs->rowCount() - 1); });
    addCancelButtons(0, jobs->rowCount() - 1);
}

// Each running job's row ends with its own Cancel button, in the Outcome column's place of the
// row: the model has no cancel column, so the button sits in the Outcome cell's right edge.
void JobDock::addCancelButtons(int first, int last)
{
    for (int row = first; row <= last; ++row) {
        const QModelIndex outcome = m_jobs->index(row, JobListModel::OutcomeColumn);
        if (m_view->indexWidget(outcome))
            continue;
        const int job = outcome.data(JobListModel::JobIdRole).toInt();
        auto *holder = new QWidget;
        auto *layout = new QHBoxLayout(holder);
        layout->setContentsMargins(0, 0, 2, 0);
        layout->addStretch();
        auto *cancel = new QToolButton(holder);
        cancel->setText(tr("Cancel"));
        cancel->setObjectName(QStringLiteral("cancelJob%1").arg(job));
        cancel->setToolTip(tr("Cancel this job: what was written stays, the rest keeps its previous entry"));
        layout->addWidget(cancel);
        connect(cancel, &QToolButton::clicked, this, [this, job] { m_jobs->cancel(job); });
        m_view->setIndexWidget(outcome, holder);
    }
    updateCancelButtons();
}

void JobDock::updateCancelButtons()
{
    for (int row = 0; row < m_jobs->rowCount(); ++row) {
        const QModelIndex outcome = m_jobs->index(row, JobListModel::OutcomeColumn);
        QWidget *holder = m_view->indexWidget(outcome);
        if (!holder)
            continue;
        const bool running = outcome.data(JobListModel::RunningRole).toBool();
        holder->setVisible(running);
        if (auto *cancel = holder->findChild<QToolButton *>())
            cancel->setEnabled(outcome.data(JobListModel::CancellableRole).toBool());
    }
}

QToolButton *JobDock::cancelButton(int job) const
{
    QToolButton *button = findChild<QToolButton *>(QStringLiteral("cancelJob%1").arg(job));
    return button && button->isVisible() ? button : nullptr;
}
