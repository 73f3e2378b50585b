#pragma once

#include <QByteArray>

#include <optional>

struct MHD_Connection;

// libmicrohttpd 0.9.75 (Debian 12's) answers some requests itself, right after their headers and
// before any handler runs: a malformed or too large Content-Length (400, 413) or a Cookie header
// too big to copy into the connection's memory (431). It queues its error, builds its head, and
// then, its state machine going on past the error, builds the head a second time: the client gets
// the status line and headers twice, then an HTML body.
//
// LibraryAnswers answers those requests first. libmicrohttpd logs such an error before it queues
// it, on the connection's own thread. Of that thread's connections whose request line is read and
// whose handler has not run, the one libmicrohttpd says has its headers in and nothing queued is
// the one: only a connection in the middle of parsing its headers is in that state (its handler
// runs in the same pass). A DRF-style JSON error with `Connection: close` goes straight to its
// socket; libmicrohttpd's own (doubled) answer follows it, past its Content-Length, and the
// connection closes. (Shutting the socket to keep that out made libmicrohttpd crash.) The method is
// not known there: a HEAD gets the body too.
namespace LibraryAnswers {

// All on the serving thread of `connection`.
void requestLineRead(MHD_Connection *connection); // the URI callback
void handlerReached(MHD_Connection *connection);  // the access handler's first call
void closed(MHD_Connection *connection);          // the connection's closed notice

// The status of libmicrohttpd's error answer when `message` (its log line) announces one.
std::optional<int> announcedStatus(const QByteArray &message);

// From the error logger, with a message announcing `status`: answers the connection in question
// and returns true, or returns false when there is none to be sure of.
bool answerInstead(int status);

} // namespace LibraryAnswers
