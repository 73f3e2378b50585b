#pragma once

#include "cache/entry.h"
#include "core/spillfile.h"

#include <QByteArray>
#include <QDateTime>
#include <QList>

#include <optional>

struct ReplyHeader {
    QByteArray name;
    QByteArray value;
};
using ReplyHeaders = QList<ReplyHeader>;

// What makes an answer a cacheable representation: its ETag, Last-Modified, Cache-Control and
// X-Cache, written out by Reply::allHeaders() only when a transport builds the answer.
struct Representation {
    QByteArray digest;      // the entity tag's digest
    bool gzipTag = false;   // the tag of the gzip coding ("<digest>-gzip")
    QDateTime lastModified;
    QByteArray cacheControl; // empty: none
};

// One answer of the API, as a plain value: status, headers and body. The body is bytes, or an
// entry's body or gzip copy (shared, never copied), or `json` written with `indent`, or a whole
// temporary file (`file`, for bodies too large to hold). A transport sends it as it is; it adds
// only Content-Length, Date and Connection.
struct Reply {
    int status = 0;
    ReplyHeaders headers; // in order; with `representation`, its headers follow these
    std::optional<Representation> representation;
    QByteArray body;
    EntryPtr entry;        // when set, the body is entry->body, or entry->gzip when `gzip`
    std::shared_ptr<const SpillFile> file; // when set, the body is the file's bytes (and not in payload())
    bool gzip = false;     // the body is gzip-coded (Content-Encoding: gzip)
    int indent = 0;        // > 0: the body is `json` indented so, `length` bytes
    // 304: the Content-Length the 200 would have had (RFC 9110 8.6); an indented body's length.
    qint64 length = -1;
    QByteArray cache;      // X-Cache, empty when the endpoint is not cached (also for the log)
    // The JSON body DRF's JSONRenderer would have written (uncompressed), for answers that are DRF
    // renderings: re-rendered indented when the client's Accept asks for it (ApiRouter::finish).
    QByteArray json;
    // A memory-tier hit on a stored entry: the same entry object gives the same answer for the
    // same coding and status, so a transport may build it once and reuse it.
    bool reusable = false;

    // The bytes of the body, as held: the entry's, or `body` (empty for an indented body, a file's
    // or a 304).
    const QByteArray &payload() const;
    // The body's length on the wire for a GET (0 for a 304).
    qint64 bodyBytes() const;
    // The Content-Length header's value.
    qint64 contentLength() const;
    // `headers` followed by the representation's: ETag, Last-Modified, Cache-Control, X-Cache,
    // Content-Encoding.
    ReplyHeaders allHeaders() const;
    // A header's value (case-insensitive name), from allHeaders(); null when absent.
    QByteArray header(QByteArrayView name) const;
};
