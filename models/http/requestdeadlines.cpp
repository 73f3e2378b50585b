#include "requestdeadlines.h"

#include <sys/socket.h>

#include <microhttpd.h>

void RequestDeadlines::waitForRequest(MHD_Connection *connection)
{
    const MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!info || m_timeoutMs <= 0)
        return;
    std::lock_guard lock(m_mutex);
    m_waiting.insert(connection, { info->connect_fd, QDeadlineTimer(m_timeoutMs), false });
}

void RequestDeadlines::requestArrived(MHD_Connection *connection)
{
    std::lock_guard lock(m_mutex);
    m_waiting.remove(connection);
}

void RequestDeadlines::closed(MHD_Connection *connection)
{
    std::lock_guard lock(m_mutex);
    m_waiting.remove(connection);
}

int RequestDeadlines::expire()
{
    int count = 0;
    std::lock_guard lock(m_mutex); // held while shutting down: closed() waits, so the socket is still this connection's
    for (Waiting &waiting : m_waiting) {
        if (waiting.expired || !waiting.deadline.hasExpired())
            continue;
        ::shutdown(waiting.socket, SHUT_RDWR);
        waiting.expired = true;
        ++count;
    }
    return count;
}
