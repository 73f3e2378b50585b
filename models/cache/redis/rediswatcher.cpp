#include "rediswatcher.h"

#include "cache/redis/redisconnection.h"

#include <QLoggingCategory>
#include <QMetaObject>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <thread>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

Q_LOGGING_CATEGORY(lcRedisWatcher, "preserve.cache.redis.watch", QtInfoMsg) // debug lines only when asked for (QT_LOGGING_RULES)

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Short, so that stop() is quick even while a (re)connect attempt is under way.
constexpr int connectTimeoutMs = 400;
constexpr int commandTimeoutMs = 400;
constexpr auto initialBackoff = 100ms;
constexpr auto maximumBackoff = 5000ms;
// A subscriber hears nothing on a quiet channel: it PINGs after this long, and a connection that
// stays silent for twice as long is taken for dead (a host gone without closing the socket).
constexpr auto idlePing = 10s;

// The pk of a pub/sub message ["message", channel, pk]; nullopt for anything else (PING's pong).
std::optional<qint64> messagePk(const redisReply *reply)
{
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3)
        return std::nullopt;
    const redisReply *kind = reply->element[0];
    const redisReply *payload = reply->element[2];
    if (kind->type != REDIS_REPLY_STRING || QByteArrayView(kind->str, qsizetype(kind->len)) != "message"
        || payload->type != REDIS_REPLY_STRING)
        return std::nullopt;
    bool number = false;
    const qint64 pk = QByteArrayView(payload->str, qsizetype(payload->len)).toLongLong(&number);
    return number ? std::optional<qint64>(pk) : std::nullopt;
}

// Connection, SUBSCRIBE and the reading loop run on a std::thread of their own; the signals are
// emitted on the watcher's own thread (posted), so receivers need no locking.
class RedisWatcher final : public StoreWatcher {
public:
    RedisWatcher(RedisConfig config, QObject *parent)
        : StoreWatcher(parent)
        , m_config(std::move(config))
    {
    }
    ~RedisWatcher() override { stop(); }

    // Owner's thread.
    Status start() override
    {
        if (m_thread.joinable())
            return success();
        RedisConnection::ignoreSigpipe();
        m_stopping = false;
        m_wakeFd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        Error error;
        const bool connected = subscribe(&error);
        m_thread = std::thread([this, connected] { run(connected); });
        if (connected) {
            post([this] { emit ready(); }); // subscribed: each message names its change
            return success();
        }
        post([this, message = error.message] { emit unavailable(message); });
        return error;
    }

    // Owner's thread. Wakes the thread through the eventfd, whatever it waits for.
    void stop() override
    {
        if (m_thread.joinable()) {
            m_stopping = true;
            const quint64 one = 1;
            [[maybe_unused]] const auto written = ::write(m_wakeFd, &one, sizeof one);
            m_thread.join();
        }
        if (m_wakeFd >= 0) {
            ::close(m_wakeFd);
            m_wakeFd = -1;
        }
    }

private:
    template <typename Function>
    void post(Function function)
    {
        QMetaObject::invokeMethod(this, std::move(function), Qt::QueuedConnection);
    }

    // Connects and subscribes; m_context is set on success.
    bool subscribe(Error *error)
    {
        m_context = RedisConnection::connect(m_config, connectTimeoutMs, commandTimeoutMs, error);
        if (!m_context)
            return false;
        const QByteArray channel = m_config.channel();
        const char *argv[] = { "SUBSCRIBE", channel.constData() };
        const size_t lengths[] = { 9, size_t(channel.size()) };
        const HiredisReplyPtr reply(static_cast<redisReply *>(redisCommandArgv(m_context, 2, argv, lengths)));
        if (reply && reply->type == REDIS_REPLY_ARRAY)
            return true;
        *error = Error::unavailable(QObject::tr("Redis at %1 did not accept SUBSCRIBE: %2")
                                        .arg(m_config.address(),
                                             reply ? QString::fromUtf8(reply->str, qsizetype(reply->len))
                                                   : RedisConnection::contextError(m_context)));
        dropConnection();
        return false;
    }

