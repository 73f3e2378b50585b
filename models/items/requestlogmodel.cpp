#include "requestlogmodel.h"

#include "http/httpserver.h" // formatLogLine
#include "itemformat.h"

#include <QColor>

RequestLogModel::RequestLogModel(QObject *parent)
    : QAbstractTableModel(parent)
{
    m_flushTimer.setSingleShot(true);
    m_flushTimer.setInterval(100);
    connect(&m_flushTimer, &QTimer::timeout, this, &RequestLogModel::flush);
}

void RequestLogModel::setCapacity(int rows)
{
    m_capacity = std::max(1, rows);
    trimTo(m_capacity);
}

void RequestLogModel::clear()
{
    m_queued.clear();
    if (m_rows.isEmpty())
        return;
    beginRemoveRows({}, 0, int(m_rows.size()) - 1);
    m_rows.clear();
    endRemoveRows();
}

void RequestLogModel::append(const HttpLogEntry &entry)
{
    m_queued.append(entry);
    if (!m_flushTimer.isActive())
        m_flushTimer.start();
}

void RequestLogModel::flush()
{
    m_flushTimer.stop();
    if (m_queued.isEmpty())
        return;
    // Of a burst bigger than the log only the newest fit.
    if (m_queued.size() > m_capacity)
        m_queued.remove(0, m_queued.size() - m_capacity);
    trimTo(m_capacity - int(m_queued.size()));
    const int first = int(m_rows.size());
    beginInsertRows({}, first, first + int(m_queued.size()) - 1);
    m_rows.append(m_queued);
    endInsertRows();
    m_queued.clear();
}

void RequestLogModel::trimTo(int rows)
{
    const int excess = int(m_rows.size()) - std::max(0, rows);
    if (excess <= 0)
        return;
    beginRemoveRows({}, 0, excess - 1);
    m_rows.remove(0, excess);
    endRemoveRows();
}

int RequestLogModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int RequestLogModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

namespace {

QVariant display(const HttpLogEntry &entry, int column)
{
    switch (column) {
    case RequestLogModel::TimeColumn: return entry.at.toLocalTime().toString(QStringLiteral("HH:mm:ss.zzz"));
    case RequestLogModel::MethodColumn: return QString::fromLatin1(entry.method);
    case RequestLogModel::PathColumn: return QString::fromUtf8(entry.target);
    case RequestLogModel::StatusColumn:
        return entry.status ? QVariant(entry.status) : QVariant(RequestLogModel::tr("gone"));
    case RequestLogModel::BytesColumn: return formatBytes(entry.bytes);
    case RequestLogModel::MillisecondsColumn: return QString::number(entry.milliseconds, 'f', 2);
    case RequestLogModel::CacheColumn: return QString::fromLatin1(entry.cache);
    default: break;
    }
    return {};
}

QVariant sortKey(const HttpLogEntry &entry, int column)
{
    switch (column) {
    case RequestLogModel::TimeColumn: return entry.at.toMSecsSinceEpoch();
    case RequestLogModel::StatusColumn: return entry.status;
    case RequestLogModel::BytesColumn: return entry.bytes;
    case RequestLogModel::MillisecondsColumn: return entry.milliseconds;
    default: break;
    }
    return display(entry, column);
}

} // namespace

QVariant RequestLogModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const HttpLogEntry &entry = m_rows.at(index.row());
    switch (role) {
    case Qt::DisplayRole: return display(entry, index.column());
    case Qt::ToolTipRole: return formatLogLine(entry);
    case Qt::TextAlignmentRole:
        return index.column() == PathColumn || index.column() == MethodColumn || index.column() == CacheColumn
            ? QVariant()
            : QVariant(int(Qt::AlignRight | Qt::AlignVCenter));
    case Qt::ForegroundRole:
        if (index.column() == StatusColumn && (entry.status >= 500 || entry.status == 0))
            return QColor(0xc6, 0x28, 0x28);
        if (index.column() == StatusColumn && entry.status >= 400)
            return QColor(0xe6, 0x51, 0x00);
        return {};
    case SortRole: return sortKey(entry, index.column());
    case EntryRole: return QVariant::fromValue(entry);
    default: break;
    }
    return {};
}

QVariant RequestLogModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case TimeColumn: return tr("Time");
    case MethodColumn: return tr("Method");
    case PathColumn: return tr("Path");
    case StatusColumn: return tr("Status");
    case BytesColumn: return tr("Bytes");
    case MillisecondsColumn: return tr("ms");
    case CacheColumn: return tr("Cache");
    default: break;
    }
    return {};
}
