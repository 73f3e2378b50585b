// DatabaseConfig::parse() and checkAppLabel(): what an operator types, turned into connection settings,
// and every way of typing it wrong reported with the offending text (and never the password).
#include "db/databaseconfig.h"

#include <QDir>
#include <QTemporaryDir>
#include <QTest>

class TestDatabaseConfig : public QObject {
    Q_OBJECT

private slots:
    void sqlitePaths_data();
    void sqlitePaths();
    void relativePathFollowsCurrentDirectory();
    void postgresUrls_data();
    void postgresUrls();
    void environmentLeftToLibpq();
    void connectOptions_data();
    void connectOptions();
    void invalidSpecs_data();
    void invalidSpecs();
    void passwordNeverShown_data();
    void passwordNeverShown();
    void parseChecksAppLabel();
    void readOnlyAndLabelCarried();
    void appLabels_data();
    void appLabels();
};

void TestDatabaseConfig::sqlitePaths_data()
{
    QTest::addColumn<QString>("spec");
    QTest::addColumn<QString>("expectedPath");
    const QString cwd = QDir::currentPath();
    QTest::addRow("relative file") << "db.sqlite3" << cwd + "/db.sqlite3";
    QTest::addRow("relative with dirs") << "data/./sub/../db.sqlite3" << cwd + "/data/db.sqlite3";
    QTest::addRow("parent dir") << "../db.sqlite3" << QDir::cleanPath(cwd + "/../db.sqlite3");
    QTest::addRow("surrounding blanks") << "  db.sqlite3\t" << cwd + "/db.sqlite3";
    QTest::addRow("absolute") << "/srv/app/db.sqlite3"
                              << "/srv/app/db.sqlite3";
    QTest::addRow("absolute uncleaned") << "/srv//app/./db.sqlite3"
                                        << "/srv/app/db.sqlite3";
    // dj-database-url's convention: three slashes and a relative path, four for an absolute one.
    QTest::addRow("sqlite url relative, three slashes") << "sqlite:///srv/app/db.sqlite3"
                                                        << cwd + "/srv/app/db.sqlite3";
    QTest::addRow("sqlite url four slashes") << "sqlite:////srv/app/db.sqlite3"
                                             << "/srv/app/db.sqlite3";
    QTest::addRow("sqlite url relative") << "sqlite://data/db.sqlite3" << cwd + "/data/db.sqlite3";
    QTest::addRow("sqlite url upper-case scheme") << "SQLite:////srv/db.sqlite3"
                                                  << "/srv/db.sqlite3";
    QTest::addRow("name with spaces and unicode") << "/tmp/my d\u00e9mo.sqlite3"
                                                  << "/tmp/my d\u00e9mo.sqlite3";
}

void TestDatabaseConfig::sqlitePaths()
{
    QFETCH(QString, spec);
    QFETCH(QString, expectedPath);

    const auto config = DatabaseConfig::parse(spec);
    QVERIFY2(config.ok(), config.ok() ? "" : qPrintable(config.error().message));
    QVERIFY(config->isSqlite());
    QCOMPARE(config->engine, DatabaseConfig::Engine::Sqlite);
    QCOMPARE(config->sqlitePath, expectedPath);
    QVERIFY(QDir::isAbsolutePath(config->sqlitePath));
    QCOMPARE(config->displayName(), QDir::toNativeSeparators(expectedPath));
    QVERIFY(config->host.isEmpty());
    QCOMPARE(config->port, -1);
}

void TestDatabaseConfig::relativePathFollowsCurrentDirectory()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString previous = QDir::currentPath();
    QVERIFY(QDir::setCurrent(dir.path()));
    const auto config = DatabaseConfig::parse(QStringLiteral("sub/db.sqlite3"));
    QVERIFY(QDir::setCurrent(previous));
    QVERIFY(config.ok());
    QCOMPARE(config->sqlitePath, QDir(dir.path()).canonicalPath() + QStringLiteral("/sub/db.sqlite3"));
}

