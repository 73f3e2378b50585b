#include "redisreply.h"

#include <algorithm>
#include <new>

namespace {

// The reader calls these on the store's thread. They must not throw (hiredis is C): out of memory
// they return nullptr, which the reader reports as an error.
void *linkToParent(const redisReadTask *task, RedisReply *reply)
{
    if (reply && task->parent)
        static_cast<RedisReply *>(task->parent->obj)->elements[size_t(task->idx)].reset(reply);
    return reply;
}

void *createString(const redisReadTask *task, char *data, size_t length)
{
    auto *reply = new (std::nothrow) RedisReply;
    if (reply) {
        reply->type = task->type;
        reply->str = QByteArray(data, qsizetype(length));
    }
    return linkToParent(task, reply);
}

void *createArray(const redisReadTask *task, int elements)
{
    auto *reply = new (std::nothrow) RedisReply;
    if (reply) {
        reply->type = REDIS_REPLY_ARRAY;
        reply->elements.resize(size_t(std::max(elements, 0)));
    }
    return linkToParent(task, reply);
}

void *createInteger(const redisReadTask *task, long long value)
{
    auto *reply = new (std::nothrow) RedisReply;
    if (reply) {
        reply->type = REDIS_REPLY_INTEGER;
        reply->integer = value;
    }
    return linkToParent(task, reply);
}

void *createNil(const redisReadTask *task)
{
    return linkToParent(task, new (std::nothrow) RedisReply);
}

void freeReply(void *reply)
{
    delete static_cast<RedisReply *>(reply);
}

redisReplyObjectFunctions qtReplyFunctions { createString, createArray, createInteger, createNil, freeReply };

// The reader keeps a buffer up to this size between replies instead of freeing it after each one:
// a fresh buffer for every large body costs more in page faults than the copy itself.
constexpr size_t keptReaderBuffer = 8 * 1024 * 1024;

} // namespace

void useRedisReplies(redisContext *context)
{
    context->reader->fn = &qtReplyFunctions;
    context->reader->maxbuf = keptReaderBuffer;
}

QByteArray replyText(const RedisReply *reply)
{
    return reply && (reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS
                     || reply->type == REDIS_REPLY_ERROR)
        ? reply->str
        : QByteArray();
}

bool isErrorReply(const RedisReply *reply, const char *code)
{
    return reply->type == REDIS_REPLY_ERROR && (!code || reply->str.startsWith(code));
}
