#include "redisstore.h"

#include "json/jsonvalue.h"

#include <QCryptographicHash>
#include <QLoggingCategory>
#include <QObject>
#include <QSet>
#include <QUrl>
#include <QUrlQuery>
#include <QVarLengthArray>
#include <QtEndian>

#include <hiredis/hiredis.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <vector>

#include <signal.h>

Q_LOGGING_CATEGORY(lcRedisStore, "preserve.cache.redis", QtInfoMsg) // debug lines only when asked for (QT_LOGGING_RULES)

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int connectTimeoutMs = 1000;
constexpr int commandTimeoutMs = 2000;
constexpr auto initialBackoff = 100ms;
constexpr auto maximumBackoff = 5000ms;

struct HiredisReplyDeleter {
    void operator()(redisReply *reply) const { freeReplyObject(reply); }
};
using Command = QList<QByteArray>;

// A reply as the store's reader builds it: hiredis's own objects copy every string into a malloc'd
// buffer that we would copy again into a QByteArray; these take the bytes once, from the reader's
// buffer, and an entry shares them (a 1.85 MB body is copied once on its way in).
struct Reply {
    int type = REDIS_REPLY_NIL;
    long long integer = 0;
    QByteArray str; // STRING, STATUS, ERROR
    std::vector<std::unique_ptr<Reply>> elements; // ARRAY

    const Reply *at(size_t i) const { return elements[i].get(); }
    size_t size() const { return elements.size(); }
};
using ReplyPtr = std::unique_ptr<Reply>;

// The reader calls these on the store's thread. They must not throw (hiredis is C): out of memory
// they return nullptr, which the reader reports as an error.
void *linkToParent(const redisReadTask *task, Reply *reply)
{
    if (reply && task->parent)
        static_cast<Reply *>(task->parent->obj)->elements[size_t(task->idx)].reset(reply);
    return reply;
}

void *createString(const redisReadTask *task, char *data, size_t length)
{
    auto *reply = new (std::nothrow) Reply;
    if (reply) {
        reply->type = task->type;
        reply->str = QByteArray(data, qsizetype(length));
    }
    return linkToParent(task, reply);
}

void *createArray(const redisReadTask *task, int elements)
{
    auto *reply = new (std::nothrow) Reply;
    if (reply) {
        reply->type = REDIS_REPLY_ARRAY;
        reply->elements.resize(size_t(std::max(elements, 0)));
    }
    return linkToParent(task, reply);
}

void *createInteger(const redisReadTask *task, long long value)
{
    auto *reply = new (std::nothrow) Reply;
    if (reply) {
        reply->type = REDIS_REPLY_INTEGER;
        reply->integer = value;
    }
    return linkToParent(task, reply);
}

void *createNil(const redisReadTask *task)
{
    return linkToParent(task, new (std::nothrow) Reply);
}

void freeReply(void *reply)
{
    delete static_cast<Reply *>(reply);
}

redisReplyObjectFunctions qtReplyFunctions { createString, createArray, createInteger, createNil, freeReply };

// The reader keeps a buffer up to this size between replies instead of freeing it after each one:
// a fresh buffer for every large body costs more in page faults than the copy itself.
constexpr size_t keptReaderBuffer = 8 * 1024 * 1024;

QByteArray text(const Reply *reply)
{
    return reply && (reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS
                     || reply->type == REDIS_REPLY_ERROR)
        ? reply->str
        : QByteArray();
}

bool isError(const Reply *reply, const char *code = nullptr)
{
    return reply->type == REDIS_REPLY_ERROR && (!code || reply->str.startsWith(code));
}

timeval toTimeval(int ms)
{
    return { ms / 1000, (ms % 1000) * 1000 };
}

// XXH64 (byte for byte the reference algorithm, checked against libxxhash): 10 GB/s where zlib's
// CRC-32 does 4 and SHA-256 0.2. Not a defence against malice (anyone who may write to Redis may
// write a matching seal), only against a body, gzip or digest changed by someone else.
namespace xxh64 {
constexpr quint64 p1 = 0x9E3779B185EBCA87ULL, p2 = 0xC2B2AE3D27D4EB4FULL, p3 = 0x165667B19E3779F9ULL,
                  p4 = 0x85EBCA77C2B2AE63ULL, p5 = 0x27D4EB2F165667C5ULL;
inline quint64 rotl(quint64 x, int r) { return (x << r) | (x >> (64 - r)); }
inline quint64 round(quint64 acc, quint64 input) { return rotl(acc + input * p2, 31) * p1; }
inline quint64 merge(quint64 acc, quint64 value) { return (acc ^ round(0, value)) * p1 + p4; }

quint64 hash(QByteArrayView bytes, quint64 seed)
{
    const auto *p = reinterpret_cast<const uchar *>(bytes.data());
    const uchar *const end = p + bytes.size();
    quint64 h;
    if (bytes.size() >= 32) {
        quint64 v1 = seed + p1 + p2, v2 = seed + p2, v3 = seed, v4 = seed - p1;
        do {
            v1 = round(v1, qFromLittleEndian<quint64>(p));
            v2 = round(v2, qFromLittleEndian<quint64>(p + 8));
            v3 = round(v3, qFromLittleEndian<quint64>(p + 16));
            v4 = round(v4, qFromLittleEndian<quint64>(p + 24));
            p += 32;
        } while (end - p >= 32);
        h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18);
        h = merge(merge(merge(merge(h, v1), v2), v3), v4);
    } else {
        h = seed + p5;
    }
    h += quint64(bytes.size());
    for (; end - p >= 8; p += 8)
        h = rotl(h ^ round(0, qFromLittleEndian<quint64>(p)), 27) * p1 + p4;
    if (end - p >= 4) {
        h = rotl(h ^ (quint64(qFromLittleEndian<quint32>(p)) * p1), 23) * p2 + p3;
        p += 4;
    }
    for (; p < end; ++p)
        h = rotl(h ^ (*p * p5), 11) * p1;
    h = (h ^ (h >> 33)) * p2;
    h = (h ^ (h >> 29)) * p3;
    return h ^ (h >> 32);
}
} // namespace xxh64