void TestDatabaseConfig::postgresUrls_data()
{
    QTest::addColumn<QString>("spec");
    QTest::addColumn<QString>("host");
    QTest::addColumn<int>("port");
    QTest::addColumn<QString>("user");
    QTest::addColumn<QString>("password");
    QTest::addColumn<QString>("databaseName");

    QTest::addRow("everything") << "postgresql://alice:secret@db.example.org:6543/shopdb"
                                << "db.example.org" << 6543 << "alice"
                                << "secret"
                                << "shopdb";
    QTest::addRow("postgres scheme") << "postgres://bob:pw@localhost:5432/app"
                                     << "localhost" << 5432 << "bob"
                                     << "pw"
                                     << "app";
    QTest::addRow("upper-case scheme") << "PostgreSQL://u@h/d"
                                       << "h" << -1 << "u"
                                       << ""
                                       << "d";
    QTest::addRow("percent-encoded password") << "postgresql://carol:p%40ss@h:5432/d"
                                              << "h" << 5432 << "carol"
                                              << "p@ss"
                                              << "d";
    QTest::addRow("percent-encoded colon slash") << "postgresql://u:a%3Ab%2Fc%25@h/d"
                                                 << "h" << -1 << "u"
                                                 << "a:b/c%"
                                                 << "d";
    QTest::addRow("percent-encoded user and db") << "postgresql://j%C3%BCrgen@h/my%20db"
                                                 << "h" << -1 << "j\u00fcrgen"
                                                 << ""
                                                 << "my db";
    QTest::addRow("IPv6 host") << "postgresql://u:v6pass@[::1]:5433/d"
                               << "::1" << 5433 << "u"
                               << "v6pass"
                               << "d";
    QTest::addRow("no port") << "postgresql://u:nopass@h/d"
                             << "h" << -1 << "u"
                             << "nopass"
                             << "d";
    QTest::addRow("no user") << "postgresql://h:5432/d"
                             << "h" << 5432 << ""
                             << ""
                             << "d";
    QTest::addRow("no host") << "postgresql:///d"
                             << "" << -1 << ""
                             << ""
                             << "d";
    QTest::addRow("no database") << "postgresql://u@h:5432"
                                 << "h" << 5432 << "u"
                                 << ""
                                 << "";
    QTest::addRow("no database, trailing slash") << "postgresql://u@h/"
                                                 << "h" << -1 << "u"
                                                 << ""
                                                 << "";
    QTest::addRow("nothing at all") << "postgresql://"
                                    << "" << -1 << ""
                                    << ""
                                    << "";
    QTest::addRow("empty password") << "postgresql://u:@h/d"
                                    << "h" << -1 << "u"
                                    << ""
                                    << "d";
}

void TestDatabaseConfig::postgresUrls()
{
    QFETCH(QString, spec);
    QFETCH(QString, host);
    QFETCH(int, port);
    QFETCH(QString, user);
    QFETCH(QString, password);
    QFETCH(QString, databaseName);

    const auto config = DatabaseConfig::parse(spec);
    QVERIFY2(config.ok(), config.ok() ? "" : qPrintable(config.error().message));
    QVERIFY(!config->isSqlite());
    QCOMPARE(config->engine, DatabaseConfig::Engine::Postgres);
    QCOMPARE(config->host, host);
    QCOMPARE(config->port, port);
    QCOMPARE(config->user, user);
    QCOMPARE(config->password, password);
    QCOMPARE(config->databaseName, databaseName);
    QVERIFY(config->connectOptions.isEmpty());
    QVERIFY(config->sqlitePath.isEmpty());

    const QString display = config->displayName();
    QVERIFY(display.startsWith(QLatin1String("postgresql://")));
    if (!password.isEmpty())
        QVERIFY2(!display.contains(password), qPrintable(display));
    QVERIFY2(display.contains(host.isEmpty() ? QStringLiteral("localhost") : host), qPrintable(display));
    if (port > 0)
        QVERIFY2(display.contains(QLatin1Char(':') + QString::number(port)), qPrintable(display));
}

// Parts left out stay empty so that libpq fills them from PG*; parse() must not read them itself.
void TestDatabaseConfig::environmentLeftToLibpq()
{
    const char *variables[] = { "PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE" };
    for (const char *variable : variables)
        qputenv(variable, QByteArrayLiteral("5999"));
    const auto config = DatabaseConfig::parse(QStringLiteral("postgresql://"));
    for (const char *variable : variables)
        qunsetenv(variable);
    QVERIFY(config.ok());
    QVERIFY(config->host.isEmpty());
    QCOMPARE(config->port, -1);
    QVERIFY(config->user.isEmpty());
    QVERIFY(config->password.isEmpty());
    QVERIFY(config->databaseName.isEmpty());
    QCOMPARE(config->displayName(), QStringLiteral("postgresql://localhost/"));
}

