#pragma once

#include "api/reply.h"

// The answer to a request that an endpoint completes later, on a worker: the transport holds the
// request until complete() (any thread, once; later calls are ignored, and so is a call after the
// transport gave up on the request).
class ReplyLater {
public:
    virtual ~ReplyLater() = default;
    virtual void complete(Reply reply) = 0;
};