// Binds digest, body and gzip together: each one's hash seeds the next.
QByteArray sealOf(QByteArrayView digest, QByteArrayView body, QByteArrayView gzip)
{
    const quint64 seal = xxh64::hash(gzip, xxh64::hash(body, xxh64::hash(digest, 0)));
    return QByteArray::number(seal, 16).rightJustified(16, '0');
}

quint32 crcOf(QByteArrayView bytes)
{
    return quint32(crc32_z(0, reinterpret_cast<const Bytef *>(bytes.data()), z_size_t(bytes.size())));
}

// The gzip trailer holds the CRC-32 and size of what it compresses: an unsealed gzip copy that
// belongs to this body is reused, any other is made again.
bool gzipBelongsTo(QByteArrayView gzip, quint32 bodyCrc, qsizetype bodySize)
{
    if (gzip.size() < 18 || uchar(gzip[0]) != 0x1f || uchar(gzip[1]) != 0x8b)
        return false;
    const auto *trailer = reinterpret_cast<const uchar *>(gzip.data() + gzip.size() - 8);
    return qFromLittleEndian<quint32>(trailer) == bodyCrc
        && qFromLittleEndian<quint32>(trailer + 4) == quint32(quint64(bodySize) & 0xffffffffu);
}

// The hash fields of one HGETALL reply (sharing the reply's bytes).
struct HashFields {
    bool hasBody = false;
    QByteArray body, gzip, digest, seal, cachedAt, version, builtBy, buildMicros, changePosition;

    explicit HashFields(const Reply *reply)
    {
        for (size_t i = 0; i + 1 < reply->size(); i += 2) {
            const QByteArray name = text(reply->at(i));
            const QByteArray value = text(reply->at(i + 1));
            if (name == "body") {
                body = value;
                hasBody = true;
            } else if (name == "gzip") {
                gzip = value;
            } else if (name == "digest") {
                digest = value;
            } else if (name == "seal") {
                seal = value;
            } else if (name == "cached_at") {
                cachedAt = value;
            } else if (name == "version") {
                version = value;
            } else if (name == "built_by") {
                builtBy = value;
            } else if (name == "build_us") {
                buildMicros = value;
            } else if (name == "change_position") {
                changePosition = value;
            }
        }
    }

    EntryMetadata metadata() const
    {
        EntryMetadata metadata;
        metadata.cachedAt = QDateTime::fromString(QString::fromLatin1(cachedAt), Qt::ISODateWithMs);
        metadata.serializerVersion = version.toInt();
        metadata.builtBy = QString::fromUtf8(builtBy);
        metadata.buildMicros = buildMicros.toLongLong();
        bool number = false;
        const qint64 position = changePosition.toLongLong(&number);
        metadata.changePosition = number ? position : -1;
        // A foreign entry put here by Preserve keeps saying so.
        metadata.foreign = !metadata.cachedAt.isValid() && metadata.serializerVersion == 0;
        return metadata;
    }
};

} // namespace

