// Database + Serializer against a real PostgreSQL server whose tables Django's own migrate created
// and whose rows Django's ORM wrote (tests/drf/drf_reference.py make-db); DRF's bytes are the judge.

#include "db/database.h"
#include "db/databaseconfig.h"
#include "serialize/serializer.h"
#include "testpostgres.h"
#include "testsupport.h"

#include <QElapsedTimer>
#include <QProcess>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>

#include <memory>
#include <vector>

namespace {

// A PostgreSQL E'' literal for UTF-8 text (no NUL): ASCII controls as \x escapes, the rest verbatim.
QString pgLiteral(const QByteArray &utf8)
{
    QByteArray out = "E'";
    for (const char c : utf8) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '\'' || c == '\\')
            out += QByteArray("\\") + c;
        else if (u < 0x20 || u == 0x7f)
            out += "\\x" + QByteArray::number(u, 16).rightJustified(2, '0');
        else
            out += c;
    }
    out += '\'';
    return QString::fromUtf8(out);
}

class EnvironmentRestorer {
public:
    explicit EnvironmentRestorer(const QList<QByteArray> &names)
    {
        for (const QByteArray &name : names)
            m_saved.append({ name, qEnvironmentVariableIsSet(name.constData()), qgetenv(name.constData()) });
    }
    ~EnvironmentRestorer()
    {
        for (const auto &saved : m_saved) {
            if (saved.wasSet)
                qputenv(saved.name.constData(), saved.value);
            else
                qunsetenv(saved.name.constData());
        }
    }

private:
    struct Saved {
        QByteArray name;
        bool wasSet;
        QByteArray value;
    };
    QList<Saved> m_saved;
};

} // namespace

class TestPostgresDatabase : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();

    void openAndCount();
    void detailMatchesDrf_data();
    void detailMatchesDrf();
    void listMatchesDrf();
    void sameBytesAsSqlite();
    void unknownPrimaryKey();
    void appLabelShop();
    void missingTables_data();
    void missingTables();
    void readOnlyRefusesWrites();
    void wrongPassword();
    void refusedPort();
    void urlEncodedCredentials();
    void environmentFallback_data();
    void environmentFallback();
    void hardNamesRoundTrip_data();
    void hardNamesRoundTrip();

private:
    std::unique_ptr<Database> open(const QString &url, const QString &label = QStringLiteral("api"),
                                   bool readOnly = false);
    QByteArray render(const QString &url, const QString &label, qint64 pk);

    TestPostgres m_server;
    QTemporaryDir m_dir;
    QString m_apiUrl;
    QString m_shopUrl;
    QString m_scratchUrl;
    QString m_sqlitePath;
    QList<qint64> m_apiIds;
    QByteArray m_apiList;
    QByteArray m_shopList;
    Database::Counts m_summary; // what make-db says it wrote
};

std::unique_ptr<Database> TestPostgresDatabase::open(const QString &url, const QString &label, bool readOnly)
{
    auto config = DatabaseConfig::parse(url, label, readOnly);
    if (!config) {
        qWarning("parse(%s): %s", qPrintable(url), qPrintable(why(config)));
        return nullptr;
    }
    auto database = Database::open(*config);
    if (!database) {
        qWarning("open(%s): %s", qPrintable(config->displayName()), qPrintable(why(database)));
        return nullptr;
    }
    return std::move(*database);
}

QByteArray TestPostgresDatabase::render(const QString &url, const QString &label, qint64 pk)
{
    const QStringList arguments { QStringLiteral("render"), QStringLiteral("--db"), url, QStringLiteral("--app-label"),
                                  label };
    const ProcessResult result = runReference(arguments
                                              + (pk > 0 ? QStringList { QStringLiteral("--pk"), QString::number(pk) }
                                                        : QStringList { QStringLiteral("--list") }));
    if (!result.finished || result.exitCode != 0) {
        qWarning("drf_reference.py render failed: %s", qPrintable(describe(result)));
        return {};
    }
    return result.out;
}

