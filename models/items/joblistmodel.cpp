#include "joblistmodel.h"

#include "cache/cacheservice.h"
#include "itemformat.h"

#include <QColor>

#include <algorithm>
#include <cmath>

JobListModel::JobListModel(QObject *parent)
    : QAbstractTableModel(parent)
{
    m_tick.setInterval(1000);
    connect(&m_tick, &QTimer::timeout, this, &JobListModel::tick);
}

JobListModel::~JobListModel() = default;

void JobListModel::setService(CacheService *service)
{
    for (const QMetaObject::Connection &connection : std::as_const(m_connections))
        disconnect(connection);
    m_connections.clear();
    beginResetModel();
    m_rows.clear();
    endResetModel();
    m_service = service;
    if (service) {
        m_connections << connect(service, &CacheService::jobStarted, this, &JobListModel::started)
                      << connect(service, &CacheService::jobProgress, this, &JobListModel::progressed)
                      << connect(service, &CacheService::jobFinished, this, &JobListModel::finished);
    }
    runningMaybeChanged();
    emit summaryChanged();
}

void JobListModel::nameJob(int job, const QString &name, bool userStarted, int total)
{
    Row &row = rowFor(job);
    if (row.total < 0 && !row.finished)
        row.total = total;
    row.name = name;
    row.named = true;
    row.userStarted = userStarted;
    rowChanged(indexOf(job));
    emit summaryChanged();
}

int JobListModel::indexOf(int job) const
{
    for (qsizetype i = 0; i < m_rows.size(); ++i) {
        if (m_rows[i].id == job)
            return int(i);
    }
    return -1;
}

// The job's row, appended when it is new (named before its first signal, or started elsewhere).
JobListModel::Row &JobListModel::rowFor(int job)
{
    if (const int at = indexOf(job); at >= 0)
        return m_rows[at];
    const int at = int(m_rows.size());
    beginInsertRows(QModelIndex(), at, at);
    Row row;
    row.id = job;
    row.name = tr("Background job");
    row.clock.start();
    m_rows.append(row);
    endInsertRows();
    trimFinished();
    runningMaybeChanged();
    return m_rows[indexOf(job)];
}

void JobListModel::started(int job, int total)
{
    Row &row = rowFor(job);
    row.total = total;
    row.clock.start();
    rowChanged(indexOf(job));
    emit summaryChanged();
}

void JobListModel::progressed(int job, int done, int total)
{
    Row &row = rowFor(job);
    row.done = done;
    row.total = total;
    rowChanged(indexOf(job));
    emit summaryChanged();
}

void JobListModel::finished(const JobSummary &summary)
{
    Row &row = rowFor(summary.job);
    row.finished = true;
    row.total = summary.total;
    row.done = summary.done;
    row.failed = summary.failed;
    row.cancelled = summary.cancelled;
    row.firstError = summary.firstError;
    row.seconds = summary.seconds;
    const QString text = tr("%1 (job %2): %3").arg(row.name).arg(row.id).arg(endText(row));
    const bool failed = row.failed > 0;
    rowChanged(indexOf(summary.job));
    trimFinished();
    runningMaybeChanged();
    emit summaryChanged();
    emit jobEnded(summary.job, text, failed);
}

// "40 of 40 done in 2.1 s", "cancelled: 12 of 40 done", "38 of 40 done, 2 failed (…)".
QString JobListModel::endText(const Row &row) const
{
    QString text = row.cancelled ? tr("cancelled: %1 of %2 done, the others keep their previous entries")
                                       .arg(row.done)
                                       .arg(row.total)
                                 : tr("%1 of %2 done").arg(row.done).arg(row.total);
    if (row.failed > 0)
        text += tr(", %1 failed (%2)").arg(row.failed).arg(row.firstError);
    return text + tr(" in %1 s").arg(row.seconds, 0, 'f', row.seconds < 10 ? 2 : 1);
}

void JobListModel::rowChanged(int row)
{
    if (row >= 0)
        emit dataChanged(index(row, 0), index(row, ColumnCount - 1));
}

void JobListModel::tick()
{
    for (qsizetype i = 0; i < m_rows.size(); ++i) {
        if (!m_rows[i].finished)
            emit dataChanged(index(int(i), RateColumn), index(int(i), LeftColumn));
    }
    emit summaryChanged();
}

void JobListModel::runningMaybeChanged()
{
    const bool running = std::any_of(m_rows.cbegin(), m_rows.cend(), [](const Row &row) { return !row.finished; });
    if (running)
        m_tick.start();
    else
        m_tick.stop();
    if (running != m_wasRunning) {
        m_wasRunning = running;
        emit runningChanged(running);
    }
}

void JobListModel::trimFinished()
{
    int finished = int(std::count_if(m_rows.cbegin(), m_rows.cend(), [](const Row &row) { return row.finished; }));
    for (qsizetype i = 0; i < m_rows.size() && finished > keptFinished;) {
        if (!m_rows[i].finished) {
            ++i;
            continue;
        }
        beginRemoveRows(QModelIndex(), int(i), int(i));
        m_rows.removeAt(i);
        endRemoveRows();
        --finished;
    }
}

