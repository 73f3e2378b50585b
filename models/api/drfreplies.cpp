#include "drfreplies.h"

#include "api/httpstatus.h"
#include "serialize/jsonstring.h"

namespace DrfReplies {

ReplyHeaders apiHeaders(bool variesOnEncoding, const char *allow)
{
    const auto make = [](bool varies, const char *allowed) {
        return ReplyHeaders { { QByteArrayLiteral("Content-Type"), QByteArrayLiteral("application/json") },
                              { QByteArrayLiteral("Vary"), varies ? QByteArrayLiteral("Accept, Accept-Encoding") : QByteArrayLiteral("Accept") },
                              { QByteArrayLiteral("Allow"), QByteArray(allowed) },
                              { QByteArrayLiteral("X-Frame-Options"), QByteArrayLiteral("DENY") },
                              { QByteArrayLiteral("X-Content-Type-Options"), QByteArrayLiteral("nosniff") },
                              { QByteArrayLiteral("Referrer-Policy"), QByteArrayLiteral("same-origin") } };
    };
    // The Foo views' sets are built once and shared (a hit copies no header).
    static const ReplyHeaders plain = make(false, readOnly);
    static const ReplyHeaders varying = make(true, readOnly);
    if (qstrcmp(allow, readOnly) == 0)
        return variesOnEncoding ? varying : plain;
    return make(variesOnEncoding, allow);
}

QByteArray detailBody(const QByteArray &message)
{
    QByteArray body = "{\"detail\":";
    appendJsonString(body, message);
    body += '}';
    return body;
}

Reply json(int status, QByteArray body, const char *allow)
{
    Reply reply;
    reply.status = status;
    reply.headers = apiHeaders(false, allow);
    reply.json = body; // the same bytes, not a copy
    reply.body = std::move(body);
    return reply;
}

Reply error(int status, const QByteArray &message, const char *allow)
{
    return json(status, detailBody(message), allow);
}

Reply notFound()
{
    static const Reply reply = error(HttpStatus::NotFound, "Not found.");
    return reply;
}

Reply methodNotAllowed(const QByteArray &method, const char *allow)
{
    return error(HttpStatus::MethodNotAllowed, "Method \"" + method + "\" not allowed.", allow);
}

Reply notAcceptable(const char *allow)
{
    Reply reply = error(HttpStatus::NotAcceptable, "Could not satisfy the request Accept header.", allow);
    reply.json.clear(); // DRF renders this one without the client's parameters: it found no match
    return reply;
}

Reply appendSlash(const QByteArray &target)
{
    const qsizetype question = target.indexOf('?');
    const QByteArray path = question < 0 ? target : target.left(question);
    Reply reply;
    reply.status = HttpStatus::MovedPermanently;
    // Django's SecurityMiddleware adds the last two to the redirect too (CommonMiddleware answers
    // before the view, so there is no X-Frame-Options or Allow).
    reply.headers = { { "Content-Type", "text/html; charset=utf-8" },
                      { "Location", path + '/' + (question < 0 ? QByteArray() : target.mid(question)) },
                      { "X-Content-Type-Options", "nosniff" },
                      { "Referrer-Policy", "same-origin" } };
    return reply;
}

} // namespace DrfReplies