void TestPostgresDatabase::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QElapsedTimer timer;
    timer.start();
    QString error;
    if (!m_server.start(&error))
        QFAIL(qPrintable(error));
    qInfo("PostgreSQL from %s up on port %d in %lld ms", qPrintable(m_server.binDir()), m_server.port(),
          timer.elapsed());

    for (const QString &name : { QStringLiteral("drf_api"), QStringLiteral("drf_shop"), QStringLiteral("scratch") }) {
        if (!m_server.createDatabase(name, &error))
            QFAIL(qPrintable(error));
    }
    m_apiUrl = m_server.url(QStringLiteral("drf_api"));
    m_shopUrl = m_server.url(QStringLiteral("drf_shop"));
    m_scratchUrl = m_server.url(QStringLiteral("scratch"));
    m_sqlitePath = m_dir.filePath(QStringLiteral("seed1.sqlite3"));

    // Django's migrate creates the schema (jsonb pre_serialized, serial ids), the ORM fills it.
    const auto makeDb = [](const QString &db, const QString &label, int seed) {
        return QStringList { QStringLiteral("make-db"), QStringLiteral("--db"), db, QStringLiteral("--app-label"),
                             label, QStringLiteral("--seed"), QString::number(seed) };
    };
    timer.restart();
    const QList<ProcessResult> made = runReferences({ makeDb(m_apiUrl, QStringLiteral("api"), 1),
                                                      makeDb(m_shopUrl, QStringLiteral("shop"), 2),
                                                      makeDb(m_scratchUrl, QStringLiteral("api"), 3),
                                                      makeDb(m_sqlitePath, QStringLiteral("api"), 1) });
    for (const ProcessResult &result : made)
        QVERIFY2(result.finished && result.exitCode == 0, qPrintable(describe(result)));
    qInfo("make-db x4 in %lld ms", timer.elapsed());

    // "make-db: ... 8 foos, 13 bars, 27 zabs, 40 bazs, 114 zab-baz links"
    static const QRegularExpression summary(
        QStringLiteral("(\\d+) foos, (\\d+) bars, (\\d+) zabs, (\\d+) bazs, (\\d+) zab-baz links"));
    const auto match = summary.match(QString::fromUtf8(made.first().err));
    QVERIFY2(match.hasMatch(), made.first().err.constData());
    m_summary = { match.captured(1).toLongLong(), match.captured(2).toLongLong(), match.captured(3).toLongLong(),
                  match.captured(4).toLongLong(), match.captured(5).toLongLong() };

    const auto renderList = [](const QString &db, const QString &label) {
        return QStringList { QStringLiteral("render"), QStringLiteral("--db"), db, QStringLiteral("--app-label"),
                             label, QStringLiteral("--list") };
    };
    const QList<ProcessResult> lists = runReferences(
        { renderList(m_apiUrl, QStringLiteral("api")), renderList(m_shopUrl, QStringLiteral("shop")) });
    for (const ProcessResult &result : lists)
        QVERIFY2(result.finished && result.exitCode == 0, qPrintable(describe(result)));
    m_apiList = lists[0].out;
    m_shopList = lists[1].out;

    auto database = open(m_apiUrl);
    QVERIFY(database);
    auto ids = database->fooIds();
    QVERIFY2(ids, qPrintable(why(ids)));
    m_apiIds = *ids;
    QVERIFY(!m_apiIds.isEmpty());
}

void TestPostgresDatabase::cleanupTestCase()
{
    m_server.stop();
}

void TestPostgresDatabase::openAndCount()
{
    const auto config = DatabaseConfig::parse(m_apiUrl);
    QVERIFY2(config, qPrintable(why(config)));
    QCOMPARE(config->engine, DatabaseConfig::Engine::Postgres);
    QCOMPARE(config->port, m_server.port());
    QVERIFY2(!config->displayName().contains(m_server.password()), qPrintable(config->displayName()));

    auto database = Database::open(*config);
    QVERIFY2(database, qPrintable(why(database)));
    QVERIFY(!(*database)->isSqlite());
    QVERIFY(!(*database)->sqliteHandle());
    const auto counts = (*database)->counts();
    QVERIFY2(counts, qPrintable(why(counts)));
    QCOMPARE(counts->foos, m_summary.foos);
    QCOMPARE(counts->bars, m_summary.bars);
    QCOMPARE(counts->zabs, m_summary.zabs);
    QCOMPARE(counts->bazs, m_summary.bazs);
    QCOMPARE(counts->links, m_summary.links);
    QCOMPARE(m_apiIds.size(), m_summary.foos);

    const auto labels = (*database)->appLabels();
    QVERIFY2(labels, qPrintable(why(labels)));
    QCOMPARE(*labels, QStringList { QStringLiteral("api") });

    // Django's PostgreSQL schema, not SQLite's: the JSONField is jsonb.
    QSqlQuery query((*database)->connection());
    QVERIFY2(query.exec(QStringLiteral("SELECT data_type FROM information_schema.columns "
                                       "WHERE table_name = 'api_foo' AND column_name = 'pre_serialized'")),
             qPrintable(query.lastError().text()));
    QVERIFY(query.next());
    QCOMPARE(query.value(0).toString(), QStringLiteral("jsonb"));
}

