#include "drfreplies.h"

#include "api/httpstatus.h"
#include "api/negotiation.h"
#include "json/jsonindenter.h"
#include "serialize/jsonstring.h"

#include <algorithm>
#include <iterator>

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

// DRF's indented rendering (`Accept: application/json; indent=N`): the answer re-written that way.
namespace DrfReplies {

namespace {

// The tag of the indented representation: the compact body's, marked.
QByteArray indentedTag(QByteArray tag, int indent)
{
    if (!tag.endsWith('"'))
        return tag;
    tag.chop(tag.endsWith("-gzip\"") ? 6 : 1);
    return tag + "-indent" + QByteArray::number(indent) + '"';
}

// The headers of `reply` for its indented twin: no Content-Encoding, the ETag marked; for a 304
// only what a 304 carries.
ReplyHeaders indentedHeaders(const Reply &reply, int indent, bool notModified)
{
    static const char *const kept304[] = { "ETag", "Last-Modified", "Cache-Control", "Vary", "X-Cache" };
    ReplyHeaders headers;
    for (const ReplyHeader &header : reply.allHeaders()) {
        if (header.name.compare("Content-Encoding", Qt::CaseInsensitive) == 0)
            continue;
        if (notModified && std::none_of(std::begin(kept304), std::end(kept304), [&header](const char *name) {
                return header.name.compare(name, Qt::CaseInsensitive) == 0;
            }))
            continue;
        const bool etag = header.name.compare("ETag", Qt::CaseInsensitive) == 0;
        headers.append(ReplyHeader { header.name, etag ? indentedTag(header.value, indent) : header.value });
    }
    return headers;
}

} // namespace

Reply indented(const Reply &reply, int indent, const QByteArray &ifNoneMatch)
{
    if (reply.json.isEmpty() || indent <= 0)
        return reply;
    const qint64 size = JsonIndenter::measure(reply.json, indent);
    if (size < 0)
        return reply;
    const QByteArray etag = reply.header("ETag");
    const bool notModified = !etag.isEmpty() && !ifNoneMatch.isEmpty() && Negotiation::listsTag(ifNoneMatch, indentedTag(etag, indent));
    Reply result;
    result.status = notModified ? HttpStatus::NotModified : reply.status;
    result.headers = indentedHeaders(reply, indent, notModified);
    result.cache = reply.cache;
    result.length = size; // a 304's too: the indented body's length
    if (!notModified) {
        result.json = reply.json;
        result.file = reply.file; // what `json` may be a map of
        result.indent = indent;
    }
    return result;
}

} // namespace DrfReplies
