#pragma once

#include <QByteArray>
#include <QDateTime>

// DRF's and Django's reading of a request's Accept, Accept-Encoding and If-None-Match headers, and
// the validators the API writes. Pure functions, thread-safe.
namespace Negotiation {

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
// What DRF's JSONRenderer indents by for this Accept header: the media range DRF's negotiation
// picks (the most specific that JSON satisfies: with parameters, then application/json, then
// application/*, then */*), its `indent` parameter as Python's int() reads it, capped to 0..8;
// 0 when none (then the body stays compact).
int acceptedIndent(const QByteArray &accept);
// Accept-Encoding with q-values: gzip (or *) with q > 0, and not refused by gzip;q=0.
bool acceptsGzip(const QByteArray &acceptEncoding);
// RFC 7231 IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
QByteArray httpDate(const QDateTime &at);

} // namespace Negotiation
