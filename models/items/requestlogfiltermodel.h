#pragma once

#include <QByteArray>
#include <QSortFilterProxyModel>

#include <optional>

// The request log (RequestLogModel) narrowed to what the operator looks for: a class of status, a
// piece of the path, an X-Cache value; the filters AND together. Never sorts, so the rows keep the
// log's order (oldest on top) and a view can follow the newest at the bottom. GUI thread.
class RequestLogFilterModel : public QSortFilterProxyModel {
    Q_OBJECT

public:
    // Errors: 4xx, 5xx and the requests whose client left before the answer (status 0).
    enum class StatusClass { Any, Success, Redirection, ClientError, ServerError, Errors };
    Q_ENUM(StatusClass)

    explicit RequestLogFilterModel(QObject *parent = nullptr);

    void setStatusClass(StatusClass statusClass);
    StatusClass statusClass() const { return m_status; }
    // Requests whose target (path and query) contains `text`, in any case; empty: every path.
    void setPathFilter(const QString &text);
    // Requests answered with this X-Cache value (empty: those without one); nothing: every value.
    void setCacheFilter(const std::optional<QByteArray> &value);
    std::optional<QByteArray> cacheFilter() const { return m_cache; }

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    StatusClass m_status = StatusClass::Any;
    std::optional<QByteArray> m_cache;
};
