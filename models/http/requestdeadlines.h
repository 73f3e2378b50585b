#pragma once

#include <QDeadlineTimer>
#include <QHash>

#include <mutex>

struct MHD_Connection;

// A request must be complete (request line and headers) within the timeout of the connection
// opening or of its previous answer. libmicrohttpd 0.9.75 only drops a connection that is idle for
// the whole timeout, so a client trickling a byte a second (slowloris) held a connection forever.
// Expired connections are shut down (shutdown(2), not close: the socket stays libmicrohttpd's,
// which sees the end of the stream and closes it on its own thread). The serving threads report
// what happens; the server's timer calls expire(). Thread-safe.
class RequestDeadlines {
public:
    void setTimeout(int seconds) { m_timeoutMs = qint64(seconds) * 1000; }
    // Serving thread: the connection opened, or answered a request and may send another.
    void waitForRequest(MHD_Connection *connection);
    // Serving thread: a request's headers are in.
    void requestArrived(MHD_Connection *connection);
    // Serving thread, when libmicrohttpd reports the connection closed (before it closes the
    // socket, so expire() never shuts down a descriptor that was reused meanwhile).
    void closed(MHD_Connection *connection);
    // Any thread: shuts down the connections past their deadline; how many.
    int expire();

private:
    struct Waiting {
        int socket = -1;
        QDeadlineTimer deadline;
        bool expired = false;
    };
    mutable std::mutex m_mutex;
    QHash<MHD_Connection *, Waiting> m_waiting;
    qint64 m_timeoutMs = 30000;
};
