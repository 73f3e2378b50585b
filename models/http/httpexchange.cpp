#include "httpexchange.h"

#include <microhttpd.h>

namespace {

QByteArray decodeQueryPart(QByteArray part)
{
    part.replace('+', ' ');
    return QByteArray::fromPercentEncoding(part);
}

} // namespace

QList<std::pair<QByteArray, QByteArray>> HttpRequest::queryItems() const
{
    QList<std::pair<QByteArray, QByteArray>> items;
    for (const QByteArray &item : query.split('&')) {
        if (item.isEmpty())
            continue;
        const qsizetype equals = item.indexOf('=');
        items.append({ decodeQueryPart(equals < 0 ? item : item.left(equals)), equals < 0 ? QByteArray() : decodeQueryPart(item.mid(equals + 1)) });
    }
    return items;
}

bool validHost(QByteArrayView host)
{
    const auto hex = [](char c) { return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); };
    const auto nameChar = [](char c) {
        return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c == '.' || c == '-';
    };
    qsizetype i = 0;
    const qsizetype n = host.size();
    if (n > 0 && host[0] == '[') { // \[[a-f0-9]*:[a-f0-9.:]+\]
        const qsizetype close = host.indexOf(']');
        if (close < 0)
            return false;
        const QByteArrayView inner = host.sliced(1, close - 1);
        const qsizetype colon = inner.indexOf(':');
        if (colon < 0 || colon + 1 >= inner.size())
            return false;
        for (qsizetype k = 0; k < inner.size(); ++k) {
            const char c = inner[k];
            if (!(hex(c) || (k >= colon && (c == ':' || (k > colon && c == '.')))))
                return false;
        }
        i = close + 1;
    } else {
        while (i < n && nameChar(host[i]))
            ++i;
        if (i == 0 || (i == 1 && host[0] == '.')) // Django drops one trailing dot: nothing is left of "."
            return false;
    }
    if (i == n)
        return true;
    if (host[i] != ':' || i + 1 == n)
        return false;
    for (++i; i < n; ++i) {
        if (host[i] < '0' || host[i] > '9')
            return false;
    }
    return true;
}

const char *HttpRequest::hostProblem() const
{
    if (hostHeaders > 1)
        return "More than one Host header.";
    if (hostHeaders == 0 && version == "HTTP/1.1")
        return "An HTTP/1.1 request needs a Host header.";
    if ((!host.isNull() && !validHost(host)) || (!authority.isNull() && !validHost(authority))) // an empty one too
        return "Invalid HTTP_HOST header.";
    return nullptr;
}

std::optional<std::pair<int, QByteArray>> HttpRequest::framingProblem() const
{
    if (!transferEncoding.isNull() && contentLengthHeaders > 0)
        return std::pair<int, QByteArray>(400, "Request has both Content-Length and Transfer-Encoding.");
    if (contentLengthHeaders > 1)
        return std::pair<int, QByteArray>(400, "More than one Content-Length header.");
    if (transferEncodingHeaders > 1) // libmicrohttpd reads the first only: "chunked" then "gzip" was chunked
        return std::pair<int, QByteArray>(400, "More than one Transfer-Encoding header.");
    if (!transferEncoding.isNull() && transferEncoding.trimmed().compare("chunked", Qt::CaseInsensitive) != 0)
        return std::pair<int, QByteArray>(501, "Transfer-Encoding \"" + transferEncoding + "\" not implemented.");
    return std::nullopt;
}

std::optional<QByteArray> HttpRequest::queryValue(const QByteArray &name) const
{
    std::optional<QByteArray> value;
    for (const auto &[key, itemValue] : queryItems()) {
        if (key == name)
            value = itemValue;
    }
    return value;
}

Deferral::Deferral(std::shared_ptr<SuspendRegistry> registry, MHD_Connection *connection)
    : m_registry(std::move(registry))
    , m_connection(connection)
{
}

void Deferral::complete(Reply reply)
{
    m_registry->complete(*this, std::move(reply));
}

