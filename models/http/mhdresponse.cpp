#include "mhdresponse.h"

#include "json/jsonindenter.h"

#include <microhttpd.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace MhdResponse {

namespace {

ResponsePtr adopt(MHD_Response *response)
{
    Q_ASSERT(response); // only fails on out of memory
    return ResponsePtr(response, [](MHD_Response *r) { MHD_destroy_response(r); });
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

// The first `size` bytes of the file `fd` is open on. libmicrohttpd owns (and closes) a duplicate
// descriptor, so the bytes outlive their holder while it sends them; it reads with sendfile() at
// an offset of its own per connection. Null when no descriptor is left.
static ResponsePtr fromDescriptor(int fd, qint64 size)
{
    const int own = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (own < 0)
        return {};
    MHD_Response *response = MHD_create_response_from_fd_at_offset64(uint64_t(size), own, 0);
    if (!response) {
        ::close(own);
        return {};
    }
    return adopt(response);
}

ResponsePtr fromFile(const MemFile &file)
{
    return fromDescriptor(file.fd(), file.size());
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

// The indented body, written as libmicrohttpd sends it (no copy of the document, 32 KiB of buffer).
// `file`: what `json` is a map of, kept open as long as the response.
static ResponsePtr streamedIndented(const QByteArray &json, int indent, qint64 size, std::shared_ptr<const SpillFile> file)
{
    struct Source {
        JsonIndenter indenter;
        std::shared_ptr<const SpillFile> file;
    };
    auto *source = new Source { JsonIndenter(json, indent), std::move(file) };
    return adopt(MHD_create_response_from_callback(
        uint64_t(size), 32 * 1024,
        [](void *cls, uint64_t, char *buffer, size_t capacity) -> ssize_t {
            const qsizetype written = static_cast<Source *>(cls)->indenter.read(buffer, qsizetype(capacity));
            return written > 0 ? ssize_t(written) : ssize_t(MHD_CONTENT_READER_END_OF_STREAM);
        },
        source, [](void *cls) { delete static_cast<Source *>(cls); }));
}

ResponsePtr build(const Reply &reply, const MemFile *file, bool *fromFile)
{
    ResponsePtr response;
    if (reply.status == 304)
        response = notModified(reply.length);
    else if (reply.indent > 0)
        response = streamedIndented(reply.json, reply.indent, reply.length, reply.file);
    else if (reply.file)
        response = fromDescriptor(reply.file->fd(), reply.file->size());
    else if (file)
        response = MhdResponse::fromFile(*file);
    if (fromFile)
        *fromFile = bool(response) && (file || reply.file) && reply.status != 304 && reply.indent <= 0;
    if (!response && reply.file && reply.status != 304 && reply.indent <= 0) {
        // Out of descriptors: a body that ends in an error, so the connection closes short of
        // Content-Length, which no client takes for a whole answer (reading hundreds of MB here,
        // on the serving thread, would stall every connection it serves).
        response = notModified(reply.file->size());
    }
    if (!response)
        response = reply.entry ? fromEntry(reply.entry, reply.gzip) : fromBytes(reply.body);
    for (const ReplyHeader &header : reply.allHeaders())
        addHeader(response, header.name.constData(), header.value);
    return response;
}

} // namespace MhdResponse