namespace {

QString usage()
{
    return QObject::tr("expected redis://[[user]:password@]host[:port][/db] or unix:///path/to/socket[?db=N]");
}

bool parseDatabase(const QString &text, int *database)
{
    bool ok = false;
    const int value = text.toInt(&ok);
    ok = ok && value >= 0 && text.at(0).isDigit();
    if (ok)
        *database = value;
    return ok;
}

Error badDatabase(const QString &text)
{
    return Error::invalid(QObject::tr("the database must be a number from 0 up, not \"%1\"").arg(text));
}

// unix:///path/to/socket[?db=N][&user=U][&password=P]
Status parseUnix(const QUrl &url, RedisConfig &config)
{
    if (!url.host().isEmpty() || url.port() != -1)
        return Error::invalid(QObject::tr("a unix:// URL names a socket path, not a host (%1)").arg(usage()));
    config.unixSocket = url.path(QUrl::FullyDecoded);
    if (!config.unixSocket.startsWith(QLatin1Char('/')) || config.unixSocket.size() < 2)
        return Error::invalid(QObject::tr("a unix:// URL needs an absolute socket path (%1)").arg(usage()));
    const QUrlQuery query(url);
    for (const auto &[key, value] : query.queryItems(QUrl::FullyDecoded)) {
        if (key == QLatin1String("db")) {
            if (!parseDatabase(value, &config.database))
                return badDatabase(value);
        } else if (key == QLatin1String("user")) {
            config.user = value;
        } else if (key == QLatin1String("password")) {
            config.password = value;
        } else {
            return Error::invalid(QObject::tr("unknown option \"%1\" in the Redis URL (%2)").arg(key, usage()));
        }
    }
    return success();
}

// redis://[[user]:password@]host[:port][/db]
Status parseTcp(const QUrl &url, RedisConfig &config)
{
    if (url.hasQuery())
        return Error::invalid(QObject::tr("a redis:// URL takes no options (%1)").arg(usage()));
    if (!url.host().isEmpty())
        config.host = url.host();
    config.port = url.port(6379);
    if (config.port <= 0 || config.port > 65535)
        return Error::invalid(QObject::tr("port %1 is out of range (1 to 65535)").arg(config.port));
    QString path = url.path(QUrl::FullyDecoded);
    if (path.startsWith(QLatin1Char('/')))
        path.remove(0, 1);
    if (!path.isEmpty() && !parseDatabase(path, &config.database))
        return badDatabase(path);
    return success();
}

} // namespace

Result<RedisConfig> RedisConfig::parse(const QString &url, const QString &prefix)
{
    RedisConfig config;
    config.prefix = prefix;
    // Messages never repeat the URL: it may hold a password.
    const QUrl parsed(url.trimmed(), QUrl::StrictMode);
    if (!parsed.isValid() && parsed.errorString().startsWith(QLatin1String("Invalid port")))
        return Error::invalid(QObject::tr("the port must be a number from 1 to 65535 (%1)").arg(usage()));
    if (url.trimmed().isEmpty() || !parsed.isValid() || parsed.scheme().isEmpty())
        return Error::invalid(QObject::tr("not a valid Redis URL (%1)").arg(usage()));
    const QString scheme = parsed.scheme().toLower();
    if (scheme == QLatin1String("rediss"))
        return Error::invalid(
            QObject::tr("rediss:// (TLS) is not supported: Debian's hiredis 0.14 has no TLS (%1)").arg(usage()));
    if (scheme != QLatin1String("redis") && scheme != QLatin1String("unix"))
        return Error::invalid(QObject::tr("unsupported scheme \"%1\" for Redis (%2)").arg(scheme, usage()));

    config.user = parsed.userName(QUrl::FullyDecoded);
    config.password = parsed.password(QUrl::FullyDecoded);
    const Status parts = scheme == QLatin1String("unix") ? parseUnix(parsed, config) : parseTcp(parsed, config);
    if (!parts)
        return parts.error();
    if (!config.user.isEmpty() && config.password.isEmpty())
        return Error::invalid(QObject::tr("the Redis URL names user \"%1\" but no password (a password alone is "
                                          "written redis://:password@host)")
                                  .arg(config.user));
    return config;
}

QString RedisConfig::description() const
{
    if (!unixSocket.isEmpty())
        return QStringLiteral("unix://%1%2").arg(unixSocket, database ? QStringLiteral("?db=%1").arg(database) : QString());
    const QString user_ = user.isEmpty() ? QString() : user + QLatin1Char('@');
    return QStringLiteral("redis://%1%2/%3").arg(user_, address()).arg(database);
}

QString RedisConfig::address() const
{
    if (!unixSocket.isEmpty())
        return unixSocket;
    const QString shownHost = host.contains(QLatin1Char(':')) ? QLatin1Char('[') + host + QLatin1Char(']') : host;
    return QStringLiteral("%1:%2").arg(shownHost).arg(port);
}

QByteArray RedisConfig::key(qint64 pk) const
{
    return prefix.toUtf8() + "foo:" + QByteArray::number(pk);
}

QByteArray RedisConfig::previousKey(qint64 pk) const
{
    return prefix.toUtf8() + "previous:foo:" + QByteArray::number(pk);
}

