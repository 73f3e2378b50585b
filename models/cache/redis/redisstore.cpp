#include "redisstore.h"

#include "cache/redis/redisconnection.h"

#include "core/seal.h"
#include "json/jsonvalue.h"
#include "json/jsonwrite.h"

#include <QCryptographicHash>
#include <QLoggingCategory>
#include <QObject>
#include <QSet>
#include <QtEndian>

#include <zlib.h>

#include <algorithm>
#include <optional>

Q_DECLARE_LOGGING_CATEGORY(lcRedis)

namespace {

// Binds digest, body and gzip together: each one's hash seeds the next.
QByteArray sealOf(QByteArrayView digest, QByteArrayView body, QByteArrayView gzip)
{
    const quint64 seal = seal64(gzip, seal64(body, seal64(digest)));
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

    explicit HashFields(const RedisReply *reply)
    {
        for (size_t i = 0; i + 1 < reply->size(); i += 2) {
            const QByteArray name = replyText(reply->at(i));
            const QByteArray value = replyText(reply->at(i + 1));
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

struct RedisStore::Private {
    explicit Private(RedisConfig config)
        : connection(std::move(config))
    {
    }

    const RedisConfig &config() const { return connection.config(); }

    RedisConnection connection;


    Error refused(const QByteArray &key, const RedisReply *reply) const
    {
        return Error::database(QObject::tr("Redis at %1 refused the command for %2: %3")
                                   .arg(config().address(), QString::fromUtf8(key), QString::fromUtf8(replyText(reply))));
    }

    Error corrupt(qint64 pk, const QString &why) const
    {
        return Error::corrupt(QObject::tr("%1 in %2 is not a Foo body: %3")
                                  .arg(QString::fromUtf8(config().key(pk)), config().description(), why));
    }

    Result<EntryPtr> foreignEntry(qint64 pk, QByteArray body) const;
    Result<EntryPtr> entryFromHash(qint64 pk, const RedisReply *reply) const;
    Result<EntryPtr> entryFrom(qint64 pk, const RedisReply *reply) const;
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

Result<EntryPtr> RedisStore::Private::entryFromHash(qint64 pk, const RedisReply *reply) const
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
    qCDebug(lcRedis, "%s: the seal does not match the body, a foreign entry", config().key(pk).constData());
    return foreignEntry(pk, std::move(body));
}

// An HGETALL reply: nullptr for a missing key, an error for a key that holds no hash.
Result<EntryPtr> RedisStore::Private::entryFrom(qint64 pk, const RedisReply *reply) const
{
    if (reply->type == REDIS_REPLY_ARRAY)
        return reply->size() == 0 ? EntryPtr() : entryFromHash(pk, reply);
    return refused(config().key(pk), reply);
}

// GET for keys that hold no hash (WRONGTYPE to HGETALL): foreign bodies or junk.
Result<QHash<qint64, EntryPtr>> RedisStore::Private::readStrings(const QList<qint64> &pks)
{
    std::vector<RedisCommand> commands;
    for (qint64 pk : pks)
        commands.push_back({ "GET", config().key(pk) });
    auto replies = connection.pipeline(commands);
    if (!replies)
        return replies.error();
    QHash<qint64, EntryPtr> entries;
    for (qsizetype i = 0; i < pks.size(); ++i) {
        const RedisReply *reply = (*replies)[size_t(i)].get();
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
    : d(std::make_unique<Private>(std::move(config)))
{
}

RedisStore::~RedisStore() = default;

Result<std::unique_ptr<RedisStore>> RedisStore::open(const RedisConfig &config)
{
    std::unique_ptr<RedisStore> store(new RedisStore(config));
    if (Status opened = store->d->connection.open(); !opened)
        return opened.error();
    return store;
}

QString RedisStore::description() const
{
    return d->config().description();
}

Result<EntryPtr> RedisStore::get(qint64 pk)
{
    auto replies = d->connection.pipeline({ { "HGETALL", d->config().key(pk) } });
    if (!replies)
        return replies.error();
    const RedisReply *reply = replies->front().get();
    if (!isErrorReply(reply, "WRONGTYPE"))
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
    std::vector<RedisCommand> commands;
    for (qint64 pk : pks)
        commands.push_back({ "HSTRLEN", d->config().key(pk), "body" });
    auto replies = d->connection.pipeline(commands);
    if (!replies)
        return replies.error();
    std::vector<RedisCommand> strings;
    QList<qint64> stringPks;
    for (qsizetype i = 0; i < pks.size(); ++i) {
        const RedisReply *reply = (*replies)[size_t(i)].get();
        if (isErrorReply(reply, "WRONGTYPE")) {
            strings.push_back({ "STRLEN", d->config().key(pks[i]) });
            stringPks << pks[i];
        } else if (reply->type == REDIS_REPLY_INTEGER && reply->integer > 0) {
            sizes.insert(pks[i], reply->integer);
        }
    }
    if (!strings.empty()) {
        auto more = d->connection.pipeline(strings);
        if (!more)
            return more.error();
        for (qsizetype i = 0; i < stringPks.size(); ++i) {
            const RedisReply *reply = (*more)[size_t(i)].get();
            if (reply->type == REDIS_REPLY_INTEGER && reply->integer > 0)
                sizes.insert(stringPks[i], reply->integer);
        }
    }
    return sizes;
}

// Ours are hashes (the body field); someone else's, plain strings.
Result<std::optional<QByteArray>> RedisStore::storedBytes(qint64 pk)
{
    const QByteArray key = d->config().key(pk);
    auto replies = d->connection.pipeline({ { "HGET", key, "body" } });
    if (!replies)
        return replies.error();
    if (isErrorReply(replies->front().get(), "WRONGTYPE"))
        replies = d->connection.pipeline({ { "GET", key } });
    if (!replies)
        return replies.error();
    const RedisReply *reply = replies->front().get();
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
    std::vector<RedisCommand> commands;
    commands.reserve(size_t(unique.size()));
    for (qint64 pk : unique)
        commands.push_back({ "HGETALL", d->config().key(pk) });
    auto replies = d->connection.pipeline(commands);
    if (!replies)
        return replies.error();

    QHash<qint64, EntryPtr> entries;
    entries.reserve(unique.size());
    QList<qint64> strings;
    for (qsizetype i = 0; i < unique.size(); ++i) {
        const RedisReply *reply = (*replies)[size_t(i)].get();
        if (isErrorReply(reply, "WRONGTYPE")) {
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
    if (d->config().readOnly)
        return Error::invalid(QObject::tr("Redis is not written: the connection is read-only (--read-only)"));
    const QByteArray key = d->config().key(entry->pk);
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
    const RedisCommand eval { "EVAL", script, "2", key, d->config().previousKey(entry->pk),
                         d->config().channel(), position, QByteArray::number(entry->pk), entry->digest,
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
    auto replies = d->connection.pipeline({ eval });
    if (!replies)
        return replies.error();
    const RedisReply *result = replies->front().get();
    // An error (out of memory, scripts refused…): Redis checks memory at a script's first write and
    // lets a script that has written go on, so the entry is the old one or the new one, never torn.
    if (result->type != REDIS_REPLY_ARRAY || result->size() != 2)
        return d->refused(key, result);
    // Ours are hashes; a plain string is a foreign entry. Anything else (a list, a set…) was some
    // other program's data at our key, now replaced: say so, once per key.
    const QByteArray &was = result->at(0)->str;
    if (was != "none" && was != "hash" && was != "string") {
        qCWarning(lcRedis, "%s held a Redis %s, not an entry: replaced by Foo %lld's entry", key.constData(),
                  was.constData(), entry->pk);
    }
    if (result->at(1)->integer == 0)
        qCDebug(lcRedis, "%s reflects a later change than this body of Foo %lld: kept", key.constData(), entry->pk);
    return success();
}


Status RedisStore::remove(qint64 pk)
{
    if (d->config().readOnly)
        return Error::invalid(QObject::tr("Redis is not written: the connection is read-only (--read-only)"));
    const QByteArray key = d->config().key(pk);
    // The removed entry becomes the previous one: an invalidation can be rolled back too.
    static const QByteArray script = QByteArrayLiteral(
        "if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('RENAME', KEYS[1], KEYS[2]) end\n"
        "redis.call('PUBLISH', ARGV[1], ARGV[2])\n"
        "return 1\n");
    auto replies = d->connection.pipeline(
        { { "EVAL", script, "2", key, d->config().previousKey(pk), d->config().channel(), QByteArray::number(pk) } });
    if (!replies)
        return replies.error();
    for (const RedisReplyPtr &reply : *replies) {
        if (isErrorReply(reply.get()))
            return d->refused(key, reply.get());
    }
    return success();
}

Result<EntryPtr> RedisStore::previous(qint64 pk)
{
    auto replies = d->connection.pipeline({ { "HGETALL", d->config().previousKey(pk) } });
    if (!replies)
        return replies.error();
    const RedisReply *reply = replies->front().get();
    if (isErrorReply(reply, "WRONGTYPE")) { // a foreign string that was replaced
        auto string = d->connection.pipeline({ { "GET", d->config().previousKey(pk) } });
        if (!string)
            return string.error();
        const RedisReply *value = string->front().get();
        return value->type == REDIS_REPLY_STRING ? d->foreignEntry(pk, value->str) : Result<EntryPtr>(EntryPtr());
    }
    return d->entryFrom(pk, reply);
}

// One script: the previous entry and the entry swap places (three O(1) RENAMEs), so a second
// rollback undoes the first.
Status RedisStore::rollback(qint64 pk)
{
    if (d->config().readOnly)
        return Error::invalid(QObject::tr("Redis is not written: the connection is read-only (--read-only)"));
    const QByteArray key = d->config().key(pk);
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
    auto replies = d->connection.pipeline({ { "EVAL", script, "3", key, d->config().previousKey(pk),
                                   d->config().previousKey(pk) + ":swap", d->config().channel(), QByteArray::number(pk) } });
    if (!replies)
        return replies.error();
    const RedisReply *reply = replies->front().get();
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

std::optional<EntryInfo> infoOf(qint64 pk, const RedisReply *const replies[5])
{
    const QByteArray type = replyText(replies[0]);
    if (type == "none")
        return std::nullopt; // removed since SCAN saw it
    EntryInfo info;
    info.pk = pk;
    const RedisReply *fields = replies[1];
    if (type == "hash" && fields->type == REDIS_REPLY_ARRAY && fields->size() == 4) {
        info.size = replies[2]->integer;
        info.digest = replyText(fields->at(0));
        info.cachedAt = QDateTime::fromString(QString::fromLatin1(replyText(fields->at(1))), Qt::ISODateWithMs);
        info.serializerVersion = replyText(fields->at(2)).toInt();
        bool number = false;
        const qint64 position = replyText(fields->at(3)).toLongLong(&number);
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
    std::vector<RedisCommand> commands;
    constexpr size_t perKey = 5;
    commands.reserve(size_t(keys.size()) * perKey);
    for (const auto &[pk, key] : keys) {
        commands.push_back({ "TYPE", key });
        commands.push_back({ "HMGET", key, "digest", "cached_at", "version", "change_position" });
        commands.push_back({ "HSTRLEN", key, "body" });
        commands.push_back({ "STRLEN", key });
        commands.push_back({ "EVAL", bodyCheckScript, "1", key });
    }
    auto replies = connection.pipeline(commands);
    if (!replies)
        return replies.error();
    QList<EntryInfo> infos;
    for (qsizetype i = 0; i < keys.size(); ++i) {
        const RedisReply *ofKey[perKey];
        for (size_t j = 0; j < perKey; ++j)
            ofKey[j] = (*replies)[size_t(i) * perKey + j].get();
        if (auto info = infoOf(keys[i].first, ofKey))
            infos << *info;
    }
    return infos;
}

Result<QHash<qint64, qint64>> RedisStore::positions(const QList<qint64> &pks)
{
    std::vector<RedisCommand> commands;
    commands.reserve(size_t(pks.size()));
    for (const qint64 pk : pks)
        commands.push_back({ "HGET", d->config().key(pk), "change_position" });
    QHash<qint64, qint64> positions;
    if (commands.empty())
        return positions;
    auto replies = d->connection.pipeline(commands);
    if (!replies)
        return replies.error();
    for (qsizetype i = 0; i < pks.size(); ++i) {
        const RedisReply *reply = (*replies)[size_t(i)].get();
        bool number = false;
        const qint64 position = reply->type == REDIS_REPLY_STRING ? reply->str.toLongLong(&number) : 0;
        if (number) // a hash of ours; nil (none), WRONGTYPE (a foreign string) are left out
            positions.insert(pks[i], position);
    }
    return positions;
}

Result<QList<EntryInfo>> RedisStore::list()
{
    const QByteArray keyPrefix = d->config().key(0).chopped(1);
    const QByteArray pattern = globEscaped(keyPrefix) + '*';

    QSet<qint64> seen; // SCAN may return a key more than once
    QList<EntryInfo> infos;
    QByteArray cursor = "0";
    do {
        auto replies = d->connection.pipeline({ { "SCAN", cursor, "MATCH", pattern, "COUNT", "1000" } });
        if (!replies)
            return replies.error();
        const RedisReply *reply = replies->front().get();
        if (reply->type != REDIS_REPLY_ARRAY || reply->size() != 2 || reply->at(1)->type != REDIS_REPLY_ARRAY)
            return d->refused(pattern, reply);
        cursor = replyText(reply->at(0));
        QList<std::pair<qint64, QByteArray>> page;
        for (size_t i = 0; i < reply->at(1)->size(); ++i) {
            const QByteArray key = replyText(reply->at(1)->at(i));
            bool number = false;
            const qint64 pk = key.sliced(std::min(key.size(), keyPrefix.size())).toLongLong(&number);
            // Only keys we would write: <prefix>foo:<canonical decimal pk>.
            if (number && d->config().key(pk) == key && !seen.contains(pk)) {
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
