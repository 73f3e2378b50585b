#include "httpresponses.h"

#include "serialize/jsonstring.h"

#include <QLocale>

#include <microhttpd.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace HttpResponses {

namespace {

ResponsePtr adopt(MHD_Response *response)
{
    Q_ASSERT(response); // only fails on out of memory
    return ResponsePtr(response, [](MHD_Response *r) { MHD_destroy_response(r); });
}

// A q-value of an Accept-Encoding element ("gzip;q=0.5"); 1 when absent, 0 when unreadable.
double qualityOf(const QByteArray &parameters)
{
    for (const QByteArray &parameter : parameters.split(';')) {
        const QByteArray trimmed = parameter.trimmed();
        if (!trimmed.startsWith("q=") && !trimmed.startsWith("Q="))
            continue;
        bool ok = false;
        const double q = trimmed.mid(2).trimmed().toDouble(&ok);
        return ok ? q : 0;
    }
    return 1;
}

} // namespace

ResponsePtr fromBytes(QByteArray body)
{
    auto *holder = new QByteArray(std::move(body));
    return adopt(MHD_create_response_from_buffer_with_free_callback_cls(
        size_t(holder->size()), const_cast<char *>(holder->constData()),
        [](void *cls) { delete static_cast<QByteArray *>(cls); }, holder));
}

ResponsePtr fromEntry(const EntryPtr &entry, bool gzip)
{
    const QByteArray &bytes = gzip ? entry->gzip : entry->body;
    auto *holder = new EntryPtr(entry);
    return adopt(MHD_create_response_from_buffer_with_free_callback_cls(
        size_t(bytes.size()), const_cast<char *>(bytes.constData()),
        [](void *cls) { delete static_cast<EntryPtr *>(cls); }, holder));
}

std::shared_ptr<const MemFile> MemFile::copyOf(const QByteArray &bytes)
{
    const int fd = memfd_create("preserve-entry", MFD_CLOEXEC);
    if (fd < 0)
        return {};
    std::shared_ptr<const MemFile> file(new MemFile(fd, bytes.size()));
    for (qsizetype written = 0; written < bytes.size();) {
        const ssize_t n = ::write(fd, bytes.constData() + written, size_t(bytes.size() - written));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) // out of memory (or a memfd size limit): serve from the buffer instead
            return {};
        written += n;
    }
    return file;
}

MemFile::~MemFile()
{
    ::close(m_fd);
}