void TestPostgresDatabase::detailMatchesDrf_data()
{
    QTest::addColumn<qint64>("pk");
    for (const qint64 pk : std::as_const(m_apiIds))
        QTest::addRow("pk %lld", pk) << pk;
}

void TestPostgresDatabase::detailMatchesDrf()
{
    QFETCH(qint64, pk);
    auto database = open(m_apiUrl);
    QVERIFY(database);
    Serializer serializer(*database);
    const auto body = serializer.foo(pk);
    QVERIFY2(body, qPrintable(why(body)));
    const QByteArray drf = render(m_apiUrl, QStringLiteral("api"), pk);
    QVERIFY(!drf.isEmpty());
    COMPARE_BODIES(*body, drf);
    QCOMPARE(serializer.replacedSequences(), 0);
}

void TestPostgresDatabase::listMatchesDrf()
{
    auto database = open(m_apiUrl);
    QVERIFY(database);
    Serializer serializer(*database);
    const auto list = serializer.list();
    QVERIFY2(list, qPrintable(why(list)));
    COMPARE_BODIES(*list, m_apiList);
    // The hard names made it through Django, PostgreSQL and us: U+2028 escaped as DRF does, never raw.
    QVERIFY(list->contains(R"(\u2028)"));
    QVERIFY(list->contains(R"(\u2029)"));
    QVERIFY(!list->contains("\xE2\x80\xA8"));
    QVERIFY(list->contains("\xF0\x9F\x98\x80")); // 😀 stays raw UTF-8 (ensure_ascii=False)
}

void TestPostgresDatabase::sameBytesAsSqlite()
{
    // The same seed through Django into SQLite: the engine must not show in the bytes.
    auto postgres = open(m_apiUrl);
    QVERIFY(postgres);
    auto sqliteConfig = DatabaseConfig::parse(m_sqlitePath);
    QVERIFY(sqliteConfig);
    auto sqlite = Database::open(*sqliteConfig);
    QVERIFY2(sqlite, qPrintable(why(sqlite)));
    const auto sqliteIds = (*sqlite)->fooIds();
    QVERIFY(sqliteIds);
    QCOMPARE(*sqliteIds, m_apiIds);

    Serializer fromPostgres(*postgres);
    Serializer fromSqlite(**sqlite);
    for (const qint64 pk : std::as_const(m_apiIds)) {
        const auto a = fromPostgres.foo(pk);
        const auto b = fromSqlite.foo(pk);
        QVERIFY2(a && b, qPrintable(QStringLiteral("pk %1").arg(pk)));
        COMPARE_BODIES(*a, *b);
    }
    const auto a = fromPostgres.list();
    const auto b = fromSqlite.list();
    QVERIFY(a && b);
    COMPARE_BODIES(*a, *b);
    // Both ways of reading the children, on this server's plans too.
    for (const auto plan : { Serializer::Plan::Ranges, Serializer::Plan::Joins }) {
        Serializer forced(*postgres);
        forced.setPlan(plan);
        const auto list = forced.list();
        QVERIFY(list);
        COMPARE_BODIES(*list, *b);
        const auto some = forced.foos(m_apiIds.mid(0, 3));
        for (qsizetype i = 0; i < qsizetype(some.size()); ++i)
            COMPARE_BODIES(*some[size_t(i)], *fromSqlite.foo(m_apiIds[i]));
    }
}

void TestPostgresDatabase::unknownPrimaryKey()
{
    auto database = open(m_apiUrl);
    QVERIFY(database);
    Serializer serializer(*database);
    const qint64 missing = m_apiIds.last() + 1000;
    const auto body = serializer.foo(missing);
    QVERIFY(!body);
    QCOMPARE(body.error().kind, Error::Kind::NotFound);
    QVERIFY2(body.error().message.contains(QString::number(missing)), qPrintable(why(body)));
    // The connection stays usable after the failed lookup.
    const auto again = serializer.foo(m_apiIds.first());
    QVERIFY2(again, qPrintable(why(again)));
}

