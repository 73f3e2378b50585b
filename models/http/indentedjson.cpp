// DRF's indented rendering (`Accept: application/json; indent=N`): which indent DRF's negotiation
// ends up with, and the answer re-written that way.
#include "httpresponses.h"

#include "json/jsonindenter.h"

#include <microhttpd.h>

#include <algorithm>
#include <iterator>
#include <optional>

namespace HttpResponses {

namespace {

// Django's parse_header: the parameter names lower-cased, values stripped and unquoted.
std::optional<QByteArray> parameter(const QByteArray &range, const QByteArray &name)
{
    const QList<QByteArray> parts = range.split(';');
    for (qsizetype i = 1; i < parts.size(); ++i) {
        const QByteArray &part = parts.at(i);
        const qsizetype equals = part.indexOf('=');
        if (equals < 0 || part.left(equals).trimmed().toLower() != name)
            continue;
        QByteArray value = part.mid(equals + 1).trimmed();
        if (value.size() >= 2 && value.startsWith('"') && value.endsWith('"'))
            value = value.mid(1, value.size() - 2).replace("\\\\", "\\").replace("\\\"", "\"");
        return value;
    }
    return std::nullopt;
}

// DRF's _MediaType.precedence: 3 with a parameter other than q, 2 a full type, 1 type/*, 0 */*.
int precedence(const QByteArray &range)
{
    const qsizetype semicolon = range.indexOf(';');
    const QByteArray type = (semicolon < 0 ? range : range.left(semicolon)).trimmed();
    if (type.startsWith('*'))
        return 0;
    if (type.endsWith("/*"))
        return 1;
    const QList<QByteArray> parts = range.split(';');
    for (qsizetype i = 1; i < parts.size(); ++i) {
        const qsizetype equals = parts.at(i).indexOf('=');
        const QByteArray name = (equals < 0 ? parts.at(i) : parts.at(i).left(equals)).trimmed().toLower();
        if (!name.isEmpty() && name != "q")
            return 3;
    }
    return 2;
}

// Python's int() on a str: surrounding whitespace, an optional sign, ASCII digits.
std::optional<int> pythonInt(QByteArray text)
{
    text = text.trimmed();
    bool ok = false;
    const qlonglong value = text.toLongLong(&ok);
    if (!ok || text.isEmpty() || text.contains('.'))
        return std::nullopt;
    return int(qBound(qlonglong(-1), value, qlonglong(1000)));
}

// The indented body, written as libmicrohttpd sends it (no copy of the document, 32 KiB of buffer).
ResponsePtr streamedIndented(const QByteArray &json, int indent, qint64 size)
{
    auto *indenter = new JsonIndenter(json, indent);
    MHD_Response *response = MHD_create_response_from_callback(
        uint64_t(size), 32 * 1024,
        [](void *cls, uint64_t, char *buffer, size_t capacity) -> ssize_t {
            const qsizetype written = static_cast<JsonIndenter *>(cls)->read(buffer, qsizetype(capacity));
            return written > 0 ? ssize_t(written) : ssize_t(MHD_CONTENT_READER_END_OF_STREAM);
        },
        indenter, [](void *cls) { delete static_cast<JsonIndenter *>(cls); });
    Q_ASSERT(response); // only fails on out of memory
    return ResponsePtr(response, [](MHD_Response *r) { MHD_destroy_response(r); });
}

// The tag of the indented representation: the compact body's, marked.
QByteArray indentedTag(QByteArray tag, int indent)
{
    if (!tag.endsWith('"'))
        return tag;
    tag.chop(tag.endsWith("-gzip\"") ? 6 : 1);
    return tag + "-indent" + QByteArray::number(indent) + '"';
}

struct HeaderCopy {
    ResponsePtr to;
    int indent;
    bool notModified; // only what a 304 carries
};

MHD_Result copyHeader(void *cls, MHD_ValueKind, const char *key, const char *value)
{
    auto *copy = static_cast<HeaderCopy *>(cls);
    if (qstricmp(key, MHD_HTTP_HEADER_CONTENT_ENCODING) == 0 || qstricmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
        return MHD_YES;
    static const char *const kept304[] = { MHD_HTTP_HEADER_ETAG, MHD_HTTP_HEADER_LAST_MODIFIED, MHD_HTTP_HEADER_CACHE_CONTROL,
                                           MHD_HTTP_HEADER_VARY, "X-Cache" };
    if (copy->notModified
        && std::none_of(std::begin(kept304), std::end(kept304), [key](const char *name) { return qstricmp(key, name) == 0; }))
        return MHD_YES;
    const bool etag = qstricmp(key, MHD_HTTP_HEADER_ETAG) == 0;
    addHeader(copy->to, key, etag ? indentedTag(value, copy->indent) : QByteArray(value));
    return MHD_YES;
}

} // namespace

int acceptedIndent(const QByteArray &accept)
{
    if (accept.isEmpty())
        return 0;
    std::optional<QByteArray> chosen;
    int best = -1;
    for (const QByteArray &token : accept.split(',')) {
        const QByteArray range = token.trimmed();
        if (!acceptsJson(range))
            continue;
        if (const int rank = precedence(range); rank > best) {
            best = rank;
            chosen = range;
        }
    }
    if (!chosen)
        return 0;
    const auto value = parameter(*chosen, "indent");
    const auto number = value ? pythonInt(*value) : std::nullopt;
    return number ? qBound(0, *number, 8) : 0;
}

Reply indented(const Reply &reply, int indent, const QByteArray &ifNoneMatch)
{
    if (reply.json.isEmpty() || indent <= 0)
        return reply;
    const qint64 size = JsonIndenter::measure(reply.json, indent);
    if (size < 0)
        return reply;
    const char *etag = MHD_get_response_header(reply.response.get(), MHD_HTTP_HEADER_ETAG);
    if (etag && !ifNoneMatch.isEmpty() && listsTag(ifNoneMatch, indentedTag(etag, indent))) {
        Reply notModified = reply;
        notModified.status = MHD_HTTP_NOT_MODIFIED;
        notModified.bodyBytes = 0;
        notModified.fromFile = false;
        notModified.json.clear();
        notModified.response = HttpResponses::notModified(size); // the indented body's length
        HeaderCopy copy { notModified.response, indent, true };
        MHD_get_response_headers(reply.response.get(), &copyHeader, &copy);
        return notModified;
    }
    Reply result = reply;
    result.bodyBytes = size;
    result.fromFile = false;
    result.response = streamedIndented(reply.json, indent, size);
    HeaderCopy copy { result.response, indent, false };
    MHD_get_response_headers(reply.response.get(), &copyHeader, &copy);
    return result;
}

} // namespace HttpResponses
