#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>

#include <optional>
#include <utility>

// What the API needs to know of a request, copied out of the transport when its headers are in,
// so that it can travel to a worker thread.
struct HttpRequest {
    QByteArray method;
    QByteArray path;   // percent-decoded, as Django routes it
    QByteArray target; // the request target in origin-form ("/api/foos?page=2")
    QByteArray query;  // raw, after '?'
    QByteArray version;
    QByteArray host;   // the Host header: null when absent, empty when sent empty
    QByteArray authority; // an absolute-form target's host[:port], which takes the Host header's place; else null
    int hostHeaders = 0; // how many Host header lines came
    const char *syntaxProblem = nullptr; // why the method, target or a header field is malformed (RequestSyntax)
    QByteArray transferEncoding; // null when absent; the first line's
    int transferEncodingHeaders = 0;
    int contentLengthHeaders = 0;
    std::optional<quint64> firstChunkSize; // a chunked body's first size line, when it came with the headers
    QByteArray accept; // null when the request has no Accept header
    QByteArray acceptEncoding;
    QByteArray ifNoneMatch;
    QByteArray authorization;
    QByteArray contentType;
    QByteArray peer;
    int lane = -1; // the serving thread; -1: none
    QByteArray body; // bounded by the transport's body limit

    // The host that names this server in links: the authority, else the Host header.
    const QByteArray &linkHost() const { return authority.isNull() ? host : authority; }

    bool isHead() const { return method == "HEAD"; }
    bool isGetOrHead() const { return method == "GET" || method == "HEAD"; }
    // A query parameter decoded as Django does ('+' is a space; the last value wins).
    std::optional<QByteArray> queryValue(const QByteArray &name) const;
    // All parameters in order, decoded.
    QList<std::pair<QByteArray, QByteArray>> queryItems() const;
    // Why the Host header makes this a bad request (RFC 9112 3.2: an HTTP/1.1 request without one,
    // any request with two, or a value Django's host validation refuses — the header's and an
    // absolute-form target's authority), or null.
    const char *hostProblem() const;
    // Why the body's framing makes this a bad request, as nginx judges it (both Content-Length and
    // Transfer-Encoding, two lines of either: 400, the smuggling vectors of RFC 9112 6.3; a
    // coding other than plain "chunked", which the transport cannot decode and would wait on: 501),
    // or nothing.
    std::optional<std::pair<int, QByteArray>> framingProblem() const;
};

// Django's host validation (DisallowedHost → 400), case-insensitive: a name of letters, digits,
// dots and dashes (not just "."), or an [IPv6] literal; an optional :port. Empty is invalid.
bool validHost(QByteArrayView host);
