#pragma once

#include "core/result.h"

#include <sys/socket.h>

#include <atomic>
#include <functional>
#include <thread>

// The listening socket of the HTTP server, accepted on a thread of its own. libmicrohttpd's thread
// pool lets every worker accept from one shared socket: whichever wakes first wins, and measured
// here 64 keep-alive connections split 40/60 between two workers, so the busier one's clients saw
// twice the tail latency. Handing each accepted socket to MHD_add_connection() spreads them evenly
// (libmicrohttpd picks the worker by socket number). Also keeps the connection limit the way a
// listening server should: at the limit nothing is accepted, so a new client waits in the
// kernel's queue instead of being closed. start() and stop() on one thread; released() any thread.
class Acceptor {
public:
    // Takes a socket that is now the callee's, or closes it; false when it could not be taken.
    using Handoff = std::function<bool(int socket, const sockaddr *address, socklen_t length)>;

    Acceptor();
    Acceptor(const Acceptor &) = delete;
    Acceptor &operator=(const Acceptor &) = delete;
    ~Acceptor();

    // Binds and listens (nothing is accepted yet); the bound port.
    Result<quint16> listen(const sockaddr *address, socklen_t length);
    void start(Handoff handoff, int limit);
    // Stops accepting and closes the listening socket; handed-off connections are not touched.
    void stop();
    // A handed-off connection has closed: room for one more.
    void released();

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
    Handoff m_handoff;
    std::thread m_thread;
};
