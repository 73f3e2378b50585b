#pragma once

#include <QByteArray>
#include <QByteArrayView>

// The grammar of a request (RFC 9110 and 9112) where libmicrohttpd 0.9.75 is lenient and a
// front server is not: nginx answers 400 and closes for each of these, and the server does the
// same, before routing. Pure functions of bytes; the serving threads call them once per request.
namespace RequestSyntax {

// RFC 9110 5.6.2: one or more tchar (letters, digits and !#$%&'*+-.^_`|~).
bool isToken(QByteArrayView text);

// Why the method is malformed (not a token: "G@T", a tab inside), or null. An unknown token
// ("get", "PATCH") is no syntax error: it is 405 as DRF answers it.
const char *methodProblem(QByteArrayView method);

// Why a header field line is malformed, as nginx judges it, or null: an empty name, or one with a
// space or control byte (a space before the colon: RFC 9112 5.1 makes that a MUST-400, as
// "Transfer-Encoding : chunked" is a smuggling vector), or a bare CR in the value (some parsers
// take it for a line end; RFC 9110 5.5). Other names that are no token ("X/Y", "X-\xc3\xa9") pass,
// as nginx ignores them: no handler reads them. A NUL ends libmicrohttpd's copy of a value
// unseen, and it joins an obs-fold continuation to the line before without a space.
const char *fieldProblem(QByteArrayView name, QByteArrayView value);

// A request target as sent, made the origin-form the router takes ("/path?query"):
// - absolute-form ("http://host:8000/api/foos/1/"), which an origin server must accept
//   (RFC 9112 3.2.2): the authority is taken off and stands in for the Host header;
// - a fragment ("#x", which no client should send) is dropped, as nginx and gunicorn do;
// - spaces libmicrohttpd left at the end (several before the version) are dropped.
// Malformed: a space or control character inside, a '%' not followed by two hex digits in the
// path or "%00" there (libmicrohttpd decodes the path into a C string), userinfo in an authority, anything else that starts with neither '/' nor a scheme, and
// '*' other than for OPTIONS.
struct Target {
    QByteArray target;    // when changed: the origin-form (or "*"); else null (what was sent is it)
    QByteArray authority; // absolute-form's host[:port]; null otherwise
    bool changed = false; // differs from what was sent: the path must be decoded from it
    const char *problem = nullptr;
};
Target originForm(QByteArrayView sent, QByteArrayView method);

// The path of an origin-form target, percent-decoded as libmicrohttpd and Django decode it.
QByteArray decodedPath(QByteArrayView target);

} // namespace RequestSyntax
