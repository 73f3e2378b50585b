#pragma once

#include "cache/entry.h"

#include <QByteArray>
#include <QDateTime>

#include <memory>

struct MHD_Response;

// libmicrohttpd responses are reference counted inside the library (MHD_queue_response takes a
// reference); a ResponsePtr is our own reference, dropped with MHD_destroy_response. A response is
// immutable once built, so one object may be queued on any number of connections on any thread.
using ResponsePtr = std::shared_ptr<MHD_Response>;

// What a handler answers: the status, the (shared, prebuilt) response, and what the request log
// shows. `bodyBytes` is the body's size (0 for 304); HEAD is accounted by the server.
struct Reply {
    int status = 0;
    ResponsePtr response;
    QByteArray cache; // X-Cache value, empty when the endpoint is not cached
    qint64 bodyBytes = 0;
    // The body goes out with sendfile() after the headers: the server corks the socket while it
    // does, so headers and body leave in full segments as one send() of a buffer would.
    bool fromFile = false;
    // The JSON body DRF's JSONRenderer would have written (uncompressed), for answers that are DRF
    // renderings: re-rendered indented when the client's Accept asks for it (HttpServer's queue).
    QByteArray json;
};

// Building responses DRF-alike: the header set of a DRF APIView on every API answer, JSON error
// bodies, the cached entry's bytes without a copy. All functions are thread-safe.
namespace HttpResponses {

// Per-server settings every API response depends on.
struct Style {
    QByteArray cacheControl; // empty: no Cache-Control header (DRF sends none)
};

// The body stays owned by the response (zero copy: the QByteArray's data is sent as it is).
ResponsePtr fromBytes(QByteArray body);
// The entry's body (or its stored gzip copy) without a copy: the response keeps the entry alive
// until libmicrohttpd drops its last reference.
ResponsePtr fromEntry(const EntryPtr &entry, bool gzip);
// The same bytes copied once into an anonymous in-memory file (memfd), for file-backed responses
// (fromFile). Closed when the last owner lets go; holds no reference to the entry. Null when no
// such file can be made (the caller falls back to fromEntry).
class MemFile {
public:
    static std::shared_ptr<const MemFile> copyOf(const QByteArray &bytes);
    ~MemFile();
    MemFile(const MemFile &) = delete;
    MemFile &operator=(const MemFile &) = delete;
    qint64 size() const { return m_size; }
    int fd() const { return m_fd; }

private:
    MemFile(int fd, qint64 size) : m_fd(fd), m_size(size) { }
    int m_fd;
    qint64 m_size;
};
// A response that libmicrohttpd sends from `file` with sendfile(): the kernel takes the pages by
// reference instead of copying the body into the socket, which is most of the cost of a hit of
// 100 KB. It owns a duplicate of the descriptor, so any number of responses share one file; but
// libmicrohttpd holds a response's lock while it sends from its file, so each serving thread
// needs a response of its own (ResponseCache lanes). Null on failure.
ResponsePtr fromFile(const MemFile &file);
ResponsePtr empty();
// What a 304 sends: headers only, with the Content-Length the 200 would have had (RFC 9110 §8.6:
// that length or none; libmicrohttpd always writes one, and 0 would be wrong). No body is held:
// libmicrohttpd never reads a 304's content.
ResponsePtr notModified(qint64 bodySize);
// What DRF's JSONRenderer indents by for this Accept header: the media range DRF's negotiation
// picks (the most specific that JSON satisfies: with parameters, then application/json, then
// application/*, then */*), its `indent` parameter as Python's int() reads it, capped to 0..8;
// 0 when none (then the body stays compact).
int acceptedIndent(const QByteArray &accept);
// The reply with its `json` body written as DRF writes it indented (json.dumps with `indent` and
// separators ',' and ': '): same status and headers, but no Content-Encoding (there is no stored
// gzip copy of it) and its own ETag; 304 when `ifNoneMatch` names that tag. The reply itself when
// it has no JSON body.
Reply indented(const Reply &reply, int indent, const QByteArray &ifNoneMatch);

void addHeader(const ResponsePtr &response, const char *name, const QByteArray &value);
// Content-Type: application/json, Allow, X-Content-Type-Options, X-Frame-Options, Referrer-Policy,
// Vary (Accept; plus Accept-Encoding on representations that have a gzip twin).
void addApiHeaders(const ResponsePtr &response, bool variesOnEncoding, const char *allow = "GET, HEAD, OPTIONS");
// ETag, Last-Modified, Cache-Control, X-Cache, Content-Encoding: what a cacheable representation carries.
struct Representation {
    QByteArray etag;      // the quoted tag
    QDateTime lastModified;
    QByteArray cache;     // X-Cache
    bool gzip = false;
};
void addRepresentationHeaders(const ResponsePtr &response, const Representation &representation, const Style &style);

// `{"detail":"…"}` with DRF's escaping and the API headers.
QByteArray detailBody(const QByteArray &message);
Reply json(int status, QByteArray body, const char *allow = "GET, HEAD, OPTIONS");
Reply error(int status, const QByteArray &message, const char *allow = "GET, HEAD, OPTIONS");
Reply notFound();
Reply methodNotAllowed(const QByteArray &method, const char *allow = "GET, HEAD, OPTIONS");

// The strong tag of an entry's representation: "<digest>" for the body, "<digest>-gzip" for the
// gzip copy (a strong validator must differ between content codings, RFC 9110 8.8.3).
QByteArray entityTag(const QByteArray &digest, bool gzip);
// If-None-Match: `*`, or a list of tags compared weakly (W/"x" matches "x"); a tag of either
// coding of `digest` matches, since both stand for the same current body.
bool noneMatchHits(const QByteArray &ifNoneMatch, const QByteArray &digest);
// Does this If-None-Match list name `entityTag` (quoted; W/ ignored)?
bool listsTag(const QByteArray &ifNoneMatch, const QByteArray &entityTag);
// DRF's content negotiation with its one renderer (application/json): some media range of the
// Accept header must match it (`*/*`, `application/*`, `application/json`, parameters ignored; DRF
// ranks ranges by specificity and does not read q). No header at all accepts anything; an empty one
// accepts nothing, as in DRF.
bool acceptsJson(const QByteArray &accept);
// 406, DRF's NotAcceptable.
Reply notAcceptable(const char *allow = "GET, HEAD, OPTIONS");
// Accept-Encoding with q-values: gzip (or *) with q > 0, and not refused by gzip;q=0.
bool acceptsGzip(const QByteArray &acceptEncoding);
// RFC 7231 IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
QByteArray httpDate(const QDateTime &at);

} // namespace HttpResponses
