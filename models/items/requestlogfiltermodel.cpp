#include "requestlogfiltermodel.h"

#include "requestlogmodel.h"

namespace {

bool inClass(RequestLogFilterModel::StatusClass statusClass, int status)
{
    using StatusClass = RequestLogFilterModel::StatusClass;
    switch (statusClass) {
    case StatusClass::Any:
        return true;
    case StatusClass::Success:
        return status >= 200 && status < 300;
    case StatusClass::Redirection:
        return status >= 300 && status < 400;
    case StatusClass::ClientError:
        return status >= 400 && status < 500;
    case StatusClass::ServerError:
        return status >= 500 && status < 600;
    case StatusClass::Errors:
        return status == 0 || status >= 400;
    }
    return false;
}

} // namespace

RequestLogFilterModel::RequestLogFilterModel(QObject *parent)
    : QSortFilterProxyModel(parent)
{
    // The path filter is the base class's fixed-string filter on the Path column.
    setFilterKeyColumn(RequestLogModel::PathColumn);
    setFilterCaseSensitivity(Qt::CaseInsensitive);
}

void RequestLogFilterModel::setStatusClass(StatusClass statusClass)
{
    if (statusClass == m_status)
        return;
    m_status = statusClass;
    invalidateFilter();
}

void RequestLogFilterModel::setPathFilter(const QString &text)
{
    setFilterFixedString(text);
}

void RequestLogFilterModel::setCacheFilter(const std::optional<QByteArray> &value)
{
    if (value == m_cache)
        return;
    m_cache = value;
    invalidateFilter();
}

bool RequestLogFilterModel::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    const QModelIndex index = sourceModel()->index(sourceRow, 0, sourceParent);
    const auto entry = index.data(RequestLogModel::EntryRole).value<HttpLogEntry>();
    return inClass(m_status, entry.status) && (!m_cache || entry.cache == *m_cache)
        && QSortFilterProxyModel::filterAcceptsRow(sourceRow, sourceParent);
}