void TestPostgresDatabase::appLabelShop()
{
    auto database = open(m_shopUrl, QStringLiteral("shop"));
    QVERIFY(database);
    QCOMPARE(database->tables().foo, QStringLiteral("shop_foo"));
    const auto ids = database->fooIds();
    QVERIFY(ids && !ids->isEmpty());
    Serializer serializer(*database);
    const auto list = serializer.list();
    QVERIFY2(list, qPrintable(why(list)));
    COMPARE_BODIES(*list, m_shopList);
    const qint64 pk = ids->last();
    const auto body = serializer.foo(pk);
    QVERIFY2(body, qPrintable(why(body)));
    COMPARE_BODIES(*body, render(m_shopUrl, QStringLiteral("shop"), pk));
}

void TestPostgresDatabase::missingTables_data()
{
    QTest::addColumn<QString>("database");
    QTest::addColumn<QString>("label");
    QTest::addColumn<QStringList>("mustMention");

    const QStringList apiTables { QStringLiteral("api_foo"), QStringLiteral("api_bar"), QStringLiteral("api_zab"),
                                  QStringLiteral("api_baz"), QStringLiteral("api_zab_bazs") };
    QTest::addRow("api label on the shop database")
        << QStringLiteral("drf_shop") << QStringLiteral("api") << apiTables + QStringList { QStringLiteral("shop") };
    QTest::addRow("shop label on the api database")
        << QStringLiteral("drf_api") << QStringLiteral("shop")
        << QStringList { QStringLiteral("shop_foo"), QStringLiteral("shop_zab_bazs"), QStringLiteral("api") };
    QTest::addRow("empty database") << QStringLiteral("postgres") << QStringLiteral("api")
                                    << apiTables + QStringList { QStringLiteral("no table ends in _foo") };
}

void TestPostgresDatabase::missingTables()
{
    QFETCH(QString, database);
    QFETCH(QString, label);
    QFETCH(QStringList, mustMention);
    const auto config = DatabaseConfig::parse(m_server.url(database), label);
    QVERIFY(config);
    const auto opened = Database::open(*config);
    QVERIFY(!opened);
    QCOMPARE(opened.error().kind, Error::Kind::NotFound);
    const QString message = opened.error().message;
    for (const QString &word : mustMention)
        QVERIFY2(message.contains(word), qPrintable(QStringLiteral("\"%1\" not in: %2").arg(word, message)));
    QVERIFY2(!message.contains(m_server.password()), qPrintable(message));
}

void TestPostgresDatabase::readOnlyRefusesWrites()
{
    // The same statement works on a writable connection (rolled back), so the refusal below is the
    // read-only setting's doing, not a missing privilege.
    {
        auto writable = open(m_scratchUrl);
        QVERIFY(writable);
        QSqlDatabase connection = writable->connection();
        QVERIFY(connection.transaction());
        QSqlQuery insert(connection);
        QVERIFY2(insert.exec(QStringLiteral("INSERT INTO api_baz (name) VALUES ('written')")),
                 qPrintable(insert.lastError().text()));
        QVERIFY(connection.rollback());
    }
    const auto config = DatabaseConfig::parse(m_scratchUrl, QStringLiteral("api"), true);
    QVERIFY(config && config->readOnly);
    auto database = Database::open(*config);
    QVERIFY2(database, qPrintable(why(database)));
    const auto before = (*database)->counts();
    QVERIFY(before);

    QSqlQuery insert((*database)->connection());
    QVERIFY(!insert.exec(QStringLiteral("INSERT INTO api_baz (name) VALUES ('must not be written')")));
    QVERIFY2(insert.lastError().text().contains(QLatin1String("read-only")), qPrintable(insert.lastError().text()));
    // Also inside an explicit transaction (where a session setting could be overridden per transaction).
    QSqlQuery begin((*database)->connection());
    QVERIFY(begin.exec(QStringLiteral("BEGIN")));
    QSqlQuery update((*database)->connection());
    QVERIFY(!update.exec(QStringLiteral("UPDATE api_foo SET name = 'changed'")));
    QVERIFY(begin.exec(QStringLiteral("ROLLBACK")));

    // Reading still works, snapshot transactions included.
    Serializer serializer(**database);
    const auto list = serializer.list();
    QVERIFY2(list, qPrintable(why(list)));
    const auto after = (*database)->counts();
    QVERIFY(after);
    QCOMPARE(after->bazs, before->bazs);
    QCOMPARE(after->foos, before->foos);
}

