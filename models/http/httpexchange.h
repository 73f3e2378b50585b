#pragma once

#include "http/httpresponses.h"

#include <QByteArray>
#include <QDateTime>
#include <QElapsedTimer>
#include <QSet>

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>

struct MHD_Connection;
class SuspendRegistry;

// What a handler needs to know of a request, copied out of libmicrohttpd on the first call of the
// access handler so that it can travel to a worker thread.
struct HttpRequest {
    QByteArray method;
    QByteArray path;   // percent-decoded, as Django routes it
    QByteArray target; // the request target in origin-form ("/api/foos?page=2"; RequestSyntax)
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
    int lane = -1; // the serving thread (its ResponseCache lane); -1: none
    QByteArray body; // bounded by HttpServerOptions::bodyLimit

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
    // coding other than plain "chunked", which libmicrohttpd cannot decode and would wait on: 501),
    // or nothing.
    std::optional<std::pair<int, QByteArray>> framingProblem() const;
};

// Django's host validation (DisallowedHost → 400), case-insensitive: a name of letters, digits,
// dots and dashes (not just "."), or an [IPv6] literal; an optional :port. Empty is invalid.
bool validHost(QByteArrayView host);

// The answer to a request whose connection is suspended while a worker computes it. complete() may
// be called on any thread, once (later calls are ignored), also after the server stopped (then it
// does nothing): it stores the reply and resumes the connection, whose next handler call queues it.
class Deferral {
public:
    Deferral(std::shared_ptr<SuspendRegistry> registry, MHD_Connection *connection);
    void complete(Reply reply);

private:
    friend class SuspendRegistry;
    std::shared_ptr<SuspendRegistry> m_registry;
    MHD_Connection *m_connection;
    // Guarded by the registry's mutex.
    std::optional<Reply> m_reply;
    bool m_suspended = false;
    QElapsedTimer m_waiting; // since the connection was suspended
};

// Knows every suspended connection, so that a late completion never resumes a connection of a
// stopped daemon, and stop() can answer (and resume) those still waiting before the daemon goes.
class SuspendRegistry {
public:
    // MHD thread, inside the access handler: the reply when it is already there, else suspends.
    std::optional<Reply> suspendUnlessDone(Deferral &deferral);
    // MHD thread, on the call after the resume.
    std::optional<Reply> take(Deferral &deferral);
    void complete(Deferral &deferral, Reply reply);
    // Answers every suspended connection with `reply`, resumes them and closes the registry:
    // completions after this do nothing. Called before MHD_stop_daemon.
    void resumeAllAndClose(const Reply &reply);
    // Answers with `reply` every connection suspended for `limitMs` or longer (a worker stuck on
    // a database that does not answer), and resumes it; the worker's late answer is dropped.
    // Returns how many. Any thread.
    int expire(qint64 limitMs, const Reply &reply);
    int suspendedCount() const;

private:
    mutable std::mutex m_mutex;
    bool m_open = true;
    QSet<Deferral *> m_suspended;
};

// One request's state from the first call of the access handler to libmicrohttpd's "completed"
// notice. Owned by the connection (con_cls) and touched only by the MHD thread serving it.
struct HttpExchange {
    HttpRequest request;
    QElapsedTimer timer;
    QDateTime startedAt;
    std::shared_ptr<SuspendRegistry> registry;
    MHD_Connection *connection = nullptr;
    std::shared_ptr<Deferral> deferral;
    Reply reply;            // what was queued, for the log
    bool answered = false;  // a response was queued
    bool logged = true;     // someone reads the request log (then startedAt is set)
    bool corked = false;    // TCP_CORK set for a sendfile() answer, taken off when it is sent
    bool sentDirectly = false; // the answer went to the socket past libmicrohttpd (ConnectionMemory)
    qint64 bodySeen = 0;    // request body bytes received (also those ignored)

    // For a handler that answers later: suspends the connection once the handler returns.
    std::shared_ptr<Deferral> defer();
};

// Counters for /metrics: requests by status class and bytes of bodies sent. Lock-free.
struct HttpCounters {
    std::array<std::atomic<qint64>, 6> requestsByClass {}; // index 1..5: 1xx..5xx; 0: dropped (no answer)
    std::atomic<qint64> bodyBytes { 0 };
    std::atomic<qint64> connectionsOpen { 0 };
    // The same by serving thread (how the acceptor placed them).
    static constexpr int maxThreads = 256;
    std::atomic<int> threads { 1 };
    std::array<std::atomic<qint64>, maxThreads> connectionsByThread {};

    // `waiting`: connections suspended now.
    QByteArray prometheus(int waiting) const;
};