void JobListModel::clearFinished()
{
    for (qsizetype i = m_rows.size() - 1; i >= 0; --i) {
        if (m_rows[i].finished) {
            beginRemoveRows(QModelIndex(), int(i), int(i));
            m_rows.removeAt(i);
            endRemoveRows();
        }
    }
}

void JobListModel::cancel(int job)
{
    const int at = indexOf(job);
    if (at < 0 || m_rows[at].finished || !m_service)
        return;
    m_service->cancel(job);
    m_rows[at].cancelRequested = true;
    rowChanged(at);
}

void JobListModel::cancelAll()
{
    for (const int job : running())
        cancel(job);
}

QList<int> JobListModel::running(bool userStarted) const
{
    QList<int> jobs;
    for (const Row &row : m_rows) {
        if (!row.finished && (!userStarted || row.userStarted))
            jobs << row.id;
    }
    return jobs;
}

QString JobListModel::name(int job) const
{
    const int at = indexOf(job);
    return at < 0 ? QString() : m_rows[at].name;
}

QString JobListModel::title(int job) const
{
    const int at = indexOf(job);
    if (at < 0)
        return {};
    const Row &row = m_rows[at];
    if (row.total < 0)
        return row.name;
    return row.total == 1 ? tr("%1: 1 Foo").arg(row.name) : tr("%1: %2 Foos").arg(row.name).arg(row.total);
}

double JobListModel::rate(const Row &row) const
{
    const double seconds = row.finished ? row.seconds : double(row.clock.elapsed()) / 1000.0;
    return seconds > 0 ? double(row.done + row.failed) / seconds : 0;
}

int JobListModel::runningDone() const
{
    int done = 0;
    for (const Row &row : m_rows)
        done += row.finished ? 0 : row.done + row.failed;
    return done;
}

int JobListModel::runningTotal() const
{
    int total = 0;
    for (const Row &row : m_rows)
        total += row.finished ? 0 : std::max(0, row.total);
    return total;
}

QString JobListModel::summary() const
{
    const QList<int> jobs = running();
    if (jobs.isEmpty())
        return {};
    const int done = runningDone();
    const int total = runningTotal();
    double perSecond = 0;
    for (const Row &row : m_rows)
        perSecond += row.finished ? 0 : rate(row);
    const bool planning = std::any_of(m_rows.cbegin(), m_rows.cend(), [](const Row &row) { return !row.finished && row.total < 0; });
    if (jobs.size() == 1 && planning)
        return tr("%1: planning…").arg(name(jobs.first()));
    QString text = jobs.size() == 1 ? tr("%1 %2 / %3").arg(name(jobs.first())).arg(done).arg(total)
                                    : tr("%1 jobs: %2 / %3").arg(jobs.size()).arg(done).arg(total);
    text += tr(" · %1/s").arg(perSecond, 0, 'f', perSecond < 10 ? 1 : 0);
    if (perSecond > 0 && total > done)
        text += tr(" · %1 left").arg(formatAge(qint64(std::ceil(double(total - done) / perSecond))));
    return text;
}

int JobListModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int JobListModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant JobListModel::display(const Row &row, int column) const
{
    const bool planning = row.total < 0;
    switch (column) {
    case NameColumn:
        return title(row.id);
    case ProgressColumn:
        return planning ? tr("planning…") : tr("%1 / %2").arg(row.done + row.failed).arg(row.total);
    case RateColumn: {
        const double perSecond = rate(row);
        return planning || (!row.finished && row.done + row.failed == 0) ? QString()
                                                                        : tr("%1/s").arg(perSecond, 0, 'f', perSecond < 10 ? 1 : 0);
    }
    case LeftColumn: {
        const double perSecond = rate(row);
        if (row.finished || planning || perSecond <= 0)
            return QString();
        return formatAge(qint64(std::ceil(double(row.total - row.done - row.failed) / perSecond)));
    }
    case OutcomeColumn:
        if (row.finished)
            return endText(row);
        return row.cancelRequested ? tr("cancelling…") : row.failed > 0 ? tr("running, %1 failed").arg(row.failed)
                                                                         : tr("running");
    default:
        return {};
    }
}

QVariant JobListModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &row = m_rows[index.row()];
    switch (role) {
    case Qt::DisplayRole:
        return display(row, index.column());
    case Qt::ToolTipRole:
        return index.column() == OutcomeColumn && !row.firstError.isEmpty() ? row.firstError : QVariant();
    case Qt::ForegroundRole:
        if (row.failed > 0 && index.column() == OutcomeColumn)
            return QColor(0xb0, 0x20, 0x20);
        return row.finished ? QVariant(QColor(Qt::gray)) : QVariant();
    case JobIdRole:
        return row.id;
    case FractionRole:
        return row.total < 0 ? -1.0 : row.total == 0 ? 1.0 : double(row.done + row.failed) / double(row.total);
    case RunningRole:
        return !row.finished;
    case CancellableRole:
        return !row.finished && !row.cancelRequested;
    default:
        return {};
    }
}

QVariant JobListModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case NameColumn: return tr("Job");
    case ProgressColumn: return tr("Progress");
    case RateColumn: return tr("Rate");
    case LeftColumn: return tr("Left");
    case OutcomeColumn: return tr("Outcome");
    default: return {};
    }
}
