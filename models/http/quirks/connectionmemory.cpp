#include "connectionmemory.h"

#include "api/drfreplies.h"
#include "api/httpstatus.h"
#include "api/negotiation.h"

#include <QDateTime>

#include <microhttpd.h>

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace ConnectionMemory {

namespace {

// libmicrohttpd's record per header (list links, name, value, sizes, kind) with its alignment.
constexpr qint64 recordBytes = 64;
// The read buffer grows in steps once the headers pass half of the pool; below this margin they
// never do.
constexpr qint64 readMargin = 512;

struct Census {
    qint64 records = 0;
    qint64 cookieBytes = 0; // libmicrohttpd's copy of the Cookie header, 0 without one
};

MHD_Result count(void *cls, MHD_ValueKind kind, const char *key, const char *value)
{
    auto *census = static_cast<Census *>(cls);
    ++census->records;
    if (kind == MHD_HEADER_KIND && qstricmp(key, MHD_HTTP_HEADER_COOKIE) == 0 && value)
        census->cookieBytes += qint64(qstrlen(value)) + 1 + 16;
    return MHD_YES;
}

// What the request line and headers leave of the pool: records, the Cookie copy, the answer's head.
qint64 secondHalf(qint64 poolBytes)
{
    return poolBytes - poolBytes / 2;
}

} // namespace

qint64 headerLimit(qint64 poolBytes)
{
    return poolBytes / 2 - readMargin;
}

std::optional<Reply> refusal(MHD_Connection *connection, qint64 poolBytes, qint64 answerHeadBytes)
{
    const MHD_ConnectionInfo *size = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    const qint64 headerBytes = size ? qint64(size->header_size) : 0;
    // Every record (and the Cookie copy) stands for at least one byte of the headers: small ones
    // (most requests) cannot crowd the pool, and need no count.
    if (headerBytes * (recordBytes + 1 + 16) + answerHeadBytes <= secondHalf(poolBytes))
        return std::nullopt;
    Census census;
    MHD_get_connection_values(connection, MHD_ValueKind(MHD_HEADER_KIND | MHD_COOKIE_KIND | MHD_GET_ARGUMENT_KIND),
                              &count, &census);
    const qint64 left = secondHalf(poolBytes) - census.records * recordBytes - census.cookieBytes;
    if (headerBytes <= headerLimit(poolBytes) && left >= answerHeadBytes)
        return std::nullopt;
    return DrfReplies::error(HttpStatus::RequestHeaderFieldsTooLarge, "Request header fields too large.");
}

std::optional<QByteArray> targetProblem(const char *uri, qint64 poolBytes, qint64 answerHeadBytes)
{
    if (!uri)
        return std::nullopt;
    const qint64 length = qint64(std::strlen(uri));
    if (length > headerLimit(poolBytes) - 64) // the method, the version and Host need their room too
        return QByteArray("Request line too long.");
    const char *query = std::strchr(uri, '?');
    if (!query)
        return std::nullopt;
    qint64 arguments = 1;
    for (const char *at = query + 1; *at; ++at)
        arguments += *at == '&';
    if (arguments * recordBytes > secondHalf(poolBytes) - answerHeadBytes)
        return QByteArray("Too many query parameters.");
    return std::nullopt;
}

void refuseEarly(MHD_Connection *connection, const QByteArray &detail)
{
    answerDirectly(connection, DrfReplies::error(HttpStatus::UriTooLong, detail), false, Then::ShutBoth);
}

bool answerDirectly(MHD_Connection *connection, const Reply &reply, bool head, Then then)
{
    const MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!info)
        return false;
    const char *reason = MHD_get_reason_phrase_for(unsigned(reply.status));
    QByteArray wire = "HTTP/1.1 " + QByteArray::number(reply.status) + ' ' + QByteArray(reason ? reason : "") + "\r\n";
    wire += "Date: " + Negotiation::httpDate(QDateTime::currentDateTimeUtc()) + "\r\nConnection: close\r\n";
    for (const ReplyHeader &header : reply.allHeaders())
        wire += header.name + ": " + header.value + "\r\n";
    wire += "Content-Length: " + QByteArray::number(reply.contentLength()) + "\r\n\r\n";
    if (!head)
        wire += reply.payload();
    ssize_t sent = -1;
    do {
        sent = ::send(info->connect_fd, wire.constData(), size_t(wire.size()), MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (sent < 0 && errno == EINTR);
    if (then != Then::KeepOpen)
        ::shutdown(info->connect_fd, SHUT_RDWR);
    return sent > 0;
}

} // namespace ConnectionMemory