void TestPostgresDatabase::wrongPassword()
{
    QUrl url(m_apiUrl);
    url.setPassword(QStringLiteral("not-the-password"));
    const auto config = DatabaseConfig::parse(url.toString());
    QVERIFY(config);
    QElapsedTimer timer;
    timer.start();
    const auto opened = Database::open(*config);
    QVERIFY(!opened);
    QVERIFY2(timer.elapsed() < 10000, qPrintable(QString::number(timer.elapsed())));
    QCOMPARE(opened.error().kind, Error::Kind::Database);
    const QString message = opened.error().message;
    QVERIFY2(message.contains(QLatin1String("password authentication failed")), qPrintable(message));
    QVERIFY2(message.contains(QLatin1String("preserve")), qPrintable(message));
    QVERIFY2(!message.contains(QLatin1String("not-the-password")), qPrintable(message));
}

void TestPostgresDatabase::refusedPort()
{
    const int port = TestPostgres::freePort();
    QVERIFY(port > 0);
    const auto config = DatabaseConfig::parse(
        QStringLiteral("postgresql://preserve:secret@127.0.0.1:%1/drf_api").arg(port));
    QVERIFY(config);
    QElapsedTimer timer;
    timer.start();
    const auto opened = Database::open(*config);
    QVERIFY(!opened);
    QVERIFY2(timer.elapsed() < 5000, qPrintable(QString::number(timer.elapsed())));
    QCOMPARE(opened.error().kind, Error::Kind::Database);
    const QString message = opened.error().message;
    QVERIFY2(message.contains(QString::number(port)), qPrintable(message));
    QVERIFY2(message.contains(QLatin1String("refused"), Qt::CaseInsensitive), qPrintable(message));
    QVERIFY2(!message.contains(QLatin1String("secret")), qPrintable(message));
}

void TestPostgresDatabase::urlEncodedCredentials()
{
    // User and password with characters a URL must percent-encode.
    const QString user = QStringLiteral("odd user@é");
    const QString password = QStringLiteral("p@ss:w/ord?#%é 'x'");
    QString sqlPassword = password;
    sqlPassword.replace(QLatin1Char('\''), QStringLiteral("''"));
    QString error;
    QVERIFY2(m_server.exec(QStringLiteral("drf_api"),
                           QStringLiteral("DROP ROLE IF EXISTS \"%1\";\n"
                                          "CREATE ROLE \"%1\" LOGIN PASSWORD '%2';\n"
                                          "GRANT SELECT ON ALL TABLES IN SCHEMA public TO \"%1\";\n")
                               .arg(user, sqlPassword),
                           &error),
             qPrintable(error));
    QUrl url(m_apiUrl);
    url.setUserName(user);
    url.setPassword(password);
    const QString spec = url.toString(QUrl::FullyEncoded);
    QVERIFY2(spec.contains(QLatin1String("%40")), qPrintable(spec));
    auto database = open(spec);
    QVERIFY(database);
    QCOMPARE(database->config().user, user);
    QCOMPARE(database->config().password, password);
    Serializer serializer(*database);
    const auto list = serializer.list();
    QVERIFY2(list, qPrintable(why(list)));
    COMPARE_BODIES(*list, m_apiList);
}

void TestPostgresDatabase::environmentFallback_data()
{
    QTest::addColumn<QString>("spec");
    QTest::addColumn<bool>("setDatabase");
    QTest::addRow("bare scheme") << QStringLiteral("postgresql://") << true;
    QTest::addRow("postgres alias") << QStringLiteral("postgres://") << true;
    QTest::addRow("database only") << QStringLiteral("postgresql:///drf_api") << false;
}

void TestPostgresDatabase::environmentFallback()
{
    QFETCH(QString, spec);
    QFETCH(bool, setDatabase);
    const EnvironmentRestorer restore(
        { "PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE", "PGSERVICE", "PGPASSFILE" });
    qputenv("PGHOST", m_server.host().toUtf8());
    qputenv("PGPORT", QByteArray::number(m_server.port()));
    qputenv("PGUSER", m_server.user().toUtf8());
    qputenv("PGPASSWORD", m_server.password().toUtf8());
    qunsetenv("PGSERVICE");
    qputenv("PGPASSFILE", "/nonexistent");
    if (setDatabase)
        qputenv("PGDATABASE", "drf_api");
    else
        qunsetenv("PGDATABASE");

    const auto config = DatabaseConfig::parse(spec);
    QVERIFY2(config, qPrintable(why(config)));
    QCOMPARE(config->engine, DatabaseConfig::Engine::Postgres);
    auto database = Database::open(*config);
    QVERIFY2(database, qPrintable(why(database)));
    const auto counts = (*database)->counts();
    QVERIFY(counts);
    QCOMPARE(counts->foos, m_summary.foos);
    Serializer serializer(**database);
    const auto list = serializer.list();
    QVERIFY2(list, qPrintable(why(list)));
    COMPARE_BODIES(*list, m_apiList);
}

