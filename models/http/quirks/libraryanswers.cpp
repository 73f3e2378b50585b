#include "libraryanswers.h"

#include "connectionmemory.h"

#include "api/drfreplies.h"

#include <microhttpd.h>

#include <algorithm>
#include <vector>

namespace LibraryAnswers {

namespace {

// This serving thread's connections whose request line is read and whose handler has not run:
// mostly none or one, so a vector (no allocation per request once it has grown).
thread_local std::vector<MHD_Connection *> pending;

void forget(MHD_Connection *connection)
{
    const auto it = std::find(pending.begin(), pending.end(), connection);
    if (it != pending.end()) {
        *it = pending.back();
        pending.pop_back();
    }
}

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
    if (std::find(pending.cbegin(), pending.cend(), connection) == pending.cend())
        pending.push_back(connection);
}

void handlerReached(MHD_Connection *connection)
{
    forget(connection);
}

void closed(MHD_Connection *connection)
{
    forget(connection);
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
    // Headers in (else no header size) and nothing queued: only the connection whose headers are
    // being parsed right now is so (its handler would run in the same pass).
    MHD_Connection *found = nullptr;
    for (MHD_Connection *connection : pending) {
        if (!MHD_get_connection_info(connection, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE)
            || MHD_get_connection_info(connection, MHD_CONNECTION_INFO_HTTP_STATUS))
            continue;
        if (found)
            return false; // cannot be: then be sure of none
        found = connection;
    }
    if (!found)
        return false;
    forget(found);
    // The socket stays open: shutting it made libmicrohttpd's own send fail in the middle of its
    // state machine, which then built a head for a response it had already freed (a crash seen
    // under load). So its doubled answer still follows ours, past our Content-Length.
    ConnectionMemory::answerDirectly(found, DrfReplies::error(status, detailFor(status)), false, ConnectionMemory::Then::KeepOpen);
    return true;
}

} // namespace LibraryAnswers
