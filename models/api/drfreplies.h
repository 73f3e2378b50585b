#pragma once

#include "api/reply.h"

// The answers DRF and Django write: the header set of a DRF APIView, JSON error bodies, DRF's
// indented rendering. Thread-safe.
namespace DrfReplies {

constexpr const char *readOnly = "GET, HEAD, OPTIONS"; // the Allow of the Foo views

// Content-Type: application/json, Vary (Accept; plus Accept-Encoding on representations that
// have a gzip twin), Allow, X-Frame-Options, X-Content-Type-Options, Referrer-Policy.
ReplyHeaders apiHeaders(bool variesOnEncoding, const char *allow = readOnly);
// `{"detail":"…"}` with DRF's escaping.
QByteArray detailBody(const QByteArray &message);
Reply json(int status, QByteArray body, const char *allow = readOnly);
Reply error(int status, const QByteArray &message, const char *allow = readOnly);
Reply notFound();
Reply methodNotAllowed(const QByteArray &method, const char *allow = readOnly);
// 406, DRF's NotAcceptable.
Reply notAcceptable(const char *allow = readOnly);
// Django's APPEND_SLASH: 301 to the same target with a slash after the path, query kept.
Reply appendSlash(const QByteArray &target);
// The reply with its `json` body written as DRF writes it indented (json.dumps with `indent` and
// separators ',' and ': '): same status and headers, but no Content-Encoding (there is no stored
// gzip copy of it) and its own ETag; 304 when `ifNoneMatch` names that tag. The reply itself when
// it has no JSON body.
Reply indented(const Reply &reply, int indent, const QByteArray &ifNoneMatch);

} // namespace DrfReplies