void TestPostgresDatabase::hardNamesRoundTrip_data()
{
    QTest::addColumn<QByteArray>("name");     // UTF-8, as inserted by SQL
    QTest::addColumn<QByteArray>("expected"); // the JSON string DRF writes for it

    QTest::addRow("line and paragraph separators")
        << QByteArray("LS\xE2\x80\xA8PS\xE2\x80\xA9 end") << QByteArray(R"("LS\u2028PS\u2029 end")");
    QTest::addRow("emoji") << QByteArray("emoji \xF0\x9F\x98\x80 \xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD "
                                         "\xF0\x9D\x84\x9E flag \xF0\x9F\x87\xAB\xF0\x9F\x87\xB7")
                           << QByteArray("\"emoji \xF0\x9F\x98\x80 \xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD "
                                         "\xF0\x9D\x84\x9E flag \xF0\x9F\x87\xAB\xF0\x9F\x87\xB7\"");
    QTest::addRow("quotes and backslashes") << QByteArray(R"(say "hi", it's \ </script> \u2028)")
                                            << QByteArray(R"("say \"hi\", it's \\ </script> \\u2028")");
    QTest::addRow("control characters")
        << QByteArray("tab\t nl\n cr\r bs\b ff\f soh\x01 us\x1f del\x7f nel\xC2\x85")
        << QByteArray(R"("tab\t nl\n cr\r bs\b ff\f soh\u0001 us\u001f del)"
                      "\x7f"
                      R"( nel)"
                      "\xC2\x85\"");
    QTest::addRow("everything at once") << QByteArray("\xE2\x80\xA8\"\xF0\x9F\x98\x80'\\\x01\t\xE2\x80\xA9")
                                        << QByteArray(R"("\u2028\")"
                                                      "\xF0\x9F\x98\x80"
                                                      R"('\\\u0001\t\u2029")");
}

void TestPostgresDatabase::hardNamesRoundTrip()
{
    QFETCH(QByteArray, name);
    QFETCH(QByteArray, expected);
    // One new Foo whose Bar, Zab and Baz all carry the name, written by SQL (not by Django).
    const QString literal = pgLiteral(name);
    const QString sql = QStringLiteral(
                            "WITH f AS (INSERT INTO api_foo (name) VALUES (%1) RETURNING id),\n"
                            "     b AS (INSERT INTO api_bar (foo_id, name) SELECT id, %1 FROM f RETURNING id),\n"
                            "     z AS (INSERT INTO api_zab (bar_id, name) SELECT id, %1 FROM b RETURNING id),\n"
                            "     bz AS (INSERT INTO api_baz (name) VALUES (%1) RETURNING id)\n"
                            "INSERT INTO api_zab_bazs (zab_id, baz_id) SELECT z.id, bz.id FROM z, bz;\n")
                            .arg(literal);
    QString error;
    QVERIFY2(m_server.exec(QStringLiteral("scratch"), sql, &error), qPrintable(error));

    auto database = open(m_scratchUrl);
    QVERIFY(database);
    const auto ids = database->fooIds();
    QVERIFY(ids && !ids->isEmpty());
    const qint64 pk = ids->last();
    // What PostgreSQL stored is what we meant (the SQL literal did not alter it).
    QSqlQuery stored(database->connection());
    QVERIFY(stored.exec(QStringLiteral("SELECT name FROM api_foo WHERE id = %1").arg(pk)));
    QVERIFY(stored.next());
    QCOMPARE(stored.value(0).toString().toUtf8(), name);

    Serializer serializer(*database);
    const auto body = serializer.foo(pk);
    QVERIFY2(body, qPrintable(why(body)));
    const QByteArray golden = "{\"name\":" + expected + ",\"bar_set\":[{\"name\":" + expected
        + ",\"zab_set\":[{\"name\":" + expected + ",\"bazs\":[{\"name\":" + expected + "}]}]}]}";
    COMPARE_BODIES(*body, golden);
    COMPARE_BODIES(*body, render(m_scratchUrl, QStringLiteral("api"), pk));
}

QTEST_GUILESS_MAIN(TestPostgresDatabase)
#include "tst_postgres.moc"
