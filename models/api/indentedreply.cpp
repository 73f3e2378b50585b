// DRF's indented rendering (`Accept: application/json; indent=N`): the answer re-written that way.
#include "drfreplies.h"

#include "api/httpstatus.h"
#include "api/negotiation.h"
#include "json/jsonindenter.h"

#include <algorithm>
#include <iterator>

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
        result.indent = indent;
    }
    return result;
}

} // namespace DrfReplies
