#pragma once

#include "api/reply.h"

#include <optional>

struct MHD_Connection;

// libmicrohttpd (0.9.75, Debian 12's) keeps everything of a request in one memory pool per
// connection (HttpServerOptions::connectionMemory): the request line and headers in a read buffer
// of half the pool, then from the other half a record per header, a copy of the Cookie header (it
// parses cookies, always) and the answer's header lines. Headers that leave no room for the
// answer's header lines get the connection closed without a word: our answer was queued, but
// libmicrohttpd cannot build its head. So, at the handler's first call, requests whose headers
// would crowd out the answer are refused with 431, written straight to the socket.
// (A Cookie too big to copy into the pool libmicrohttpd refuses itself: see LibraryAnswers.)
namespace ConnectionMemory {

// The largest request line + headers accepted with `poolBytes` of connection memory: half of it,
// less a margin, so that the read buffer never grows into the other half (9.5 KiB of 20 KiB).
qint64 headerLimit(qint64 poolBytes);

// At the access handler's first call: 431 (a DRF-style JSON error) when the request line and
// headers pass headerLimit(), or their records and the Cookie copy leave less than
// `answerHeadBytes` of the pool's second half; else nothing.
std::optional<Reply> refusal(MHD_Connection *connection, qint64 poolBytes, qint64 answerHeadBytes);

// At the URI callback, before libmicrohttpd parses the query: why the request cannot be served
// from the pool, or nothing. A target past headerLimit() grows the read buffer into the second
// half; query parameters need a record each there, with `answerHeadBytes` to spare. libmicrohttpd,
// out of memory for the records, queues a 431 it never sends and leaves the connection waiting for
// --timeout; so such a request gets 414 straight away (refuseEarly).
std::optional<QByteArray> targetProblem(const char *uri, qint64 poolBytes, qint64 answerHeadBytes);
// 414 with `detail` written to the socket, whose both directions are then shut: libmicrohttpd
// sends nothing more and closes the connection (at once, or at its timeout when it waits on its
// own queued error). The URI callback does not know the method: a HEAD gets the body too.
void refuseEarly(MHD_Connection *connection, const QByteArray &detail);

// Where the server answers past libmicrohttpd: what happens to the socket afterwards.
enum class Then { KeepOpen, ShutBoth };
// Writes `reply` as a complete HTTP/1.1 answer with `Connection: close` (no body for HEAD) to the
// connection's socket without blocking (the answer is small, the socket's send buffer empty at
// this point), then shuts both directions for ShutBoth; false when the socket took none of it.
// Callers make libmicrohttpd close the connection: the handler returns MHD_NO, or the socket is
// shut, or (LibraryAnswers) the library's own error answer ends with a close.
bool answerDirectly(MHD_Connection *connection, const Reply &reply, bool head, Then then);

} // namespace ConnectionMemory
