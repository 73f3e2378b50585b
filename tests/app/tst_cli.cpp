#include "db/seeder.h"
#include "testredis.h"
#include "testsupport.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMap>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QProcess>
#include <QTcpServer>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QHostAddress>
#include <QTest>

// The `preserve` executable as an operator and a script use it: exit codes, stdout, stderr.
class TestCli : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_db;

    ProcessResult preserve(const QStringList &arguments)
    {
        return runProcess(preserveBinary(), arguments);
    }

    // Statements on a SQLite file of the test's, through a connection of its own, as another program writes.
    static bool execSql(const QString &path, const QStringList &statements)
    {
        bool ok = true;
        {
            QSqlDatabase sql = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("tst_cli_exec"));
            sql.setDatabaseName(path);
            ok = sql.open();
            QSqlQuery query(sql);
            for (const QString &statement : statements)
                ok = ok && query.exec(statement);
        }
        QSqlDatabase::removeDatabase(QStringLiteral("tst_cli_exec"));
        return ok;
    }

private slots:
    void initTestCase()
    {
        m_db = m_dir.filePath(QStringLiteral("small.sqlite3"));
        const auto seeded = preserve({ QStringLiteral("seed"), QStringLiteral("--scale"), QStringLiteral("small"),
                                       QStringLiteral("--out"), m_db });
        QCOMPARE(seeded.exitCode, 0);
        QVERIFY(seeded.out.contains("20 Foo"));
    }

    void helpListsTheCommands()
    {
        const auto help = preserve({ QStringLiteral("--help") });
        QCOMPARE(help.exitCode, 0);
        for (const char *command : { "seed", "dump", "info" })
            QVERIFY2(help.out.contains(command), command);
        const auto seedHelp = preserve({ QStringLiteral("seed"), QStringLiteral("--help") });
        QCOMPARE(seedHelp.exitCode, 0);
        QVERIFY(seedHelp.out.contains("--scale"));
    }

    void usageErrors_data()
    {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QByteArray>("message");
        QTest::addRow("unknown command") << QStringList { QStringLiteral("frobnicate") } << 2 << QByteArray("frobnicate");
        QTest::addRow("unknown option") << QStringList { QStringLiteral("dump"), QStringLiteral("--bogus") } << 2
                                        << QByteArray("bogus");
        QTest::addRow("pk not a number") << QStringList { QStringLiteral("dump"), QStringLiteral("1x") } << 2
                                         << QByteArray("1x");
        QTest::addRow("pk and --all") << QStringList { QStringLiteral("dump"), QStringLiteral("1"), QStringLiteral("--all") }
                                      << 2 << QByteArray("--all");
        QTest::addRow("bad label") << QStringList { QStringLiteral("info"), QStringLiteral("--app-label"),
                                                    QStringLiteral("x;drop") }
                                   << 2 << QByteArray("x;drop");
        QTest::addRow("bad scale") << QStringList { QStringLiteral("seed"), QStringLiteral("--scale"), QStringLiteral("huge") }
                                   << 2 << QByteArray("huge");
        QTest::addRow("bad URL scheme") << QStringList { QStringLiteral("info"), QStringLiteral("--db"),
                                                         QStringLiteral("mysql://h/db") }
                                        << 2 << QByteArray("mysql");
        QTest::addRow("bad --sendfile-from") << QStringList { QStringLiteral("serve"), QStringLiteral("--port"), QStringLiteral("0"),
                                                              QStringLiteral("--sendfile-from"), QStringLiteral("-5") }
                                             << 2 << QByteArray("--sendfile-from");
        QTest::addRow("--sendfile-to below --sendfile-from")
            << QStringList { QStringLiteral("serve"), QStringLiteral("--port"), QStringLiteral("0"), QStringLiteral("--sendfile-from"),
                             QStringLiteral("200"), QStringLiteral("--sendfile-to"), QStringLiteral("100") }
            << 2 << QByteArray("--sendfile-to 100 is below --sendfile-from 200");
        QTest::addRow("--listen and --port disagree")
            << QStringList { QStringLiteral("serve"), QStringLiteral("--listen"), QStringLiteral("127.0.0.1:8001"),
                             QStringLiteral("--port"), QStringLiteral("8002") }
            << 2 << QByteArray("--listen 127.0.0.1:8001 and --port 8002 name different ports");
        QTest::addRow("--listen with a port that is no number")
            << QStringList { QStringLiteral("serve"), QStringLiteral("--listen"), QStringLiteral("127.0.0.1:http") }
            << 2 << QByteArray("the port takes a number from 0 to 65535");
        QTest::addRow("--listen with a port past 65535")
            << QStringList { QStringLiteral("serve"), QStringLiteral("--listen"), QStringLiteral("127.0.0.1:70000") }
            << 2 << QByteArray("the port takes a number from 0 to 65535");
        QTest::addRow("--listen IPv6 with an unclosed bracket")
            << QStringList { QStringLiteral("serve"), QStringLiteral("--listen"), QStringLiteral("[::1:8000") }
            << 2 << QByteArray("[::1]:8000");
        // libmicrohttpd would refuse the header on every response, silently.
        QTest::addRow("--cache-control with a line break") << QStringList { QStringLiteral("serve"), QStringLiteral("--port"), QStringLiteral("0"),
                                                                            QStringLiteral("--cache-control"), QStringLiteral("max-age=5\r\nX-Inj: 1") }
                                                           << 2 << QByteArray("--cache-control takes one header value of printable ASCII characters, not U+000D");
        QTest::addRow("--cache-control with a tab") << QStringList { QStringLiteral("serve"), QStringLiteral("--port"), QStringLiteral("0"),
                                                                     QStringLiteral("--cache-control"), QStringLiteral("max-age=5,\tpublic") }
                                                    << 2 << QByteArray("U+0009");
    }

    void usageErrors()
    {
        QFETCH(QStringList, arguments);
        QFETCH(int, exitCode);
        QFETCH(QByteArray, message);
        if (arguments.first() != QLatin1String("seed") && !arguments.contains(QStringLiteral("--db")))
            arguments << QStringLiteral("--db") << m_db;
        const auto result = preserve(arguments);
        QCOMPARE(result.exitCode, exitCode);
        QVERIFY2(result.err.contains(message), result.err.constData());
        QVERIFY(result.out.isEmpty());
    }

    void notFound()
    {
        const auto pk = preserve({ QStringLiteral("dump"), QStringLiteral("999"), QStringLiteral("--db"), m_db });
        QCOMPARE(pk.exitCode, 3);
        QVERIFY(pk.err.contains("999"));
        QVERIFY(pk.out.isEmpty());
        const QString missing = m_dir.filePath(QStringLiteral("missing.sqlite3"));
        const auto db = preserve({ QStringLiteral("info"), QStringLiteral("--db"), missing });
        QCOMPARE(db.exitCode, 3);
        QVERIFY(db.err.contains(missing.toUtf8()));
        QVERIFY(!QFile::exists(missing));
        const auto label = preserve({ QStringLiteral("info"), QStringLiteral("--db"), m_db, QStringLiteral("--app-label"),
                                      QStringLiteral("shop") });
        QCOMPARE(label.exitCode, 3);
        QVERIFY(label.err.contains("shop_foo"));
        QVERIFY(label.err.contains("api"));
    }

    void unknownFoos_data()
    {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QByteArray>("message");
        QTest::addRow("invalidate") << QStringList { QStringLiteral("invalidate"), QStringLiteral("999") } << QByteArray("Foo 999 does not exist");
        QTest::addRow("invalidate, some unknown") << QStringList { QStringLiteral("invalidate"), QStringLiteral("998"), QStringLiteral("1"), QStringLiteral("999") }
                                                  << QByteArray("Foos 998, 999 do not exist");
        QTest::addRow("invalidate --json") << QStringList { QStringLiteral("invalidate"), QStringLiteral("999"), QStringLiteral("--json") }
                                           << QByteArray("Foo 999 does not exist");
        QTest::addRow("verify") << QStringList { QStringLiteral("verify"), QStringLiteral("999") } << QByteArray("Foo 999 does not exist");
        QTest::addRow("verify --json") << QStringList { QStringLiteral("verify"), QStringLiteral("2"), QStringLiteral("999"), QStringLiteral("--json") }
                                       << QByteArray("Foo 999 does not exist");
    }
    void unknownFoos()
    {
        // Nothing is done, the reason is said once on stderr, and the exit code is "no such Foo".
        QFETCH(QStringList, arguments);
        QFETCH(QByteArray, message);
        const auto result = preserve(arguments + QStringList { QStringLiteral("--db"), m_db });
        QCOMPARE(result.exitCode, 3);
        QCOMPARE(result.err, "preserve: " + message + '\n');
        QCOMPARE(result.out, QByteArray());
    }

    void unreachablePostgresIsOneLine()
    {
        // Nothing listens on port 1: libpq's two lines joined, without Qt's "QPSQL: Unable to connect".
        const auto info = preserve({ QStringLiteral("info"), QStringLiteral("--db"), QStringLiteral("postgresql://preserve@127.0.0.1:1/x") });
        QCOMPARE(info.exitCode, 1);
        QVERIFY2(info.err.startsWith("preserve: cannot open "), info.err.constData());
        QCOMPARE(info.err.count('\n'), 1);
        QVERIFY2(info.err.endsWith('\n'), info.err.constData());
        QVERIFY2(!info.err.contains("QPSQL") && !info.err.contains('\t'), info.err.constData());
        QVERIFY2(info.err.contains("Connection refused; Is the server running"), info.err.constData());
        QVERIFY(info.out.isEmpty());
    }

    void dumpAllIsTheListOfDumps()
    {
        const auto all = preserve({ QStringLiteral("dump"), QStringLiteral("--all"), QStringLiteral("--db"), m_db });
        QCOMPARE(all.exitCode, 0);
        QByteArray joined("[");
        for (int pk = 1; pk <= 20; ++pk) {
            const auto one = preserve({ QStringLiteral("dump"), QString::number(pk), QStringLiteral("--db"), m_db,
                                        QStringLiteral("--read-only") });
            QCOMPARE(one.exitCode, 0);
            QVERIFY(!one.out.endsWith('\n'));
            joined += (pk > 1 ? "," : "") + one.out;
        }
        QCOMPARE(all.out, joined + "]");
    }

    void infoCounts()
    {
        const auto info = preserve({ QStringLiteral("info"), QStringLiteral("--db"), m_db });
        QCOMPARE(info.exitCode, 0);
        QVERIFY(info.out.contains("Foo:        20"));
    }

    void seedRefusesToOverwrite()
    {
        const auto again = preserve({ QStringLiteral("seed"), QStringLiteral("--scale"), QStringLiteral("small"),
                                      QStringLiteral("--out"), m_db });
        QCOMPARE(again.exitCode, 2);
        QVERIFY(again.err.contains("--force"));
        const auto ifMissing = preserve({ QStringLiteral("seed"), QStringLiteral("--out"), m_db, QStringLiteral("--if-missing") });
        QCOMPARE(ifMissing.exitCode, 0);
        QVERIFY(ifMissing.out.contains("already"));
    }

    void cacheCommands()
    {
        // The operator's loop: warm, track, change, see it stale, refresh what is stale, verify.
        const QString db = m_dir.filePath(QStringLiteral("cache.sqlite3"));
        QCOMPARE(preserve({ QStringLiteral("seed"), QStringLiteral("--scale"), QStringLiteral("small"), QStringLiteral("--out"), db }).exitCode, 0);
        const QStringList onDb { QStringLiteral("--db"), db };
        // A name with what JSON escapes, beside the demo's control characters.
        QVERIFY(execSql(db, { QStringLiteral("UPDATE api_foo SET name = 'say \"hi\"' WHERE id = 1"),
                              QStringLiteral("UPDATE api_foo SET name = 'back\\slash' WHERE id = 3"),
                              QString::fromUtf8("UPDATE api_foo SET name = 'line \u2028 caf\u00e9' WHERE id = 4") }));
        const auto states = [&] {
            const auto status = preserve(QStringList { QStringLiteral("status"), QStringLiteral("--json") } + onDb);
            // Written by hand, byte for byte what QJsonDocument makes of the same rows (key order,
            // escapes of the demo's hard names, null for what is not cached).
            const QByteArray compact = QJsonDocument(QJsonDocument::fromJson(status.out).array()).toJson(QJsonDocument::Compact);
            [&] { QCOMPARE(status.out, compact + '\n'); }();
            QMap<QString, int> counts;
            for (const auto &entry : QJsonDocument::fromJson(status.out).array())
                ++counts[entry[QLatin1String("state")].toString()];
            return counts;
        };
        QCOMPARE(states(), (QMap<QString, int> { { QStringLiteral("missing"), 20 } }));

        const auto warm = preserve(QStringList { QStringLiteral("warm"), QStringLiteral("--json"), QStringLiteral("--jobs"), QStringLiteral("2") } + onDb);
        QCOMPARE(warm.exitCode, 0);
        QCOMPARE(QJsonDocument::fromJson(warm.out)[QLatin1String("done")].toInt(), 20);
        QCOMPARE(states(), (QMap<QString, int> { { QStringLiteral("unknown"), 20 } })); // not tracked: never "fresh"

        const auto install = preserve(QStringList { QStringLiteral("track"), QStringLiteral("install") } + onDb);
        QCOMPARE(install.exitCode, 0);
        QVERIFY(install.out.contains("installed"));
        QCOMPARE(preserve(QStringList { QStringLiteral("warm") } + onDb).exitCode, 0);
        QCOMPARE(states(), (QMap<QString, int> { { QStringLiteral("fresh"), 20 } }));

        {
            QSqlDatabase change = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("change"));
            change.setDatabaseName(db);
            QVERIFY(change.open());
            QVERIFY(QSqlQuery(change).exec(QStringLiteral("UPDATE api_baz SET name = 'renamed' WHERE id = 5")));
            change.close();
        }
        QSqlDatabase::removeDatabase(QStringLiteral("change"));
        const auto afterChange = states();
        QVERIFY(afterChange.value(QStringLiteral("stale")) > 0);
        const auto table = preserve(QStringList { QStringLiteral("status") } + onDb);
        QVERIFY2(table.out.contains("Baz 5 updated"), table.out.constData());
        // The columns line up in characters, not bytes: some names are multi-byte UTF-8.
        const QStringList lines = QString::fromUtf8(table.out).split(QLatin1Char('\n'));
        const qsizetype reasonAt = lines.first().indexOf(QStringLiteral("reason"));
        QVERIFY(reasonAt > 0);
        int rows = 0;
        bool multiByteName = false;
        for (const QString &line : lines.mid(1, 20)) {
            QVERIFY2(line.size() > reasonAt && line.at(reasonAt - 1) == QLatin1Char(' ') && !line.at(reasonAt).isSpace(),
                     qPrintable(line));
            const QString state = line.mid(10, 10).trimmed();
            QVERIFY2(state == QStringLiteral("fresh") || state == QStringLiteral("stale"), qPrintable(line));
            multiByteName = multiByteName || line.toUtf8().size() != line.size();
            ++rows;
        }
        QCOMPARE(rows, 20);
        QVERIFY(multiByteName);

        const auto verify = preserve(QStringList { QStringLiteral("verify"), QStringLiteral("--json") } + onDb);
        QCOMPARE(verify.exitCode, 1);
        QCOMPARE(QJsonDocument::fromJson(verify.out)[QLatin1String("differing")].toInt(), afterChange.value(QStringLiteral("stale")));

        const auto stale = preserve(QStringList { QStringLiteral("warm"), QStringLiteral("--stale-only"), QStringLiteral("--json") } + onDb);
        QCOMPARE(stale.exitCode, 0);
        QCOMPARE(QJsonDocument::fromJson(stale.out)[QLatin1String("done")].toInt(), afterChange.value(QStringLiteral("stale")));
        QCOMPARE(states(), (QMap<QString, int> { { QStringLiteral("fresh"), 20 } }));
        QCOMPARE(preserve(QStringList { QStringLiteral("verify") } + onDb).exitCode, 0);

        // What the rename reached is what `impact` says Baz 5 reaches; rolling one of them back makes
        // it stale again (its old entry, computed so), a second rollback fresh.
        const auto impact = preserve(QStringList { QStringLiteral("impact"), QStringLiteral("baz"), QStringLiteral("5"),
                                                   QStringLiteral("--json") } + onDb);
        QCOMPARE(impact.exitCode, 0);
        const QJsonArray reached = QJsonDocument::fromJson(impact.out)[QLatin1String("foos")].toArray();
        QCOMPARE(reached.size(), afterChange.value(QStringLiteral("stale")));
        const QString first = QString::number(reached.first()[QLatin1String("pk")].toInteger());
        const auto back = preserve(QStringList { QStringLiteral("rollback"), first } + onDb);
        QCOMPARE(back.exitCode, 0);
        QVERIFY2(back.out.contains("rolled back: stale (Baz 5 updated"), back.out.constData());
        const auto forth = preserve(QStringList { QStringLiteral("rollback"), first } + onDb);
        QVERIFY2(forth.out.contains("rolled back: fresh"), forth.out.constData());
        QCOMPARE(preserve(QStringList { QStringLiteral("impact"), QStringLiteral("baz"), QStringLiteral("999999") } + onDb).exitCode, 3);
        QCOMPARE(preserve(QStringList { QStringLiteral("impact"), QStringLiteral("qux"), QStringLiteral("1") } + onDb).exitCode, 2);

        QCOMPARE(preserve(QStringList { QStringLiteral("invalidate"), QStringLiteral("1"), QStringLiteral("2") } + onDb).exitCode, 0);
        QCOMPARE(states().value(QStringLiteral("missing")), 2);
        QCOMPARE(preserve(QStringList { QStringLiteral("rollback"), QStringLiteral("2") } + onDb).exitCode, 0); // an invalidation undone
        QCOMPARE(states().value(QStringLiteral("missing")), 1);
        QCOMPARE(preserve(QStringList { QStringLiteral("invalidate"), QStringLiteral("2") } + onDb).exitCode, 0);

        const auto uninstall = preserve(QStringList { QStringLiteral("track"), QStringLiteral("uninstall") } + onDb);
        QCOMPARE(uninstall.exitCode, 0);
        QVERIFY(uninstall.out.contains("not installed"));
        QCOMPARE(states().value(QStringLiteral("unknown")), 18);
    }

    void cacheCommandErrors_data()
    {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QByteArray>("message");
        QTest::addRow("bad track action") << QStringList { QStringLiteral("track"), QStringLiteral("enable") } << 2 << QByteArray("install");
        QTest::addRow("no jobs") << QStringList { QStringLiteral("warm"), QStringLiteral("--jobs"), QStringLiteral("0") } << 2 << QByteArray("--jobs");
        QTest::addRow("bad store") << QStringList { QStringLiteral("status"), QStringLiteral("--store"), QStringLiteral("memcached") } << 2 << QByteArray("memcached");
        QTest::addRow("bad redis url") << QStringList { QStringLiteral("status"), QStringLiteral("--store"), QStringLiteral("redis"), QStringLiteral("--redis"), QStringLiteral("http://x") } << 2 << QByteArray("http");
        QTest::addRow("invalidate nothing") << QStringList { QStringLiteral("invalidate") } << 2 << QByteArray("primary keys, --all or --orphans");
        QTest::addRow("warm with Redis down") << QStringList { QStringLiteral("warm"), QStringLiteral("--store"), QStringLiteral("redis"),
                                                               QStringLiteral("--redis"), QStringLiteral("redis://127.0.0.1:1/0") }
                                              << 1 << QByteArray("Connection refused (nothing was done; run it again when the store is back)");
        QTest::addRow("invalidate not a pk") << QStringList { QStringLiteral("invalidate"), QStringLiteral("x1") } << 2 << QByteArray("x1");
        // Nothing listens on port 1: Redis unavailable is a clear failure, not a hang or a crash.
        QTest::addRow("redis down") << QStringList { QStringLiteral("warm"), QStringLiteral("--store"), QStringLiteral("redis"), QStringLiteral("--redis"), QStringLiteral("redis://127.0.0.1:1/0") } << 1 << QByteArray("unavailable");
    }

    void cacheCommandErrors()
    {
        QFETCH(QStringList, arguments);
        QFETCH(int, exitCode);
        QFETCH(QByteArray, message);
        const auto result = preserve(arguments + QStringList { QStringLiteral("--db"), m_db });
        QCOMPARE(result.exitCode, exitCode);
        QVERIFY2(result.err.contains(message), result.err.constData());
    }

    // gunicorn, uvicorn and runserver take HOST:PORT; so does serve, next to --port.
    void serveListensOnHostAndPort_data()
    {
        QTest::addColumn<QString>("listen");
        QTest::addColumn<bool>("samePortOption");
        QTest::addColumn<QString>("expectedHost");
        QTest::addRow("IPv4 with port") << QStringLiteral("127.0.0.1:%1") << false << QStringLiteral("127.0.0.1");
        QTest::addRow("IPv4 with the same --port") << QStringLiteral("127.0.0.1:%1") << true << QStringLiteral("127.0.0.1");
        QTest::addRow("localhost with port") << QStringLiteral("localhost:%1") << false << QStringLiteral("localhost");
        QTest::addRow("IPv6 with port") << QStringLiteral("[::1]:%1") << false << QStringLiteral("[::1]");
        QTest::addRow("IPv6 in brackets, --port") << QStringLiteral("[::1]") << true << QStringLiteral("[::1]");
    }

    void serveListensOnHostAndPort()
    {
        QFETCH(QString, listen);
        QFETCH(bool, samePortOption);
        QFETCH(QString, expectedHost);
        if (expectedHost.startsWith(QLatin1Char('['))) {
            QTcpServer probe;
            if (!probe.listen(QHostAddress::LocalHostIPv6))
                QSKIP("no IPv6 loopback on this machine");
        }
        QTcpServer free;
        QVERIFY(free.listen(QHostAddress::LocalHost));
        const quint16 port = free.serverPort();
        free.close();
        QStringList arguments { QStringLiteral("serve"), QStringLiteral("--quiet"), QStringLiteral("--db"), m_db,
                                QStringLiteral("--listen"), listen.contains(QLatin1String("%1")) ? listen.arg(port) : listen };
        if (samePortOption)
            arguments << QStringLiteral("--port") << QString::number(port);
        QProcess serve;
        serve.start(preserveBinary(), arguments);
        QByteArray out;
        QTRY_VERIFY2_WITH_TIMEOUT((out += serve.readAllStandardOutput()).contains('\n') || serve.state() == QProcess::NotRunning,
                                  "serve printed nothing", 30000);
        const QByteArray expected = QStringLiteral("Serving http://%1:%2/api/foos/").arg(expectedHost).arg(port).toUtf8();
        QVERIFY2(out.startsWith(expected), (out + serve.readAllStandardError()).constData());
        serve.terminate();
        QVERIFY(serve.waitForFinished(30000));
        QCOMPARE(serve.exitCode(), 0);
    }

    // Reachable from the network, or a token others can read: said on stderr, serving goes on.
    void serveWarnsWhenExposed()
    {
        QTemporaryDir dir;
        QFile token(dir.filePath(QStringLiteral("token")));
        QVERIFY(token.open(QIODevice::WriteOnly));
        token.write("s3cret\n");
        token.close();
        QVERIFY(token.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ReadGroup | QFileDevice::ReadOther));
        QProcess serve;
        serve.start(preserveBinary(), { QStringLiteral("serve"), QStringLiteral("--quiet"), QStringLiteral("--db"), m_db,
                                        QStringLiteral("--listen"), QStringLiteral("0.0.0.0:0"), QStringLiteral("--token-file"), token.fileName() });
        QByteArray out;
        QTRY_VERIFY_WITH_TIMEOUT((out += serve.readAllStandardOutput()).contains('\n') || serve.state() == QProcess::NotRunning, 30000);
        QVERIFY2(out.startsWith("Serving http://0.0.0.0:"), out.constData());
        const QByteArray err = serve.readAllStandardError();
        QVERIFY2(err.contains("warning: listening on 0.0.0.0: the API") && err.contains("reachable from the network"), err.constData());
        QVERIFY2(err.contains("warning: the token file") && err.contains("chmod 600"), err.constData());
        serve.terminate();
        QVERIFY(serve.waitForFinished(30000));
        // Loopback and a private token: no warning.
        QVERIFY(token.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner));
        serve.start(preserveBinary(), { QStringLiteral("serve"), QStringLiteral("--quiet"), QStringLiteral("--db"), m_db,
                                        QStringLiteral("--port"), QStringLiteral("0"), QStringLiteral("--token-file"), token.fileName() });
        out.clear();
        QTRY_VERIFY_WITH_TIMEOUT((out += serve.readAllStandardOutput()).contains('\n') || serve.state() == QProcess::NotRunning, 30000);
        QVERIFY2(!serve.readAllStandardError().contains("warning"), "warned without cause");
        serve.terminate();
        QVERIFY(serve.waitForFinished(30000));
    }

    // Redis keeps the entries of Foos deleted since: status lists them as orphans (never fresh, never
    // served), invalidate --orphans removes exactly those.
    void orphansInRedis()
    {
        TestRedis redis;
        QString error;
        QVERIFY2(redis.start(&error), qPrintable(error));
        const QString db = m_dir.filePath(QStringLiteral("orphans.sqlite3"));
        QVERIFY(QFile::copy(m_db, db));
        const QStringList onRedis { QStringLiteral("--db"), db, QStringLiteral("--store"), QStringLiteral("redis"),
                                    QStringLiteral("--redis"), redis.url() };
        QCOMPARE(preserve(QStringList { QStringLiteral("warm") } + onRedis).exitCode, 0);
        QVERIFY(execSql(db, { QStringLiteral("PRAGMA foreign_keys = OFF"), QStringLiteral("DELETE FROM api_foo WHERE id = 3") }));
        const auto status = preserve(QStringList { QStringLiteral("status"), QStringLiteral("--json") } + onRedis);
        QCOMPARE(status.exitCode, 0);
        const QJsonArray rows = QJsonDocument::fromJson(status.out).array();
        QJsonArray orphans;
        for (const QJsonValue &row : rows) {
            if (row[QLatin1String("state")].toString() == QLatin1String("orphan"))
                orphans.append(row);
        }
        QCOMPARE(orphans.size(), 1);
        QCOMPARE(orphans.first()[QLatin1String("pk")].toInteger(), 3);
        QVERIFY(orphans.first()[QLatin1String("name")].isNull());
        QCOMPARE(status.out, QJsonDocument(rows).toJson(QJsonDocument::Compact) + '\n');
        const auto table = preserve(QStringList { QStringLiteral("status") } + onRedis);
        QVERIFY2(table.out.contains("; 1 orphan entry of Foos that are gone"), table.out.constData());
        const auto removed = preserve(QStringList { QStringLiteral("invalidate"), QStringLiteral("--orphans") } + onRedis);
        QCOMPARE(removed.exitCode, 0);
        QVERIFY2(removed.out.startsWith("Invalidated 1 of 1"), removed.out.constData());
        const auto after = preserve(QStringList { QStringLiteral("status") } + onRedis);
        QVERIFY2(!after.out.contains("orphan"), after.out.constData());
        QCOMPARE(preserve({ QStringLiteral("invalidate"), QStringLiteral("--orphans"), QStringLiteral("--all"), QStringLiteral("--db"), db }).exitCode, 2);
    }

    // serve --keep-fresh runs the worker in-process: a change is refreshed without anyone asking.
    void serveKeepsFresh()
    {
        const QString db = m_dir.filePath(QStringLiteral("keepfresh.sqlite3"));
        QVERIFY(QFile::copy(m_db, db));
        const QStringList onDb { QStringLiteral("--db"), db };
        QCOMPARE(preserve(QStringList { QStringLiteral("serve"), QStringLiteral("--keep-fresh"), QStringLiteral("--port"), QStringLiteral("0") } + onDb).exitCode, 2);
        QCOMPARE(preserve(QStringList { QStringLiteral("track"), QStringLiteral("install") } + onDb).exitCode, 0);
        QProcess serve;
        serve.start(preserveBinary(), QStringList { QStringLiteral("serve"), QStringLiteral("--keep-fresh"), QStringLiteral("--quiet"),
                                                    QStringLiteral("--port"), QStringLiteral("0") } + onDb);
        QByteArray out;
        QTRY_VERIFY_WITH_TIMEOUT((out += serve.readAllStandardOutput()).contains('\n') || serve.state() == QProcess::NotRunning, 30000);
        QVERIFY2(out.startsWith("Serving"), (out + serve.readAllStandardError()).constData());
        const auto allFresh = [&] { return preserve(QStringList { QStringLiteral("status") } + onDb).out.contains("20 Foo: 20 fresh\n"); };
        QTRY_VERIFY_WITH_TIMEOUT(allFresh(), 20000); // the catch-up pass
        QVERIFY(execSql(db, { QStringLiteral("UPDATE api_baz SET name = 'kept fresh' WHERE id IN (SELECT baz_id FROM api_zab_bazs LIMIT 1)") }));
        QTRY_VERIFY_WITH_TIMEOUT(allFresh(), 20000);
        QCOMPARE(preserve(QStringList { QStringLiteral("verify") } + onDb).exitCode, 0);
        // status names who keeps it fresh, from the heartbeat; the row goes with a clean stop.
        const QByteArray running = preserve(QStringList { QStringLiteral("status") } + onDb).out;
        QVERIFY2(running.contains("\nKeep-fresh workers: 1 running: ") && running.contains(QByteArray::number(serve.processId()) + " (active, queue "),
                 running.right(300).constData());
        serve.terminate();
        QVERIFY(serve.waitForFinished(30000));
        QCOMPARE(serve.exitCode(), 0);
        const QByteArray stopped = preserve(QStringList { QStringLiteral("status") } + onDb).out;
        QVERIFY2(stopped.contains("\nKeep-fresh workers: none running\n"), stopped.constData());
    }

    // worker --port: /metrics and /healthz of the worker, nothing else; a change shows in the counters.
    void workerServesMetrics()
    {
        const QString db = m_dir.filePath(QStringLiteral("workermetrics.sqlite3"));
        QVERIFY(QFile::copy(m_db, db));
        QCOMPARE(preserve({ QStringLiteral("track"), QStringLiteral("install"), QStringLiteral("--db"), db }).exitCode, 0);
        QProcess worker;
        worker.start(preserveBinary(), { QStringLiteral("worker"), QStringLiteral("--quiet"), QStringLiteral("--port"), QStringLiteral("0"),
                                         QStringLiteral("--db"), db });
        QByteArray out;
        QTRY_VERIFY_WITH_TIMEOUT((out += worker.readAllStandardOutput()).contains('\n') || worker.state() == QProcess::NotRunning, 30000);
        const QRegularExpression printed(QStringLiteral("Metrics on (http://\\S+/)metrics"));
        const auto match = printed.match(QString::fromUtf8(out));
        QVERIFY2(match.hasMatch(), (out + worker.readAllStandardError()).constData());
        const QString base = match.captured(1);
        QNetworkAccessManager manager;
        const auto get = [&](const QString &path) {
            QNetworkReply *reply = manager.get(QNetworkRequest(QUrl(base + path)));
            QSignalSpy finished(reply, &QNetworkReply::finished);
            if (!reply->isFinished())
                finished.wait(10000);
            const auto answer = std::pair { reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), reply->readAll() };
            reply->deleteLater();
            return answer;
        };
        QCOMPARE(get(QStringLiteral("api/foos/1/")).first, 404);
        QCOMPARE(get(QStringLiteral("healthz")).second, QByteArray("{\"status\":\"ok\"}"));
        QTRY_VERIFY_WITH_TIMEOUT(get(QStringLiteral("metrics")).second.contains("\npreserve_worker_active 1\n"), 20000);
        QVERIFY(execSql(db, { QStringLiteral("UPDATE api_foo SET name = 'measured' WHERE id = 2") }));
        QTRY_VERIFY_WITH_TIMEOUT(get(QStringLiteral("metrics")).second.contains("\npreserve_worker_lag_seconds_count 1\n"), 20000);
        QVERIFY(get(QStringLiteral("metrics")).second.contains("\npreserve_worker_changes_total 1\n"));
        worker.terminate();
        QVERIFY(worker.waitForFinished(30000));
        QCOMPARE(worker.exitCode(), 0);
    }

    void demoDatabaseIsTheDefault()
    {
        // Without --db every command uses the demo database in the user's data folder.
        QTemporaryDir home;
        QProcess process;
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.insert(QStringLiteral("XDG_DATA_HOME"), home.path());
        environment.remove(QStringLiteral("PRESERVE_DB"));
        process.setProcessEnvironment(environment);
        process.start(preserveBinary(), { QStringLiteral("seed"), QStringLiteral("--scale"), QStringLiteral("small") });
        QVERIFY(process.waitForFinished(60000));
        QCOMPARE(process.exitCode(), 0);
        QVERIFY(QFile::exists(home.filePath(QStringLiteral("preserve/demo.sqlite3"))));
        process.start(preserveBinary(), { QStringLiteral("dump"), QStringLiteral("1") });
        QVERIFY(process.waitForFinished(60000));
        QCOMPARE(process.exitCode(), 0);
        QVERIFY(process.readAllStandardOutput().startsWith("{\"name\":"));
    }
};

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
