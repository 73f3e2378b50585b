#pragma once

#include <QHash>

#include <atomic>
#include <memory>
#include <mutex>

struct MHD_Connection;

// A request must be complete (request line and headers) within the timeout of the connection
// opening or of its previous answer. libmicrohttpd 0.9.75 only drops a connection that is idle for
// the whole timeout, so a client trickling a byte a second (slowloris) held a connection forever.
// Expired connections are shut down (shutdown(2), not close: the socket stays libmicrohttpd's,
// which sees the end of the stream and closes it on its own thread). The registry is locked once
// per connection; per request a serving thread only stores its slot's deadline. expire() runs on
// the server's timer.
class RequestDeadlines {
public:
    struct Slot {
        int socket = -1;
        std::atomic<qint64> dueMs { 0 }; // monotonic ms; 0 while a request is being handled
        std::atomic<bool> started { false }; // the request line is in (not idle: never reclaimed)
        bool expired = false;            // guarded by the registry's mutex
    };

    void setTimeout(int seconds) { m_timeoutMs = qint64(seconds) * 1000; }
    // Serving thread, when the connection opens; the slot lives until closed().
    Slot *opened(MHD_Connection *connection);
    // Serving thread, when libmicrohttpd reports the connection closed (before it closes the
    // socket, so expire() never shuts down a descriptor that was reused meanwhile).
    void closed(MHD_Connection *connection);
    // Serving thread: the connection answered a request and may send another / a request is in.
    void waitForRequest(Slot &slot) const;
    static void requestArrived(Slot &slot) { slot.dueMs.store(0, std::memory_order_relaxed); }
    // Serving thread: the request line is in, so the connection is no longer idle.
    static void requestStarted(Slot &slot) { slot.started.store(true, std::memory_order_relaxed); }
    // Any thread: shuts down the connections past their deadline; how many.
    int expire();
    // Any thread: shuts down the connection that has waited longest for a request and sent no
    // request line of it yet (kept alive, or just opened), as nginx reuses idle connections when it
    // is out of them. False when every connection is busy with a request.
    bool reclaimIdlest();
    // Any thread: the connections reclaimIdlest() could close now.
    int idleCount();

private:
    std::mutex m_mutex;
    QHash<MHD_Connection *, std::shared_ptr<Slot>> m_slots;
    qint64 m_timeoutMs = 30000;
};