QByteArray RedisConfig::channel() const
{
    return prefix.toUtf8() + "changes";
}

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
bool setUp(redisContext *context, const Command &command, const QString &refusal, const QString &where, Error *error)
{
    QVarLengthArray<const char *, 4> argv;
    QVarLengthArray<size_t, 4> lengths;
    for (const QByteArray &argument : command) {
        argv.append(argument.constData());
        lengths.append(size_t(argument.size()));
    }
    const std::unique_ptr<redisReply, HiredisReplyDeleter> reply(
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
        Command auth { "AUTH" };
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

struct RedisStore::Private {
    RedisConfig config;
    redisContext *context = nullptr;
    QString failure; // why the last attempt failed, while waiting to retry
    Error::Kind failureKind = Error::Kind::Unavailable;
    Clock::time_point retryAt {};
    std::chrono::milliseconds backoff = initialBackoff;

    ~Private()
    {
        if (context)
            redisFree(context);
    }

    void scheduleRetry(const Error &error)
    {
        failure = error.message;
        failureKind = error.kind;
        retryAt = Clock::now() + backoff;
        backoff = std::min(backoff * 2, maximumBackoff);
        qCInfo(lcRedisStore, "%s", qPrintable(failure));
    }

    Error unavailable() const
    {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(retryAt - Clock::now());
        const double seconds = std::max<qint64>(left.count(), 100) / 1000.0;
        return { failureKind, QObject::tr("%1 (retrying in %2 s)").arg(failure, QString::number(seconds, 'f', 1)) };
    }

    // Connects unless connected, at most once per backoff period: calls in between fail at once.
    Status ensureConnected()
    {
        if (context)
            return success();
        if (Clock::now() < retryAt)
            return unavailable();
        Error error;
        context = RedisConnection::connect(config, connectTimeoutMs, commandTimeoutMs, &error);
        if (!context) {
            scheduleRetry(error);
            return unavailable();
        }
        backoff = initialBackoff;
        useQtReplies();
        qCInfo(lcRedisStore, "connected to Redis at %s", qPrintable(config.address()));
        return success();
    }

    void useQtReplies()
    {
        context->reader->fn = &qtReplyFunctions;
        context->reader->maxbuf = keptReaderBuffer;
    }

    // The connection is in an unknown state after an I/O error or timeout (replies may be half
    // read): it is dropped, never reused.
    Error lost()
    {
        const QString reason = RedisConnection::contextError(context);
        redisFree(context);
        context = nullptr;
        scheduleRetry(Error::unavailable(QObject::tr("Redis at %1 is unavailable: %2").arg(config.address(), reason)));
        return unavailable();
    }

    // Sends every command, then reads every reply: one round trip however many commands.
    Result<std::vector<ReplyPtr>> pipeline(const std::vector<Command> &commands)
    {
        if (Status connected = ensureConnected(); !connected)
            return connected.error();
        for (const Command &command : commands) {
            QVarLengthArray<const char *, 24> argv;
            QVarLengthArray<size_t, 24> lengths;
            for (const QByteArray &argument : command) {
                argv.append(argument.constData());
                lengths.append(size_t(argument.size()));
            }
            if (redisAppendCommandArgv(context, int(argv.size()), argv.data(), lengths.data()) != REDIS_OK)
                return lost();
        }
        std::vector<ReplyPtr> replies;
        replies.reserve(commands.size());
        for (size_t i = 0; i < commands.size(); ++i) {
            void *reply = nullptr;
            if (redisGetReply(context, &reply) != REDIS_OK || !reply)
                return lost();
            replies.emplace_back(static_cast<Reply *>(reply));
        }
        return replies;
    }

    Error refused(const QByteArray &key, const Reply *reply) const
    {
        return Error::database(QObject::tr("Redis at %1 refused the command for %2: %3")
                                   .arg(config.address(), QString::fromUtf8(key), QString::fromUtf8(text(reply))));
    }

    Error corrupt(qint64 pk, const QString &why) const
    {
        return Error::corrupt(QObject::tr("%1 in %2 is not a Foo body: %3")
                                  .arg(QString::fromUtf8(config.key(pk)), config.description(), why));
    }

    Result<EntryPtr> foreignEntry(qint64 pk, QByteArray body) const;
    Result<EntryPtr> entryFromHash(qint64 pk, const Reply *reply) const;
    Result<EntryPtr> entryFrom(qint64 pk, const Reply *reply) const;
    Result<QHash<qint64, EntryPtr>> readStrings(const QList<qint64> &pks);
    Result<QList<EntryInfo>> describe(const QList<std::pair<qint64, QByteArray>> &keys);
};

// Someone else wrote this body: it is served only if it is a Foo body, in canonical bytes.
Result<EntryPtr> RedisStore::Private::foreignEntry(qint64 pk, QByteArray body) const
{
    const Result<JsonValue> value = parseJson(body);
    if (!value)
        return corrupt(pk, value.error().message);
    if (Status shape = checkFooShape(*value); !shape)
        return corrupt(pk, shape.error().message);
    QByteArray canonical = writeCompactJson(*value);
    EntryMetadata metadata;
    metadata.foreign = true;
    return makeEntry(pk, canonical == body ? std::move(body) : std::move(canonical), metadata);
}

Result<EntryPtr> RedisStore::Private::entryFromHash(qint64 pk, const Reply *reply) const
{
    const HashFields fields(reply);
    if (!fields.hasBody)
        return corrupt(pk, QObject::tr("the hash has no body field"));
    QByteArray body = fields.body;
    if (fields.digest.size() == 64 && fields.seal == sealOf(fields.digest, body, fields.gzip))
        return makeEntry(pk, std::move(body), fields.gzip, fields.digest, fields.metadata());
    // Written by something that follows our layout but sets no seal: the slow checks.
    if (fields.seal.isEmpty() && !fields.digest.isEmpty() && digestOf(body) == fields.digest) {
        QByteArray gzip = gzipBelongsTo(fields.gzip, crcOf(body), body.size()) ? fields.gzip : gzipCompress(body);
        return makeEntry(pk, std::move(body), std::move(gzip), fields.digest, fields.metadata());
    }
    qCDebug(lcRedisStore, "%s: the seal does not match the body, a foreign entry", config.key(pk).constData());
    return foreignEntry(pk, std::move(body));
}

// An HGETALL reply: nullptr for a missing key, an error for a key that holds no hash.
Result<EntryPtr> RedisStore::Private::entryFrom(qint64 pk, const Reply *reply) const
{
    if (reply->type == REDIS_REPLY_ARRAY)
        return reply->size() == 0 ? EntryPtr() : entryFromHash(pk, reply);
    return refused(config.key(pk), reply);
}

// GET for keys that hold no hash (WRONGTYPE to HGETALL): foreign bodies or junk.
Result<QHash<qint64, EntryPtr>> RedisStore::Private::readStrings(const QList<qint64> &pks)
{
    std::vector<Command> commands;
    for (qint64 pk : pks)
        commands.push_back({ "GET", config.key(pk) });
    auto replies = pipeline(commands);
    if (!replies)
        return replies.error();
    QHash<qint64, EntryPtr> entries;
    for (qsizetype i = 0; i < pks.size(); ++i) {
        const Reply *reply = (*replies)[size_t(i)].get();
        if (reply->type == REDIS_REPLY_NIL)
            continue; // removed in between
        Result<EntryPtr> entry = reply->type == REDIS_REPLY_STRING
            ? foreignEntry(pks[i], reply->str)
            : Result<EntryPtr>(corrupt(pks[i], QObject::tr("the key holds neither a hash nor a string")));
        if (!entry)
            return entry.error();
        entries.insert(pks[i], *entry);
    }
    return entries;
}

RedisStore::RedisStore(RedisConfig config)
    : d(std::make_unique<Private>())
{
    d->config = std::move(config);
}

RedisStore::~RedisStore() = default;

Result<std::unique_ptr<RedisStore>> RedisStore::open(const RedisConfig &config)
{
    RedisConnection::ignoreSigpipe();
    std::unique_ptr<RedisStore> store(new RedisStore(config));
    Error error;
    store->d->context = RedisConnection::connect(config, connectTimeoutMs, commandTimeoutMs, &error);
    if (!store->d->context)
        return error;
    store->d->useQtReplies();
    return store;
}

QString RedisStore::description() const
{
    return d->config.description();
}

Result<EntryPtr> RedisStore::get(qint64 pk)
{
    auto replies = d->pipeline({ { "HGETALL", d->config.key(pk) } });
    if (!replies)
        return replies.error();
    const Reply *reply = replies->front().get();
    if (!isError(reply, "WRONGTYPE"))
        return d->entryFrom(pk, reply);
    auto strings = d->readStrings({ pk });
    if (!strings)
        return strings.error();
    return strings->value(pk);
}

// HSTRLEN of our hashes' body; a key holding a string (someone else's) answers WRONGTYPE and is
// asked STRLEN in a second round trip.
Result<QHash<qint64, qint64>> RedisStore::sizes(const QList<qint64> &pks)
{
    QHash<qint64, qint64> sizes;
    if (pks.isEmpty())
        return sizes;
    std::vector<Command> commands;
    for (qint64 pk : pks)
        commands.push_back({ "HSTRLEN", d->config.key(pk), "body" });
    auto replies = d->pipeline(commands);
    if (!replies)
        return replies.error();
    std::vector<Command> strings;
    QList<qint64> stringPks;
    for (qsizetype i = 0; i < pks.size(); ++i) {
        const Reply *reply = (*replies)[size_t(i)].get();
        if (isError(reply, "WRONGTYPE")) {
            strings.push_back({ "STRLEN", d->config.key(pks[i]) });
            stringPks << pks[i];
        } else if (reply->type == REDIS_REPLY_INTEGER && reply->integer > 0) {
            sizes.insert(pks[i], reply->integer);
        }
    }
    if (!strings.empty()) {
        auto more = d->pipeline(strings);
        if (!more)
            return more.error();
        for (qsizetype i = 0; i < stringPks.size(); ++i) {
            const Reply *reply = (*more)[size_t(i)].get();
            if (reply->type == REDIS_REPLY_INTEGER && reply->integer > 0)
                sizes.insert(stringPks[i], reply->integer);
        }
    }
    return sizes;
}

// Ours are hashes (the body field); someone else's, plain strings.
Result<std::optional<QByteArray>> RedisStore::storedBytes(qint64 pk)
{
    const QByteArray key = d->config.key(pk);
    auto replies = d->pipeline({ { "HGET", key, "body" } });
    if (!replies)
        return replies.error();
    if (isError(replies->front().get(), "WRONGTYPE"))
        replies = d->pipeline({ { "GET", key } });
    if (!replies)
        return replies.error();
    const Reply *reply = replies->front().get();
    if (reply->type == REDIS_REPLY_NIL)
        return std::optional<QByteArray>();
    if (reply->type != REDIS_REPLY_STRING)
        return d->refused(key, reply);
    return std::optional<QByteArray>(reply->str);
}

Result<QHash<qint64, EntryPtr>> RedisStore::getMany(const QList<qint64> &pks)
{
    QList<qint64> unique = pks;
    std::sort(unique.begin(), unique.end());
    unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
    std::vector<Command> commands;
    commands.reserve(size_t(unique.size()));
    for (qint64 pk : unique)
        commands.push_back({ "HGETALL", d->config.key(pk) });
    auto replies = d->pipeline(commands);
    if (!replies)
        return replies.error();

    QHash<qint64, EntryPtr> entries;
    entries.reserve(unique.size());
    QList<qint64> strings;
    for (qsizetype i = 0; i < unique.size(); ++i) {
        const Reply *reply = (*replies)[size_t(i)].get();
        if (isError(reply, "WRONGTYPE")) {
            strings << unique[i];
            continue;
        }
        const Result<EntryPtr> entry = d->entryFrom(unique[i], reply);
        if (entry && *entry)
            entries.insert(unique[i], *entry);
        else if (!entry && entry.error().kind != Error::Kind::Corrupt)
            return entry.error();
    }
    replies->clear();
    for (const qint64 pk : strings) {
        // One at a time so that one corrupt value does not hide the others (foreign strings are rare).
        auto found = d->readStrings({ pk });
        if (found)
            entries.insert(*found);
        else if (found.error().kind != Error::Kind::Corrupt)
            return found.error();
    }
    return entries;
}

Status RedisStore::put(const EntryPtr &entry)
{
    if (!entry)
        return Error::invalid(QObject::tr("no entry to store"));
    if (d->config.readOnly)
        return Error::invalid(QObject::tr("Redis is not written: the connection is read-only (--read-only)"));
    const QByteArray key = d->config.key(entry->pk);
    const QByteArray seal = sealOf(entry->digest, entry->body, entry->gzip);
    // One script, atomic on the server: an entry that reflects a later change position than this
    // one (another process refreshed from a newer snapshot) is kept, never overwritten by an older
    // body. DEL first: a foreign string at the key, or fields of an older layout, must not survive.
    static const QByteArray script = QByteArrayLiteral(
        "local was = redis.call('TYPE', KEYS[1])['ok']\n"
        "local position = tonumber(ARGV[2])\n"
        "if was == 'hash' and position >= 0 then\n"
        "  local stored = tonumber(redis.call('HGET', KEYS[1], 'change_position'))\n"
        "  if stored and stored > position then return {was, 0} end\n"
        "end\n"
        "if was == 'hash' and redis.call('HGET', KEYS[1], 'digest') ~= ARGV[4] then\n"
        "  redis.call('RENAME', KEYS[1], KEYS[2])\n" // the entry replaced becomes the previous one (O(1))
        "else\n"
        "  redis.call('DEL', KEYS[1])\n"
        "end\n"
        "redis.call('HSET', KEYS[1], unpack(ARGV, 5))\n"
        "redis.call('PUBLISH', ARGV[1], ARGV[3])\n"
        "return {was, 1}\n");
    const QByteArray position = QByteArray::number(entry->changePosition);
    const Command eval { "EVAL", script, "2", key, d->config.previousKey(entry->pk),
                         d->config.channel(), position, QByteArray::number(entry->pk), entry->digest,
                         "body", entry->body,
                         "gzip", entry->gzip,
                         "digest", entry->digest,
                         "seal", seal,
                         "body_sha1", QCryptographicHash::hash(entry->body, QCryptographicHash::Sha1).toHex(),
                         "cached_at", isoUtc(entry->cachedAt).toLatin1(),
                         "version", QByteArray::number(entry->serializerVersion),
                         "built_by", entry->builtBy.toUtf8(),
                         "build_us", QByteArray::number(entry->buildMicros),
                         "change_position", position };
    auto replies = d->pipeline({ eval });
    if (!replies)
        return replies.error();
    const Reply *result = replies->front().get();
    // An error (out of memory, scripts refused…): Redis checks memory at a script's first write and
    // lets a script that has written go on, so the entry is the old one or the new one, never torn.
    if (result->type != REDIS_REPLY_ARRAY || result->size() != 2)
        return d->refused(key, result);
    // Ours are hashes; a plain string is a foreign entry. Anything else (a list, a set…) was some
    // other program's data at our key, now replaced: say so, once per key.
    const QByteArray &was = result->at(0)->str;
    if (was != "none" && was != "hash" && was != "string") {
        qCWarning(lcRedisStore, "%s held a Redis %s, not an entry: replaced by Foo %lld's entry", key.constData(),
                  was.constData(), entry->pk);
    }
    if (result->at(1)->integer == 0)
        qCDebug(lcRedisStore, "%s reflects a later change than this body of Foo %lld: kept", key.constData(), entry->pk);
    return success();
}


Status RedisStore::remove(qint64 pk)
{
    if (d->config.readOnly)
        return Error::invalid(QObject::tr("Redis is not written: the connection is read-only (--read-only)"));
    const QByteArray key = d->config.key(pk);
    // The removed entry becomes the previous one: an invalidation can be rolled back too.
    static const QByteArray script = QByteArrayLiteral(
        "if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('RENAME', KEYS[1], KEYS[2]) end\n"
        "redis.call('PUBLISH', ARGV[1], ARGV[2])\n"
        "return 1\n");
    auto replies = d->pipeline(
        { { "EVAL", script, "2", key, d->config.previousKey(pk), d->config.channel(), QByteArray::number(pk) } });
    if (!replies)
        return replies.error();
    for (const ReplyPtr &reply : *replies) {
        if (isError(reply.get()))
            return d->refused(key, reply.get());
    }
    return success();
}

Result<EntryPtr> RedisStore::previous(qint64 pk)
{
    auto replies = d->pipeline({ { "HGETALL", d->config.previousKey(pk) } });
    if (!replies)
        return replies.error();
    const Reply *reply = replies->front().get();
    if (isError(reply, "WRONGTYPE")) { // a foreign string that was replaced
        auto string = d->pipeline({ { "GET", d->config.previousKey(pk) } });
        if (!string)
            return string.error();
        const Reply *value = string->front().get();
        return value->type == REDIS_REPLY_STRING ? d->foreignEntry(pk, value->str) : Result<EntryPtr>(EntryPtr());
    }
    return d->entryFrom(pk, reply);
}

// One script: the previous entry and the entry swap places (three O(1) RENAMEs), so a second
// rollback undoes the first.
Status RedisStore::rollback(qint64 pk)
{
    if (d->config.readOnly)
        return Error::invalid(QObject::tr("Redis is not written: the connection is read-only (--read-only)"));
    const QByteArray key = d->config.key(pk);
    static const QByteArray script = QByteArrayLiteral(
        "if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end\n"
        "if redis.call('EXISTS', KEYS[1]) == 1 then\n"
        "  redis.call('RENAME', KEYS[1], KEYS[3])\n"
        "  redis.call('RENAME', KEYS[2], KEYS[1])\n"
        "  redis.call('RENAME', KEYS[3], KEYS[2])\n"
        "else\n"
        "  redis.call('RENAME', KEYS[2], KEYS[1])\n"
        "end\n"
        "redis.call('PUBLISH', ARGV[1], ARGV[2])\n"
        "return 1\n");
    auto replies = d->pipeline({ { "EVAL", script, "3", key, d->config.previousKey(pk),
                                   d->config.previousKey(pk) + ":swap", d->config.channel(), QByteArray::number(pk) } });
    if (!replies)
        return replies.error();
    const Reply *reply = replies->front().get();
    if (reply->type != REDIS_REPLY_INTEGER)
        return d->refused(key, reply);
    if (reply->integer == 0)
        return Error::notFound(QObject::tr("Foo %1 has no previous entry to roll back to").arg(pk));
    return success();
}

namespace {

// From the replies to TYPE, HMGET digest cached_at version change_position, HSTRLEN body, STRLEN.
// The two that do not fit the key's type answered WRONGTYPE: that costs less than a second round trip.
// Whether the body field is still the one put() wrote, checked on the server so no body crosses
// the network: 1 yes, 0 no (HSET behind our back), -1 no hash, -2 no body_sha1 (an older layout).
const QByteArray bodyCheckScript = QByteArrayLiteral(
    "if redis.call('TYPE', KEYS[1])['ok'] ~= 'hash' then return -1 end\n"
    "local want = redis.call('HGET', KEYS[1], 'body_sha1')\n"
    "if not want then return -2 end\n"
    "local body = redis.call('HGET', KEYS[1], 'body')\n"
    "if body and redis.sha1hex(body) == want then return 1 end\n"
    "return 0\n");

std::optional<EntryInfo> infoOf(qint64 pk, const Reply *const replies[5])
{
    const QByteArray type = text(replies[0]);
    if (type == "none")
        return std::nullopt; // removed since SCAN saw it
    EntryInfo info;
    info.pk = pk;
    const Reply *fields = replies[1];
    if (type == "hash" && fields->type == REDIS_REPLY_ARRAY && fields->size() == 4) {
        info.size = replies[2]->integer;
        info.digest = text(fields->at(0));
        info.cachedAt = QDateTime::fromString(QString::fromLatin1(text(fields->at(1))), Qt::ISODateWithMs);
        info.serializerVersion = text(fields->at(2)).toInt();
        bool number = false;
        const qint64 position = text(fields->at(3)).toLongLong(&number);
        info.changePosition = number ? position : -1;
        // A body set behind our back is foreign at once. A hash without body_sha1 (written before
        // it existed, or by someone following the layout) is judged as before, by its metadata;
        // get() checks its seal or digest.
        const bool bodyOurs = replies[4]->type == REDIS_REPLY_INTEGER && (replies[4]->integer == 1 || replies[4]->integer == -2);
        info.foreign = !bodyOurs || info.digest.isEmpty() || (!info.cachedAt.isValid() && info.serializerVersion == 0);
        if (info.size == 0)
            info.problem = QObject::tr("the hash has no body field");
    } else if (type == "string") {
        info.size = replies[3]->integer;
        info.foreign = true;
        if (info.size == 0)
            info.problem = QObject::tr("the value is empty");
    } else {
        info.problem = QObject::tr("the key holds a Redis %1, neither a hash nor a string").arg(QString::fromUtf8(type));
    }
    return info;
}

// SCAN's MATCH takes a glob: a prefix such as "app[1]:" must match itself only.
QByteArray globEscaped(const QByteArray &text)
{
    QByteArray escaped;
    for (const char c : text) {
        if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\')
            escaped += '\\';
        escaped += c;
    }
    return escaped;
}

} // namespace

// Metadata of one SCAN page's keys, in one pipeline of five commands per key (the last checks the
// body on the server).
Result<QList<EntryInfo>> RedisStore::Private::describe(const QList<std::pair<qint64, QByteArray>> &keys)
{
    std::vector<Command> commands;
    constexpr size_t perKey = 5;
    commands.reserve(size_t(keys.size()) * perKey);
    for (const auto &[pk, key] : keys) {
        commands.push_back({ "TYPE", key });
        commands.push_back({ "HMGET", key, "digest", "cached_at", "version", "change_position" });
        commands.push_back({ "HSTRLEN", key, "body" });
        commands.push_back({ "STRLEN", key });
        commands.push_back({ "EVAL", bodyCheckScript, "1", key });
    }
    auto replies = pipeline(commands);
    if (!replies)
        return replies.error();
    QList<EntryInfo> infos;
    for (qsizetype i = 0; i < keys.size(); ++i) {
        const Reply *ofKey[perKey];
        for (size_t j = 0; j < perKey; ++j)
            ofKey[j] = (*replies)[size_t(i) * perKey + j].get();
        if (auto info = infoOf(keys[i].first, ofKey))
            infos << *info;
    }
    return infos;
}

Result<QHash<qint64, qint64>> RedisStore::positions(const QList<qint64> &pks)
{
    std::vector<Command> commands;
    commands.reserve(size_t(pks.size()));
    for (const qint64 pk : pks)
        commands.push_back({ "HGET", d->config.key(pk), "change_position" });
    QHash<qint64, qint64> positions;
    if (commands.empty())
        return positions;
    auto replies = d->pipeline(commands);
    if (!replies)
        return replies.error();
    for (qsizetype i = 0; i < pks.size(); ++i) {
        const Reply *reply = (*replies)[size_t(i)].get();
        bool number = false;
        const qint64 position = reply->type == REDIS_REPLY_STRING ? reply->str.toLongLong(&number) : 0;
        if (number) // a hash of ours; nil (none), WRONGTYPE (a foreign string) are left out
            positions.insert(pks[i], position);
    }
    return positions;
}

Result<QList<EntryInfo>> RedisStore::list()
{
    const QByteArray keyPrefix = d->config.key(0).chopped(1);
    const QByteArray pattern = globEscaped(keyPrefix) + '*';

    QSet<qint64> seen; // SCAN may return a key more than once
    QList<EntryInfo> infos;
    QByteArray cursor = "0";
    do {
        auto replies = d->pipeline({ { "SCAN", cursor, "MATCH", pattern, "COUNT", "1000" } });
        if (!replies)
            return replies.error();
        const Reply *reply = replies->front().get();
        if (reply->type != REDIS_REPLY_ARRAY || reply->size() != 2 || reply->at(1)->type != REDIS_REPLY_ARRAY)
            return d->refused(pattern, reply);
        cursor = text(reply->at(0));
        QList<std::pair<qint64, QByteArray>> page;
        for (size_t i = 0; i < reply->at(1)->size(); ++i) {
            const QByteArray key = text(reply->at(1)->at(i));
            bool number = false;
            const qint64 pk = key.sliced(std::min(key.size(), keyPrefix.size())).toLongLong(&number);
            // Only keys we would write: <prefix>foo:<canonical decimal pk>.
            if (number && d->config.key(pk) == key && !seen.contains(pk)) {
                seen.insert(pk);
                page.append({ pk, key });
            }
        }
        if (page.isEmpty())
            continue;
        auto described = d->describe(page);
        if (!described)
            return described.error();
        infos += *described;
    } while (cursor != "0");
    std::sort(infos.begin(), infos.end(), [](const EntryInfo &a, const EntryInfo &b) { return a.pk < b.pk; });
    return infos;
}
