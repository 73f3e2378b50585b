#pragma once

#include "core/result.h"

#include <QByteArray>
#include <QString>

// Where a Redis store is, and its key prefix. Parsed from what an operator types:
//   redis://[[user]:password@]host[:port][/db]      (port 6379, db 0 when left out)
//   unix:///path/to/socket[?db=N][&user=U][&password=P]
// The keys' layout is RedisStore's (redisstore.h).
struct RedisConfig {
    QString host = QStringLiteral("127.0.0.1");
    int port = 6379;
    QString unixSocket; // non-empty: connect there instead of host:port
    QString user;       // Redis 6 ACL user; empty: AUTH with the password alone
    QString password;   // empty: no AUTH
    int database = 0;
    QString prefix = QStringLiteral("preserve:");
    bool readOnly = false; // put() and remove() refuse: the process was told to write nowhere

    static Result<RedisConfig> parse(const QString &url, const QString &prefix = QStringLiteral("preserve:"));
    // redis://user@host:port/db or unix:///path?db=N: never the password.
    QString description() const;
    // host:port or the socket path, for "Redis at … is unavailable".
    QString address() const;
    QByteArray key(qint64 pk) const;
    // Where the entry a put or remove replaced is kept: <prefix>previous:foo:<pk> (outside the
    // foo: keys that list() scans).
    QByteArray previousKey(qint64 pk) const;
    QByteArray channel() const;
};
