#include "libraryanswers.h"

#include "connectionmemory.h"
#include "httpresponses.h"

#include <microhttpd.h>

#include <sys/socket.h>

namespace LibraryAnswers {

namespace {

// The connection whose request line this serving thread read last and whose handler has not run.
thread_local MHD_Connection *pending = nullptr;

QByteArray detailFor(int status)
{
    switch (status) {
    case MHD_HTTP_CONTENT_TOO_LARGE:
        return "Request body too large.";
    case MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE:
        return "Request header fields too large.";
    case MHD_HTTP_BAD_REQUEST:
        return "Malformed request.";
    default: {
        const char *reason = MHD_get_reason_phrase_for(unsigned(status));
        return QByteArray(reason && *reason ? reason : "Error") + '.';
    }
    }
}

} // namespace

void requestLineRead(MHD_Connection *connection)
{
    pending = connection;
}

void handlerReached(MHD_Connection *connection)
{
    if (pending == connection)
        pending = nullptr;
}

void closed(MHD_Connection *connection)
{
    if (pending == connection)
        pending = nullptr;
}

std::optional<int> announcedStatus(const QByteArray &message)
{
    static const QByteArray prefix = "Error processing request (HTTP response code is ";
    if (!message.startsWith(prefix))
        return std::nullopt;
    bool number = false;
    const int status = message.mid(prefix.size(), 3).toInt(&number);
    return number && status >= 400 && status < 600 ? std::optional<int>(status) : std::nullopt;
}

bool answerInstead(int status)
{
    MHD_Connection *const connection = pending;
    if (!connection)
        return false;
    // Headers in (else no header size) and nothing queued: in the middle of parsing its headers.
    if (!MHD_get_connection_info(connection, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE)
        || MHD_get_connection_info(connection, MHD_CONNECTION_INFO_HTTP_STATUS))
        return false;
    const MHD_ConnectionInfo *fd = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!fd)
        return false;
    pending = nullptr;
    const Reply reply = HttpResponses::error(status, detailFor(status));
    ConnectionMemory::sendDirectly(connection, ConnectionMemory::wire(reply, false));
    ::shutdown(fd->connect_fd, SHUT_WR); // libmicrohttpd's own answer fails to send; it closes
    return true;
}

} // namespace LibraryAnswers
