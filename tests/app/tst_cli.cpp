#include "db/seeder.h"
#include "testsupport.h"

#include <QFile>
#include <QProcess>
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
