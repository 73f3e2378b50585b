#include "databaseconfig.h"

#include <QDir>
#include <QFileInfo>
#include <QRegularExpression>
#include <QUrl>
#include <QUrlQuery>

namespace {

// libpq keywords we pass through from a URL's query string; anything else is refused so that a typo
// is reported instead of silently ignored.
const QStringList &allowedPostgresOptions()
{
    static const QStringList options {
        QStringLiteral("sslmode"),        QStringLiteral("sslcert"),         QStringLiteral("sslkey"),
        QStringLiteral("sslrootcert"),    QStringLiteral("connect_timeout"), QStringLiteral("application_name"),
        QStringLiteral("options"),        QStringLiteral("target_session_attrs"),
        QStringLiteral("gssencmode"),     QStringLiteral("channel_binding"),
    };
    return options;
}

QString quoteConnectValue(QString value)
{
    value.replace(QLatin1Char('\\'), QStringLiteral("\\\\"));
    value.replace(QLatin1Char('\''), QStringLiteral("\\'"));
    return QLatin1Char('\'') + value + QLatin1Char('\'');
}

Result<DatabaseConfig> parsePostgres(const QString &spec, DatabaseConfig config)
{
    const QUrl url(spec, QUrl::StrictMode);
    if (!url.isValid()) {
        // QUrl's message quotes the whole URL, password included: keep only its first sentence and
        // show the URL with the password masked.
        static const QRegularExpression password(QStringLiteral("^([^:/]+://[^:@/]*:)[^@/]*@"));
        QString shown = spec;
        shown.replace(password, QStringLiteral("\\1***@"));
        return Error::invalid(QObject::tr("malformed PostgreSQL URL \"%1\": %2 (expected "
                                          "postgresql://user:password@host:port/dbname)")
                                  .arg(shown, url.errorString().section(QLatin1Char(';'), 0, 0)));
    }
    config.engine = DatabaseConfig::Engine::Postgres;
    config.host = url.host(QUrl::FullyDecoded);
    config.port = url.port(-1);
    config.user = url.userName(QUrl::FullyDecoded);
    config.password = url.password(QUrl::FullyDecoded);
    QString path = url.path(QUrl::FullyDecoded);
    if (path.startsWith(QLatin1Char('/')))
        path.remove(0, 1);
    if (path.contains(QLatin1Char('/')))
        return Error::invalid(QObject::tr("malformed PostgreSQL URL: \"%1\" is not a database name").arg(path));
    config.databaseName = path;

    QStringList options;
    const QUrlQuery query(url);
    for (const auto &[key, value] : query.queryItems(QUrl::FullyDecoded)) {
        if (!allowedPostgresOptions().contains(key))
            return Error::invalid(QObject::tr("unknown PostgreSQL connection option \"%1\" (known: %2)")
                                      .arg(key, allowedPostgresOptions().join(QStringLiteral(", "))));
        options << key + QLatin1Char('=') + quoteConnectValue(value);
    }
    config.connectOptions = options.join(QLatin1Char(' '));
    return config;
}

} // namespace

Status DatabaseConfig::checkAppLabel(const QString &label)
{
    // 54 characters: PostgreSQL cuts identifiers at 63 bytes and the longest table is <label>_zab_bazs.
    static const QRegularExpression identifier(
        QRegularExpression::anchoredPattern(QStringLiteral("[A-Za-z_][A-Za-z0-9_]{0,53}")));
    if (!identifier.match(label).hasMatch())
        return Error::invalid(QObject::tr("app label \"%1\" is not a Django app label: use letters, digits "
                                          "and underscores, not starting with a digit, at most 54 characters")
                                  .arg(label));
    return success();
}

Result<DatabaseConfig> DatabaseConfig::parse(const QString &spec, const QString &appLabel, bool readOnly)
{
    if (const auto labelOk = checkAppLabel(appLabel); !labelOk)
        return labelOk.error();
    DatabaseConfig config;
    config.appLabel = appLabel;
    config.readOnly = readOnly;

    const QString trimmed = spec.trimmed();
    if (trimmed.isEmpty())
        return Error::invalid(QObject::tr("no database given: pass a SQLite file or a postgresql:// URL"));
    const QString scheme = trimmed.section(QStringLiteral("://"), 0, 0).toLower();
    if (trimmed.contains(QStringLiteral("://"))) {
        if (scheme == QLatin1String("postgresql") || scheme == QLatin1String("postgres"))
            return parsePostgres(trimmed, config);
        if (scheme == QLatin1String("sqlite")) {
            // As dj-database-url (Django's DATABASE_URL) reads it: sqlite:///relative/path and
            // sqlite:////absolute/path.
            QString path = trimmed.mid(9);
            if (path.startsWith(QLatin1Char('/')))
                path.remove(0, 1);
            if (path.isEmpty() || path == QLatin1String(":memory:"))
                return Error::invalid(QObject::tr("\"%1\" names no SQLite file").arg(trimmed));
            config.sqlitePath = QDir::cleanPath(QDir::current().absoluteFilePath(path));
            return config;
        }
        return Error::invalid(QObject::tr("unsupported database URL scheme \"%1\": use a SQLite file path "
                                          "or postgresql://user:password@host:port/dbname")
                                  .arg(scheme));
    }
    config.sqlitePath = QDir::cleanPath(QDir::current().absoluteFilePath(trimmed));
    return config;
}

QString DatabaseConfig::displayName() const
{
    if (isSqlite())
        return QDir::toNativeSeparators(sqlitePath);
    QUrl url;
    url.setScheme(QStringLiteral("postgresql"));
    url.setHost(host.isEmpty() ? QStringLiteral("localhost") : host);
    if (port > 0)
        url.setPort(port);
    url.setUserName(user);
    url.setPath(QLatin1Char('/') + databaseName);
    return url.toString();
}

namespace UrlPasswords {

namespace {

const QString masked = QStringLiteral("***");

// scheme://user:password@ — the user part may be empty (redis://:password@host).
const QRegularExpression &pattern()
{
    static const QRegularExpression urlPassword(QStringLiteral("([A-Za-z][A-Za-z0-9+.-]*://[^:@/\\s]*:)([^@/\\s]+)@"));
    return urlPassword;
}

QString passwordOf(const QString &url)
{
    return pattern().match(url).captured(2);
}

} // namespace

QString mask(const QString &text)
{
    QString result = text;
    return result.replace(pattern(), QStringLiteral("\\1") + masked + QLatin1Char('@'));
}

QString restore(const QString &shown, const QString &real)
{
    const QString password = passwordOf(real);
    if (password.isEmpty() || passwordOf(shown) != masked)
        return shown;
    QString result = shown;
    const QRegularExpressionMatch match = pattern().match(shown);
    return result.replace(match.capturedStart(2), match.capturedLength(2), password);
}

} // namespace UrlPasswords
