#include "redisconnection.h"

#include <QLoggingCategory>
#include <QObject>
#include <QVarLengthArray>

#include <algorithm>
#include <cerrno>

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

Q_LOGGING_CATEGORY(lcRedis, "preserve.cache.redis", QtInfoMsg) // debug lines only when asked for (QT_LOGGING_RULES)

namespace {

using namespace std::chrono_literals;

constexpr int connectTimeoutMs = 1000;
constexpr int commandTimeoutMs = 2000;
constexpr auto initialBackoff = 100ms;
constexpr auto maximumBackoff = 5000ms;

timeval toTimeval(int ms)
{
    return { ms / 1000, (ms % 1000) * 1000 };
}

// Whether the server has closed a connection we hold and have not used since: a restart, Redis's
// own `timeout` for idle clients, a proxy. A poll that takes no time, then a peek: the end of the
// stream reads as 0 bytes. Anything else (no event, bytes, an error we cannot read) says "open"
// and leaves the verdict to the command itself.
bool closedWhileIdle(const redisContext *context)
{
    pollfd watched { context->fd, POLLIN | POLLRDHUP, 0 };
    if (::poll(&watched, 1, 0) <= 0)
        return false;
    if (watched.revents & (POLLHUP | POLLRDHUP | POLLERR))
        return true;
    char byte = 0;
    const ssize_t peeked = ::recv(context->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return peeked == 0 || (peeked < 0 && (errno == ECONNRESET || errno == EPIPE));
}

} // namespace

void RedisConnection::ignoreSigpipe()
{
    struct sigaction current {};
    if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL)
        signal(SIGPIPE, SIG_IGN);
}

QString RedisConnection::contextError(const redisContext *context)
{
    if (!context)
        return QObject::tr("out of memory");
    const QByteArray message(context->errstr);
    if (context->err == REDIS_ERR_IO && message == QByteArray(strerror(EAGAIN)))
        return QObject::tr("no answer in time");
    if (context->err == REDIS_ERR_EOF)
        return QObject::tr("the server closed the connection");
    return message.isEmpty() ? QObject::tr("error %1").arg(context->err) : QString::fromLocal8Bit(message);
}

namespace {

// One command of the connection's setup (AUTH, SELECT, PING) with hiredis's own reply objects.
// An error reply means the server refuses our configuration: Invalid, retrying will not help.
bool setUp(redisContext *context, const RedisCommand &command, const QString &refusal, const QString &where, Error *error)
{
    QVarLengthArray<const char *, 4> argv;
    QVarLengthArray<size_t, 4> lengths;
    for (const QByteArray &argument : command) {
        argv.append(argument.constData());
        lengths.append(size_t(argument.size()));
    }
    const HiredisReplyPtr reply(
        static_cast<redisReply *>(redisCommandArgv(context, int(argv.size()), argv.data(), lengths.data())));
    if (!reply) {
        *error = Error::unavailable(QObject::tr("Redis at %1 is unavailable: %2")
                                        .arg(where, RedisConnection::contextError(context)));
    } else if (reply->type == REDIS_REPLY_ERROR) {
        *error = Error::invalid(refusal.arg(where, QString::fromUtf8(reply->str, qsizetype(reply->len))));
    }
    return reply && reply->type != REDIS_REPLY_ERROR;
}

} // namespace

redisContext *RedisConnection::connect(const RedisConfig &config, int connectTimeoutMs_, int commandTimeoutMs_,
                                       Error *error)
{
    const QString where = config.address();
    redisContext *context = config.unixSocket.isEmpty()
        ? redisConnectWithTimeout(config.host.toUtf8().constData(), config.port, toTimeval(connectTimeoutMs_))
        : redisConnectUnixWithTimeout(config.unixSocket.toUtf8().constData(), toTimeval(connectTimeoutMs_));
    if (!context || context->err) {
        *error = Error::unavailable(QObject::tr("Redis at %1 is unavailable: %2").arg(where, contextError(context)));
        redisFree(context);
        return nullptr;
    }
    redisSetTimeout(context, toTimeval(commandTimeoutMs_));
    if (config.unixSocket.isEmpty())
        redisEnableKeepAlive(context);

    bool ok = true;
    if (!config.password.isEmpty()) {
        RedisCommand auth { "AUTH" };
        if (!config.user.isEmpty())
            auth << config.user.toUtf8();
        auth << config.password.toUtf8();
        ok = setUp(context, auth, QObject::tr("Redis at %1 refused the credentials: %2"), where, error);
    }
    if (ok && config.database != 0) {
        ok = setUp(context, { "SELECT", QByteArray::number(config.database) },
                   QObject::tr("Redis at %1 refused the database: %2"), where, error);
    }
    // Without AUTH or SELECT nothing has been said yet: a PING finds a server that wants a password
    // (or is no Redis) now rather than at the first real command.
    if (ok && config.password.isEmpty() && config.database == 0)
        ok = setUp(context, { "PING" }, QObject::tr("Redis at %1 refused the connection: %2"), where, error);
    if (!ok) {
        redisFree(context);
        return nullptr;
    }
    return context;
}