void TestDatabaseConfig::connectOptions_data()
{
    QTest::addColumn<QString>("query");
    QTest::addColumn<QString>("expected");
    QTest::addRow("sslmode") << "sslmode=require"
                             << "sslmode='require'";
    QTest::addRow("three options in order")
        << "sslmode=verify-full&connect_timeout=10&application_name=shop"
        << "sslmode='verify-full' connect_timeout='10' application_name='shop'";
    QTest::addRow("percent-encoded space") << "application_name=my%20app"
                                           << "application_name='my app'";
    QTest::addRow("quote escaped") << "application_name=it's"
                                   << "application_name='it\\'s'";
    QTest::addRow("backslash escaped") << "application_name=a%5Cb"
                                       << "application_name='a\\\\b'";
    QTest::addRow("options with spaces") << "options=-c%20search_path%3Dshop"
                                         << "options='-c search_path=shop'";
    QTest::addRow("empty value") << "sslmode="
                                 << "sslmode=''";
    QTest::addRow("no query") << ""
                              << "";
}

void TestDatabaseConfig::connectOptions()
{
    QFETCH(QString, query);
    QFETCH(QString, expected);

    const QString spec = QStringLiteral("postgresql://u:pw@h:5432/d")
        + (query.isEmpty() ? QString() : QLatin1Char('?') + query);
    const auto config = DatabaseConfig::parse(spec);
    QVERIFY2(config.ok(), config.ok() ? "" : qPrintable(config.error().message));
    QCOMPARE(config->connectOptions, expected);
    QCOMPARE(config->databaseName, QStringLiteral("d"));
    QCOMPARE(config->port, 5432);
}

void TestDatabaseConfig::invalidSpecs_data()
{
    QTest::addColumn<QString>("spec");
    QTest::addColumn<QString>("mentions"); // the offending text the message must name

    QTest::addRow("unknown option") << "postgresql://u@h/d?sslmode=require&sslmod=x"
                                    << "sslmod";
    QTest::addRow("unknown option alone") << "postgresql://u@h/d?password=x"
                                          << "password";
    QTest::addRow("non-numeric port") << "postgresql://u@h:abc/db"
                                      << "abc";
    QTest::addRow("port out of range") << "postgresql://u@h:70000/db"
                                       << "70000";
    QTest::addRow("database with slash") << "postgresql://u@h:5432/db/extra"
                                         << "db/extra";
    QTest::addRow("space in host") << "postgresql://u@bad host/db"
                                   << "bad host";
    QTest::addRow("mysql scheme") << "mysql://u:p@h/db"
                                  << "mysql";
    QTest::addRow("http scheme") << "http://example.org/db"
                                 << "http";
    QTest::addRow("empty scheme") << "://h/db"
                                  << "://";
    QTest::addRow("empty spec") << ""
                                << "";
    QTest::addRow("blank spec") << "   \t "
                                << "";
}

void TestDatabaseConfig::invalidSpecs()
{
    QFETCH(QString, spec);
    QFETCH(QString, mentions);

    const auto config = DatabaseConfig::parse(spec);
    QVERIFY2(!config.ok(), qPrintable(QStringLiteral("accepted: ") + spec));
    QCOMPARE(config.error().kind, Error::Kind::Invalid);
    const QString message = config.error().message;
    QVERIFY(!message.trimmed().isEmpty());
    if (!mentions.isEmpty())
        QVERIFY2(message.contains(mentions), qPrintable(message));
    else
        QVERIFY2(
            message.contains(QLatin1String("SQLite")) && message.contains(QLatin1String("postgresql://")),
            qPrintable(message)); // an empty spec says what to pass instead
}

void TestDatabaseConfig::passwordNeverShown_data()
{
    QTest::addColumn<QString>("spec");
    QTest::addRow("valid") << "postgresql://u:hunter2@h:5432/d";
    QTest::addRow("valid, percent-encoded") << "postgresql://u:hunter2%40x@h:5432/d";
    QTest::addRow("unknown option") << "postgresql://u:hunter2@h/d?bogus=1";
    QTest::addRow("database with slash") << "postgresql://u:hunter2@h/a/b";
    QTest::addRow("non-numeric port") << "postgresql://u:hunter2@h:abc/db";
    QTest::addRow("port out of range") << "postgresql://u:hunter2@h:70000/db";
    QTest::addRow("space in host") << "postgresql://u:hunter2@bad host/db";
}