    void dropConnection()
    {
        redisFree(m_context);
        m_context = nullptr;
    }

    // Waits on the wake-up eventfd (and `fd` when >= 0); false when stop() was called.
    bool wait(int fd, std::chrono::milliseconds timeout, bool *readable = nullptr)
    {
        pollfd fds[2] = { { m_wakeFd, POLLIN, 0 }, { fd, POLLIN, 0 } };
        const int count = ::poll(fds, fd >= 0 ? 2 : 1, int(timeout.count()));
        if (readable)
            *readable = count > 0 && fd >= 0 && fds[1].revents != 0;
        return !m_stopping;
    }

    // Reads messages until the connection is lost (returns why) or stop() is called (returns "").
    QString readUntilLost()
    {
        auto lastHeard = Clock::now();
        bool pinged = false;
        while (!m_stopping) {
            bool readable = false;
            if (!wait(m_context->fd, 1000ms, &readable))
                return {};
            if (!readable) {
                const auto silence = Clock::now() - lastHeard;
                if (silence > 2 * idlePing)
                    return QObject::tr("no answer to PING");
                if (silence > idlePing && !pinged) {
                    int done = 0;
                    if (redisAppendCommand(m_context, "PING") != REDIS_OK || redisBufferWrite(m_context, &done) != REDIS_OK)
                        return RedisConnection::contextError(m_context);
                    pinged = true;
                }
                continue;
            }
            if (redisBufferRead(m_context) != REDIS_OK)
                return RedisConnection::contextError(m_context);
            lastHeard = Clock::now();
            pinged = false;
            QList<qint64> pks;
            for (;;) {
                void *reply = nullptr;
                if (redisGetReplyFromReader(m_context, &reply) != REDIS_OK)
                    return RedisConnection::contextError(m_context);
                if (!reply)
                    break;
                const HiredisReplyPtr owned(static_cast<redisReply *>(reply));
                if (const auto pk = messagePk(owned.get()); pk && !pks.contains(*pk))
                    pks << *pk;
            }
            if (!pks.isEmpty())
                post([this, pks] { emit entriesChanged(pks); });
        }
        return {};
    }

    // The thread: read while connected, reconnect with backoff while not.
    void run(bool connected)
    {
        auto backoff = initialBackoff;
        bool down = !connected;
        while (!m_stopping) {
            if (!m_context) {
                if (!wait(-1, backoff))
                    break;
                Error error;
                if (!subscribe(&error)) {
                    backoff = std::min(backoff * 2, maximumBackoff);
                    if (!down)
                        post([this, message = error.message] { emit unavailable(message); });
                    down = true;
                    continue;
                }
                backoff = initialBackoff;
                down = false;
                qCInfo(lcRedisWatcher, "subscribed to %s again", qPrintable(m_config.description()));
                // Whatever was published meanwhile is lost: everything may have changed.
                post([this] {
                    emit available();
                    emit everythingChanged();
                    emit ready();
                });
            }
            const QString lost = readUntilLost();
            if (m_stopping)
                break;
            dropConnection();
            down = true;
            const QString message = QObject::tr("Redis at %1 is unavailable: %2").arg(m_config.address(), lost);
            qCInfo(lcRedisWatcher, "%s", qPrintable(message));
            post([this, message] { emit unavailable(message); });
        }
        if (m_context)
            dropConnection();
    }

    const RedisConfig m_config;
    std::thread m_thread;
    std::atomic_bool m_stopping { false };
    int m_wakeFd = -1;
    redisContext *m_context = nullptr; // start() sets the first one, then only the thread touches it
};

} // namespace

std::unique_ptr<StoreWatcher> createRedisWatcher(const RedisConfig &config, QObject *parent)
{
    return std::make_unique<RedisWatcher>(config, parent);
}
