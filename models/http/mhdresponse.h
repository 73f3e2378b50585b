#pragma once

#include "api/reply.h"

#include <QByteArray>

#include <memory>

struct MHD_Response;

// libmicrohttpd responses are reference counted inside the library (MHD_queue_response takes a
// reference); a ResponsePtr is our own reference, dropped with MHD_destroy_response. A response is
// immutable once built, so one object may be queued on any number of connections on any thread.
using ResponsePtr = std::shared_ptr<MHD_Response>;

// The API's plain replies as libmicrohttpd responses, bodies never copied. Thread-safe.
namespace MhdResponse {

// The same bytes copied once into an anonymous in-memory file (memfd), for responses sent with
// sendfile(). Closed when the last owner lets go; holds no reference to an entry. Null when no
// such file can be made (the caller sends from the buffer instead).
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

// `reply` with its headers: the body as held (an entry's buffer kept alive by the response, or
// the reply's bytes), streamed when indented, none for a 304 (whose Content-Length is the
// reply's length). With `file`, the body is sent from it with sendfile() instead, when that
// response can be made: `fromFile` tells whether it was.
ResponsePtr build(const Reply &reply, const MemFile *file = nullptr, bool *fromFile = nullptr);

// The pieces build() uses, for tests.
ResponsePtr fromBytes(QByteArray body);
ResponsePtr fromEntry(const EntryPtr &entry, bool gzip);
// A response that libmicrohttpd sends from `file` with sendfile(): the kernel takes the pages by
// reference instead of copying the body into the socket. It owns a duplicate of the descriptor,
// so any number of responses share one file; but libmicrohttpd holds a response's lock while it
// sends from its file, so each serving thread needs a response of its own (ResponseCache lanes).
// Null on failure.
ResponsePtr fromFile(const MemFile &file);
ResponsePtr empty();
// What a 304 sends: headers only, with the Content-Length the 200 would have had (RFC 9110 §8.6:
// that length or none; libmicrohttpd always writes one, and 0 would be wrong). No body is held:
// libmicrohttpd never reads a 304's content.
ResponsePtr notModified(qint64 bodySize);
void addHeader(const ResponsePtr &response, const char *name, const QByteArray &value);

} // namespace MhdResponse
