#pragma once

#include "api/httprequest.h"
#include "api/replylater.h"

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

// The answer to a request whose connection is suspended while a worker computes it. complete() may
// be called on any thread, once (later calls are ignored), also after the server stopped (then it
// does nothing): it stores the reply and resumes the connection, whose next handler call queues it.
class Deferral : public ReplyLater {
public:
    Deferral(std::shared_ptr<SuspendRegistry> registry, MHD_Connection *connection);
    void complete(Reply reply) override;

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
    qint64 bodyBytes = 0;   // of the body sent (none for HEAD)
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
