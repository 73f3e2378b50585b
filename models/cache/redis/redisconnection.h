#pragma once

#include "cache/redis/redisconfig.h"
#include "cache/redis/redisreply.h"

#include <chrono>
#include <vector>

// One connection to Redis for one thread, which comes back by itself: after Redis went away,
// calls fail fast with Error::Kind::Unavailable ("… (retrying in 0.4 s)") and a later call
// reconnects, waiting longer between attempts (100 ms doubling to 5 s, back to 100 ms after a
// success), so a dead server costs no time per request. A connection the server closed while it was
// idle (a restart, Redis's `timeout`) is noticed before the next call and made again at once.
class RedisConnection {
public:
    explicit RedisConnection(RedisConfig config);
    ~RedisConnection();
    RedisConnection(const RedisConnection &) = delete;
    RedisConnection &operator=(const RedisConnection &) = delete;

    const RedisConfig &config() const { return m_config; }
    // Connects now, failing with the reason when it cannot (no retry schedule yet).
    Status open();
    // Sends every command, then reads every reply: one round trip however many commands. After an
    // I/O error or a timeout the connection is dropped (replies may be half read), never reused.
    Result<std::vector<RedisReplyPtr>> pipeline(const std::vector<RedisCommand> &commands);

    // The steps every connection of ours takes, shared with the watcher; any thread.
    // Connects (giving up after `connectTimeoutMs`), sets the command timeout, AUTHs and SELECTs.
    // nullptr with `error` set when that fails: Unavailable when Redis cannot be reached, Invalid
    // when it refuses the password or the database.
    static redisContext *connect(const RedisConfig &config, int connectTimeoutMs, int commandTimeoutMs, Error *error);
    // "Connection refused", "timed out", … from a failed context.
    static QString contextError(const redisContext *context);
    // hiredis writes with write(): a write to a Redis that just died must be an error, not the end
    // of the program. Ignores SIGPIPE for the process unless somebody handles it.
    static void ignoreSigpipe();

private:
    Status ensureConnected();
    void scheduleRetry(const Error &error);
    Error unavailable() const;
    Error lost();

    using Clock = std::chrono::steady_clock;
    RedisConfig m_config;
    redisContext *m_context = nullptr;
    QString m_failure; // why the last attempt failed, while waiting to retry
    Error::Kind m_failureKind = Error::Kind::Unavailable;
    Clock::time_point m_retryAt {};
    std::chrono::milliseconds m_backoff;
};
