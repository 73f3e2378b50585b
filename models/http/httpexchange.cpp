#include "httpexchange.h"

#include <microhttpd.h>

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
