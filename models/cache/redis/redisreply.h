#pragma once

#include <QByteArray>
#include <QList>

#include <hiredis/hiredis.h>

#include <memory>
#include <vector>

using RedisCommand = QList<QByteArray>;

// A reply as our reader builds it: hiredis's own objects copy every string into a malloc'd buffer
// that we would copy again into a QByteArray; these take the bytes once, from the reader's buffer,
// and an entry shares them (a large body is copied once on its way in).
struct RedisReply {
    int type = REDIS_REPLY_NIL;
    long long integer = 0;
    QByteArray str; // STRING, STATUS, ERROR
    std::vector<std::unique_ptr<RedisReply>> elements; // ARRAY

    const RedisReply *at(size_t i) const { return elements[i].get(); }
    size_t size() const { return elements.size(); }
};
using RedisReplyPtr = std::unique_ptr<RedisReply>;

// Makes `context`'s reader build RedisReply objects (redisGetReply then hands out RedisReply *) and
// keep its buffer between replies instead of freeing it after each large one.
void useRedisReplies(redisContext *context);

// The text of a STRING, STATUS or ERROR reply; empty for any other.
QByteArray replyText(const RedisReply *reply);
// An ERROR reply, whose message starts with `code` when one is given ("WRONGTYPE").
bool isErrorReply(const RedisReply *reply, const char *code = nullptr);

// hiredis's own reply objects, for the few commands sent before useRedisReplies().
struct HiredisReplyDeleter {
    void operator()(redisReply *reply) const { freeReplyObject(reply); }
};
using HiredisReplyPtr = std::unique_ptr<redisReply, HiredisReplyDeleter>;