std::optional<Reply> SuspendRegistry::suspendUnlessDone(Deferral &deferral)
{
    std::lock_guard lock(m_mutex);
    if (deferral.m_reply || !m_open)
        return std::exchange(deferral.m_reply, std::nullopt);
    MHD_suspend_connection(deferral.m_connection);
    deferral.m_suspended = true;
    deferral.m_waiting.start();
    m_suspended.insert(&deferral);
    return std::nullopt;
}

std::optional<Reply> SuspendRegistry::take(Deferral &deferral)
{
    std::lock_guard lock(m_mutex);
    return std::exchange(deferral.m_reply, std::nullopt);
}

void SuspendRegistry::complete(Deferral &deferral, Reply reply)
{
    std::lock_guard lock(m_mutex);
    if (deferral.m_reply || !m_open)
        return;
    deferral.m_reply = std::move(reply);
    if (deferral.m_suspended) {
        // The connection is alive: libmicrohttpd neither times out nor closes a suspended one.
        deferral.m_suspended = false;
        m_suspended.remove(&deferral);
        MHD_resume_connection(deferral.m_connection);
    }
}

int SuspendRegistry::expire(qint64 limitMs, const Reply &reply)
{
    std::lock_guard lock(m_mutex);
    int expired = 0;
    for (auto it = m_suspended.begin(); it != m_suspended.end();) {
        Deferral *deferral = *it;
        if (!deferral->m_waiting.hasExpired(limitMs)) {
            ++it;
            continue;
        }
        deferral->m_reply = reply;
        deferral->m_suspended = false;
        MHD_resume_connection(deferral->m_connection);
        it = m_suspended.erase(it);
        ++expired;
    }
    return expired;
}

void SuspendRegistry::resumeAllAndClose(const Reply &reply)
{
    std::lock_guard lock(m_mutex);
    for (Deferral *deferral : std::as_const(m_suspended)) {
        deferral->m_reply = reply;
        deferral->m_suspended = false;
        MHD_resume_connection(deferral->m_connection);
    }
    m_suspended.clear();
    m_open = false;
}

int SuspendRegistry::suspendedCount() const
{
    std::lock_guard lock(m_mutex);
    return int(m_suspended.size());
}

std::shared_ptr<Deferral> HttpExchange::defer()
{
    if (!deferral)
        deferral = std::make_shared<Deferral>(registry, connection);
    return deferral;
}

QByteArray HttpCounters::prometheus(int waiting) const
{
    QByteArray out = "# HELP preserve_http_requests_total HTTP requests answered, by status class.\n"
                     "# TYPE preserve_http_requests_total counter\n";
    for (int statusClass = 1; statusClass <= 5; ++statusClass)
        out += "preserve_http_requests_total{code=\"" + QByteArray::number(statusClass) + "xx\"} "
            + QByteArray::number(requestsByClass[size_t(statusClass)].load(std::memory_order_relaxed)) + '\n';
    out += "# HELP preserve_http_response_body_bytes_total Bytes of response bodies queued.\n"
           "# TYPE preserve_http_response_body_bytes_total counter\n"
           "preserve_http_response_body_bytes_total "
        + QByteArray::number(bodyBytes.load(std::memory_order_relaxed)) + '\n';
    out += "# HELP preserve_http_connections_open Connections open now.\n"
           "# TYPE preserve_http_connections_open gauge\n"
           "preserve_http_connections_open "
        + QByteArray::number(connectionsOpen.load(std::memory_order_relaxed)) + '\n';
    out += "# HELP preserve_http_thread_connections_open Connections open now, by serving thread.\n"
           "# TYPE preserve_http_thread_connections_open gauge\n";
    for (int thread = 0; thread < qBound(1, threads.load(std::memory_order_relaxed), maxThreads); ++thread)
        out += "preserve_http_thread_connections_open{thread=\"" + QByteArray::number(thread) + "\"} "
            + QByteArray::number(connectionsByThread[size_t(thread)].load(std::memory_order_relaxed)) + '\n';
    out += "# HELP preserve_http_requests_waiting Requests suspended while a worker answers them.\n"
           "# TYPE preserve_http_requests_waiting gauge\n"
           "preserve_http_requests_waiting "
        + QByteArray::number(waiting) + '\n';
    return out;
}