// An error goes to stderr, logs and dialogs: like displayName(), it must not carry the password.
void TestDatabaseConfig::passwordNeverShown()
{
    QFETCH(QString, spec);
    const auto config = DatabaseConfig::parse(spec);
    const QString shown = config.ok() ? config->displayName() : config.error().message;
    QVERIFY(!shown.isEmpty());
    QVERIFY2(!shown.contains(QLatin1String("hunter2")), qPrintable(shown));
}

void TestDatabaseConfig::parseChecksAppLabel()
{
    const auto bad = DatabaseConfig::parse(QStringLiteral("/tmp/db.sqlite3"), QStringLiteral("1shop"));
    QVERIFY(!bad.ok());
    QVERIFY2(bad.error().message.contains(QLatin1String("1shop")), qPrintable(bad.error().message));

    const auto badPostgres = DatabaseConfig::parse(QStringLiteral("postgresql://h/d"), QStringLiteral("a-b"));
    QVERIFY(!badPostgres.ok());
    QVERIFY(badPostgres.error().message.contains(QLatin1String("a-b")));
}

void TestDatabaseConfig::readOnlyAndLabelCarried()
{
    for (const bool readOnly : { false, true }) {
        const auto sqlite
            = DatabaseConfig::parse(QStringLiteral("/tmp/db.sqlite3"), QStringLiteral("shop"), readOnly);
        QVERIFY(sqlite.ok());
        QCOMPARE(sqlite->appLabel, QStringLiteral("shop"));
        QCOMPARE(sqlite->readOnly, readOnly);
        const auto postgres
            = DatabaseConfig::parse(QStringLiteral("postgresql://h/d"), QStringLiteral("_x"), readOnly);
        QVERIFY(postgres.ok());
        QCOMPARE(postgres->appLabel, QStringLiteral("_x"));
        QCOMPARE(postgres->readOnly, readOnly);
    }
    const auto defaults = DatabaseConfig::parse(QStringLiteral("db.sqlite3"));
    QVERIFY(defaults.ok());
    QCOMPARE(defaults->appLabel, QStringLiteral("api"));
    QVERIFY(!defaults->readOnly);
}

void TestDatabaseConfig::appLabels_data()
{
    QTest::addColumn<QString>("label");
    QTest::addColumn<bool>("valid");
    QTest::addRow("api") << "api" << true;
    QTest::addRow("shop") << "shop" << true;
    QTest::addRow("_x") << "_x" << true;
    QTest::addRow("_") << "_" << true;
    QTest::addRow("Api2") << "Api2" << true;
    QTest::addRow("54 characters") << QString(54, QLatin1Char('a')) << true;
    QTest::addRow("54 characters, mixed") << "L" + QString(52, QLatin1Char('9')) + "_" << true;
    QTest::addRow("empty") << "" << false;
    QTest::addRow("leading digit") << "1abc" << false;
    QTest::addRow("dash") << "a-b" << false;
    QTest::addRow("space") << "a b" << false;
    QTest::addRow("semicolon") << "a;drop" << false;
    QTest::addRow("non-ASCII letters") << "\u00fcn\u00efcode" << false;
    QTest::addRow("55 characters") << QString(55, QLatin1Char('a')) << false;
    QTest::addRow("double quote") << "a\"b" << false;
    QTest::addRow("dot") << "api.foo" << false;
    QTest::addRow("trailing newline") << "api\n" << false;
    QTest::addRow("leading newline") << "\napi" << false;
    QTest::addRow("NUL inside") << QString::fromLatin1("api\0x", 5) << false;
}

void TestDatabaseConfig::appLabels()
{
    QFETCH(QString, label);
    QFETCH(bool, valid);

    const Status status = DatabaseConfig::checkAppLabel(label);
    QCOMPARE(status.ok(), valid);
    if (!valid) {
        QCOMPARE(status.error().kind, Error::Kind::Invalid);
        QVERIFY(!status.error().message.isEmpty());
        if (!label.isEmpty())
            QVERIFY2(status.error().message.contains(label), qPrintable(status.error().message));
    }
}

QTEST_GUILESS_MAIN(TestDatabaseConfig)
#include "tst_databaseconfig.moc"
