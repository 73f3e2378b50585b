#include "requestdeadlines.h"

#include <QDeadlineTimer>

#include <algorithm>

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
    slot.started.store(false, std::memory_order_relaxed);
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

namespace {

bool isIdle(const RequestDeadlines::Slot &slot)
{
    return !slot.expired && slot.socket >= 0 && slot.dueMs.load(std::memory_order_relaxed) != 0
        && !slot.started.load(std::memory_order_relaxed);
}

} // namespace

int RequestDeadlines::idleCount()
{
    std::lock_guard lock(m_mutex);
    return int(std::count_if(m_slots.cbegin(), m_slots.cend(), [](const std::shared_ptr<Slot> &slot) { return isIdle(*slot); }));
}

bool RequestDeadlines::reclaimIdlest()
{
    std::lock_guard lock(m_mutex);
    Slot *idlest = nullptr;
    for (const std::shared_ptr<Slot> &slot : std::as_const(m_slots)) {
        if (isIdle(*slot) && (!idlest || slot->dueMs.load(std::memory_order_relaxed) < idlest->dueMs.load(std::memory_order_relaxed)))
            idlest = slot.get();
    }
    if (!idlest)
        return false;
    ::shutdown(idlest->socket, SHUT_RDWR);
    idlest->expired = true;
    return true;
}
