#include "redisconfig.h"

#include <QObject>
#include <QUrl>
#include <QUrlQuery>

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
