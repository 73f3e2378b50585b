#include "requestdeadlines.h"

#include <QDeadlineTimer>

#include <sys/socket.h>

#include <microhttpd.h>

namespace {

qint64 nowMs()
{
    return QDeadlineTimer::current().deadline();
}

} // namespace

RequestDeadlines::Slot *RequestDeadlines::opened(MHD_Connection *connection)
{
    auto slot = std::make_shared<Slot>();
    if (const MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD))
        slot->socket = info->connect_fd;
    waitForRequest(*slot);
    std::lock_guard lock(m_mutex);
    m_slots.insert(connection, slot);
    return slot.get();
}

void RequestDeadlines::closed(MHD_Connection *connection)
{
    std::lock_guard lock(m_mutex);
    m_slots.remove(connection);
}

void RequestDeadlines::waitForRequest(Slot &slot) const
{
    slot.dueMs.store(m_timeoutMs > 0 ? nowMs() + m_timeoutMs : 0, std::memory_order_relaxed);
}

int RequestDeadlines::expire()
{
    const qint64 now = nowMs();
    int count = 0;
    std::lock_guard lock(m_mutex); // held while shutting down: closed() waits, so the socket is still this connection's
    for (const std::shared_ptr<Slot> &slot : std::as_const(m_slots)) {
        const qint64 due = slot->dueMs.load(std::memory_order_relaxed);
        if (slot->expired || slot->socket < 0 || due == 0 || due > now)
            continue;
        ::shutdown(slot->socket, SHUT_RDWR);
        slot->expired = true;
        ++count;
    }
    return count;
}
