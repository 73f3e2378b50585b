#pragma once

#include "core/result.h"

#include <sys/socket.h>

#include <array>
#include <atomic>
#include <functional>
#include <optional>
#include <thread>
#include <vector>

// Which serving thread takes a new connection: the one that belongs to the CPU the connection's
// packets arrived on (SO_INCOMING_CPU: the thread pinned to that CPU, else the CPU modulo the
// threads), unless that one already has `slack`
// more connections than the least loaded: then the least loaded. On loopback the incoming CPU is
// the client thread's at connect(), so when a client's threads connect from different CPUs the
// connections of each go to one serving thread and the two can take turns on one core (nginx's
// workers end up so by the accident of who accepts first), instead of every client thread waiting
// on every serving thread (figures: docs/benchmarks.md). When the client threads all connect from one
// CPU (in about half of wrk's runs here) the slack spreads them: round robin again, no worse.
// From a network card the incoming CPU is that of the receive queue: the same locality.
// place() on one thread; release() and open() on any.
class ConnectionPlacement {
public:
    static constexpr int slack = 2;
    static constexpr int maxWorkers = 256;

    // `workerCpus[i]`: the CPU worker i is pinned to, its connections' CPU; empty: not pinned,
    // then a CPU's worker is the CPU's number modulo the workers.
    void reset(int workers, const std::vector<int> &workerCpus = {});
    // The worker for a connection whose packets arrived on `incomingCpu` (-1: unknown), counted.
    int place(int incomingCpu);
    void release(int worker);
    int open(int worker) const;

private:
    int m_workers = 1;
    int m_next = 0; // where the search for the least loaded starts: round robin among equals
    std::vector<int> m_workerOfCpu; // by CPU number: the worker pinned to it, or -1
    std::array<std::atomic<int>, maxWorkers> m_open {};
};

// The listening socket of the HTTP server, accepted on a thread of its own, each connection
// handed to the serving thread ConnectionPlacement picks (libmicrohttpd's thread pool lets
// whichever worker wakes first accept, which splits connections unevenly). Also keeps the connection limit the way a listening server should: at the
// limit nothing is accepted, so a new client waits in the kernel's queue instead of being closed, and
// the connection idle longest is closed to make room for it (else idle clients held the queue for
// a --timeout each).
// start() and stop() on one thread; released() any thread.
class Acceptor {
public:
    // Takes a socket that is now the callee's, or closes it; false when it could not be taken.
    using Handoff = std::function<bool(int socket, const sockaddr *address, socklen_t length, int worker)>;

    Acceptor();
    Acceptor(const Acceptor &) = delete;
    Acceptor &operator=(const Acceptor &) = delete;
    ~Acceptor();

    // The listening address as a sockaddr (an IPv4 or IPv6 literal; "localhost" is 127.0.0.1).
    static std::optional<sockaddr_storage> address(const QString &address, quint16 port, bool *ipv6);
    // The soft limit on open descriptors up to the hard one, as nginx's worker_rlimit_nofile: every
    // connection and every in-memory file of the sendfile band holds one (ApiShared sizes the
    // band's budget from what is left after the connections).
    static void raiseDescriptorLimit();

    // Binds and listens (nothing is accepted yet); the bound port.
    Result<quint16> listen(const sockaddr *address, socklen_t length);
    // Makes room at the limit by closing an idle connection; false when there is none.
    using Reclaim = std::function<bool()>;
    // `workerCpus`: see ConnectionPlacement::reset. `reclaim`: called at the limit while a client
    // waits in the queue, once per connection that closes after it.
    void start(Handoff handoff, int limit, int workers, const std::vector<int> &workerCpus = {}, Reclaim reclaim = {});
    // Stops accepting and closes the listening socket; handed-off connections are not touched.
    void stop();
    // A connection handed to `worker` has closed: room for one more.
    void released(int worker);

private:
    void run();
    bool acceptSome();

    int m_listen = -1;
    // eventfd: stop() and released() at the limit. Lives as long as the object: released() may
    // run on a serving thread while stop() runs, and must never write to a reused descriptor.
    const int m_wake;
    int m_limit = 0;
    std::atomic<int> m_open { 0 };
    std::atomic<bool> m_stopping { false };
    ConnectionPlacement m_placement;
    Handoff m_handoff;
    Reclaim m_reclaim;
    std::thread m_thread;
};