ResponsePtr fromFile(const MemFile &file)
{
    // libmicrohttpd owns (and closes) the duplicate; it reads with sendfile() at an offset of its
    // own per connection.
    const int fd = ::fcntl(file.fd(), F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
        return {};
    MHD_Response *response = MHD_create_response_from_fd_at_offset64(uint64_t(file.size()), fd, 0);
    if (!response) {
        ::close(fd);
        return {};
    }
    return adopt(response);
}

ResponsePtr empty()
{
    return adopt(MHD_create_response_from_buffer(0, nullptr, MHD_RESPMEM_PERSISTENT));
}

ResponsePtr notModified(qint64 bodySize)
{
    const auto noContent = [](void *, uint64_t, char *, size_t) -> ssize_t { return MHD_CONTENT_READER_END_WITH_ERROR; };
    // Block size 1: libmicrohttpd allocates (and zeroes) a buffer of that size with the response.
    return adopt(MHD_create_response_from_callback(uint64_t(std::max<qint64>(bodySize, 0)), 1, noContent, nullptr, nullptr));
}

void addHeader(const ResponsePtr &response, const char *name, const QByteArray &value)
{
    // MHD copies both strings. It refuses values with CR/LF, so no header injection can pass.
    MHD_add_response_header(response.get(), name, value.constData());
}

void addApiHeaders(const ResponsePtr &response, bool variesOnEncoding, const char *allow)
{
    addHeader(response, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    addHeader(response, MHD_HTTP_HEADER_VARY, variesOnEncoding ? "Accept, Accept-Encoding" : "Accept");
    addHeader(response, MHD_HTTP_HEADER_ALLOW, allow);
    addHeader(response, "X-Frame-Options", "DENY");
    addHeader(response, "X-Content-Type-Options", "nosniff");
    addHeader(response, "Referrer-Policy", "same-origin");
}

void addRepresentationHeaders(const ResponsePtr &response, const Representation &representation, const Style &style)
{
    if (!representation.etag.isEmpty())
        addHeader(response, MHD_HTTP_HEADER_ETAG, representation.etag);
    if (representation.lastModified.isValid())
        addHeader(response, MHD_HTTP_HEADER_LAST_MODIFIED, httpDate(representation.lastModified));
    if (!style.cacheControl.isEmpty())
        addHeader(response, MHD_HTTP_HEADER_CACHE_CONTROL, style.cacheControl);
    if (!representation.cache.isEmpty())
        addHeader(response, "X-Cache", representation.cache);
    if (representation.gzip)
        addHeader(response, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
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
    const qint64 size = body.size();
    QByteArray shared = body; // the same bytes, not a copy
    ResponsePtr response = fromBytes(std::move(body));
    addApiHeaders(response, false, allow);
    return { status, response, {}, size, false, std::move(shared) };
}

Reply error(int status, const QByteArray &message, const char *allow)
{
    return json(status, detailBody(message), allow);
}

Reply notFound()
{
    // Every 404 is the same bytes: build it once.
    static const Reply reply = error(MHD_HTTP_NOT_FOUND, "Not found.");
    return reply;
}

Reply methodNotAllowed(const QByteArray &method, const char *allow)
{
    return error(MHD_HTTP_METHOD_NOT_ALLOWED, "Method \"" + method + "\" not allowed.", allow);
}

QByteArray entityTag(const QByteArray &digest, bool gzip)
{
    return '"' + digest + (gzip ? "-gzip\"" : "\"");
}

bool noneMatchHits(const QByteArray &ifNoneMatch, const QByteArray &digest)
{
    if (ifNoneMatch.isEmpty() || digest.isEmpty())
        return false;
    if (ifNoneMatch.trimmed() == "*")
        return true;
    return listsTag(ifNoneMatch, entityTag(digest, false)) || listsTag(ifNoneMatch, entityTag(digest, true));
}

bool listsTag(const QByteArray &ifNoneMatch, const QByteArray &entityTag)
{
    for (QByteArray tag : ifNoneMatch.split(',')) {
        tag = tag.trimmed();
        if (tag.startsWith("W/")) // If-None-Match compares weakly
            tag = tag.mid(2);
        if (tag == entityTag)
            return true;
    }
    return false;
}

bool acceptsJson(const QByteArray &accept)
{
    if (accept.isNull())
        return true;
    for (const QByteArray &range : accept.split(',')) {
        const qsizetype semicolon = range.indexOf(';');
        const QByteArray type = (semicolon < 0 ? range : range.left(semicolon)).trimmed().toLower();
        if (type == "*/*" || type == "application/*" || type == "application/json")
            return true;
    }
    return false;
}

Reply notAcceptable(const char *allow)
{
    Reply reply = error(MHD_HTTP_NOT_ACCEPTABLE, "Could not satisfy the request Accept header.", allow);
    reply.json.clear(); // DRF renders this one without the client's parameters: it found no match
    return reply;
}

bool acceptsGzip(const QByteArray &acceptEncoding)
{
    double gzip = -1;
    double any = -1;
    for (const QByteArray &element : acceptEncoding.split(',')) {
        const qsizetype semicolon = element.indexOf(';');
        const QByteArray coding = (semicolon < 0 ? element : element.left(semicolon)).trimmed().toLower();
        const double q = semicolon < 0 ? 1.0 : qualityOf(element.mid(semicolon + 1));
        if (coding == "gzip" || coding == "x-gzip")
            gzip = q;
        else if (coding == "*")
            any = q;
    }
    return gzip >= 0 ? gzip > 0 : any > 0;
}

QByteArray httpDate(const QDateTime &at)
{
    return QLocale::c().toString(at.toUTC(), QStringLiteral("ddd, dd MMM yyyy hh:mm:ss 'GMT'")).toLatin1();
}

} // namespace HttpResponses