RedisConnection::RedisConnection(RedisConfig config)
    : m_config(std::move(config))
    , m_backoff(initialBackoff)
{
}

RedisConnection::~RedisConnection()
{
    if (m_context)
        redisFree(m_context);
}

Status RedisConnection::open()
{
    ignoreSigpipe();
    Error error;
    m_context = connect(m_config, connectTimeoutMs, commandTimeoutMs, &error);
    if (!m_context)
        return error;
    useRedisReplies(m_context);
    return success();
}

void RedisConnection::scheduleRetry(const Error &error)
{
    m_failure = error.message;
    m_failureKind = error.kind;
    m_retryAt = Clock::now() + m_backoff;
    m_backoff = std::min(m_backoff * 2, std::chrono::milliseconds(maximumBackoff));
    qCInfo(lcRedis, "%s", qPrintable(m_failure));
}

Error RedisConnection::unavailable() const
{
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(m_retryAt - Clock::now());
    const double seconds = std::max<qint64>(left.count(), 100) / 1000.0;
    return { m_failureKind, QObject::tr("%1 (retrying in %2 s)").arg(m_failure, QString::number(seconds, 'f', 1)) };
}

// Connects unless connected, at most once per backoff period: calls in between fail at once. A
// connection the server closed while we did not use it is made again now, before anything is sent
// on it: that is no outage, and the call must not fail (nor every call of the backoff after it).
Status RedisConnection::ensureConnected()
{
    if (m_context && closedWhileIdle(m_context)) {
        qCInfo(lcRedis, "Redis at %s closed an idle connection; connecting again", qPrintable(m_config.address()));
        redisFree(m_context);
        m_context = nullptr;
        m_retryAt = {};
    }
    if (m_context)
        return success();
    if (Clock::now() < m_retryAt)
        return unavailable();
    Error error;
    m_context = connect(m_config, connectTimeoutMs, commandTimeoutMs, &error);
    if (!m_context) {
        scheduleRetry(error);
        return unavailable();
    }
    m_backoff = initialBackoff;
    useRedisReplies(m_context);
    qCInfo(lcRedis, "connected to Redis at %s", qPrintable(m_config.address()));
    return success();
}

Error RedisConnection::lost()
{
    const QString reason = contextError(m_context);
    redisFree(m_context);
    m_context = nullptr;
    scheduleRetry(Error::unavailable(QObject::tr("Redis at %1 is unavailable: %2").arg(m_config.address(), reason)));
    return unavailable();
}

Result<std::vector<RedisReplyPtr>> RedisConnection::pipeline(const std::vector<RedisCommand> &commands)
{
    if (Status connected = ensureConnected(); !connected)
        return connected.error();
    for (const RedisCommand &command : commands) {
        QVarLengthArray<const char *, 24> argv;
        QVarLengthArray<size_t, 24> lengths;
        for (const QByteArray &argument : command) {
            argv.append(argument.constData());
            lengths.append(size_t(argument.size()));
        }
        if (redisAppendCommandArgv(m_context, int(argv.size()), argv.data(), lengths.data()) != REDIS_OK)
            return lost();
    }
    std::vector<RedisReplyPtr> replies;
    replies.reserve(commands.size());
    for (size_t i = 0; i < commands.size(); ++i) {
        void *reply = nullptr;
        if (redisGetReply(m_context, &reply) != REDIS_OK || !reply)
            return lost();
        replies.emplace_back(static_cast<RedisReply *>(reply));
    }
    return replies;
}
