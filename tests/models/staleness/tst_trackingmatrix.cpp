// The first rule under every statement that can change a live body: after it, `preserve status`
// never says "fresh" for a Foo whose body changed. Each row runs on a fresh copy of a small tree
// with tracking installed and every entry warmed (the real binary, the db column store), applies
// its SQL through an ordinary connection (SQLite's recursive_triggers off, as in Django's), and
// compares the live bodies before and after with what status says.

#include "db/database.h"
#include "db/databaseconfig.h"
#include "serialize/serializer.h"
#include "testpostgres.h"
#include "testsupport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMap>
#include <QSqlError>
#include <QSqlQuery>
#include <QTest>

#include <memory>
#include <vector>

namespace {

QString forLabel(QString sql)
{
    const DjangoTables tables = DjangoTables::forLabel(QStringLiteral("api"));
    sql.replace(QLatin1String("{foo}"), tables.foo);
    sql.replace(QLatin1String("{bar}"), tables.bar);
    sql.replace(QLatin1String("{zab}"), tables.zab);
    sql.replace(QLatin1String("{baz}"), tables.baz);
    sql.replace(QLatin1String("{links}"), tables.zabBazs);
    sql.replace(QLatin1String("{log}"), QStringLiteral("preserve_changes_api"));
    return sql;
}

// Foo 1: Bar 11 (Zab 111: Baz 1, 2 as links 1, 2; Zab 112: Baz 2 as link 3). Foo 2: Bar 21
// (Zab 211: Baz 2, 3 as links 4, 5). Foo 3: Bar 31 (Zab 311: Baz 3 as link 6). Foo 4: Bar 41.
// Foo 5: nothing. Baz 4: unlinked.
QStringList treeSql()
{
    return {
        forLabel(QStringLiteral("INSERT INTO {foo} (id, name) VALUES (1, 'one'), (2, 'two'), (3, 'three'), "
                                "(4, 'four'), (5, 'five')")),
        forLabel(QStringLiteral("INSERT INTO {bar} (id, name, foo_id) VALUES (11, 'b11', 1), (21, 'b21', 2), "
                                "(31, 'b31', 3), (41, 'b41', 4)")),
        forLabel(QStringLiteral("INSERT INTO {zab} (id, name, bar_id) VALUES (111, 'z111', 11), (112, 'z112', 11), "
                                "(211, 'z211', 21), (311, 'z311', 31)")),
        forLabel(QStringLiteral("INSERT INTO {baz} (id, name) VALUES (1, 'baz1'), (2, 'baz2'), (3, 'baz3'), (4, 'baz4')")),
        forLabel(QStringLiteral("INSERT INTO {links} (id, zab_id, baz_id) VALUES (1, 111, 1), (2, 111, 2), "
                                "(3, 112, 2), (4, 211, 2), (5, 211, 3), (6, 311, 3)")),
    };
}

} // namespace

class TestTrackingMatrix : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void neverFreshAfterAChange_data();
    void neverFreshAfterAChange();

private:
    QString freshDatabase(const QString &engine);
    ProcessResult preserve(const QStringList &arguments) { return runProcess(preserveBinary(), arguments); }

    TestPostgres m_server;
    std::vector<std::unique_ptr<TestSqlite>> m_sqliteFiles;
    int m_databases = 0;
};

void TestTrackingMatrix::initTestCase()
{
    QString error;
    if (!m_server.start(&error))
        QFAIL(qPrintable(error));
    if (!m_server.createDatabase(QStringLiteral("template_api"), &error))
        QFAIL(qPrintable(error));
    // Django's own migrate makes the PostgreSQL schema (constraints, deferrable foreign keys).
    const auto made = runReference({ QStringLiteral("make-db"), QStringLiteral("--db"), m_server.url(QStringLiteral("template_api")) });
    QVERIFY2(made.finished && made.exitCode == 0, qPrintable(describe(made)));
    const QString clear = forLabel(QStringLiteral("TRUNCATE {links}, {zab}, {bar}, {baz}, {foo};\n"));
    QVERIFY2(m_server.exec(QStringLiteral("template_api"), clear + treeSql().join(QStringLiteral(";\n")) + QLatin1Char(';'), &error),
             qPrintable(error));
}

void TestTrackingMatrix::cleanupTestCase()
{
    m_server.stop();
}

QString TestTrackingMatrix::freshDatabase(const QString &engine)
{
    if (engine == QLatin1String("sqlite")) {
        m_sqliteFiles.push_back(std::make_unique<TestSqlite>());
        for (const QString &sql : treeSql())
            m_sqliteFiles.back()->exec(sql);
        return m_sqliteFiles.back()->path();
    }
    const QString name = QStringLiteral("matrix_%1").arg(++m_databases);
    QString error;
    if (!m_server.exec(QStringLiteral("postgres"), QStringLiteral("CREATE DATABASE %1 TEMPLATE template_api").arg(name), &error)) {
        qWarning("%s", qPrintable(error));
        return {};
    }
    return m_server.url(name);
}

void TestTrackingMatrix::neverFreshAfterAChange_data()
{
    QTest::addColumn<QString>("engine");
    QTest::addColumn<QStringList>("statements");
    const QString both[] = { QStringLiteral("sqlite"), QStringLiteral("postgresql") };
    auto add = [](const QString &engine, const char *name, const QStringList &statements) {
        QStringList filled;
        for (const QString &sql : statements)
            filled << forLabel(sql);
        QTest::addRow("%s: %s", qPrintable(engine), name) << engine << filled;
    };
    for (const QString &engine : both) {
        add(engine, "insert a Bar", { QStringLiteral("INSERT INTO {bar} (id, name, foo_id) VALUES (12, 'b12', 1)") });
        add(engine, "rename a shared Baz", { QStringLiteral("UPDATE {baz} SET name = 'renamed' WHERE id = 2") });
        add(engine, "delete a link", { QStringLiteral("DELETE FROM {links} WHERE id = 1") });
        add(engine, "move a Bar", { QStringLiteral("UPDATE {bar} SET foo_id = 4 WHERE id = 11") });
        add(engine, "upsert a Baz", { QStringLiteral("INSERT INTO {baz} (id, name) VALUES (3, 'upserted') "
                                                     "ON CONFLICT (id) DO UPDATE SET name = excluded.name") });
        add(engine, "change a Zab's id", { QStringLiteral("BEGIN"), QStringLiteral("UPDATE {links} SET zab_id = 100 WHERE zab_id = 112"),
                                           QStringLiteral("UPDATE {zab} SET id = 100 WHERE id = 112"), QStringLiteral("COMMIT") });
        add(engine, "delete the whole change log after a change",
            { QStringLiteral("UPDATE {baz} SET name = 'hidden' WHERE id = 3"), QStringLiteral("DELETE FROM {log}") });
        add(engine, "delete one Foo's log rows after a change",
            { QStringLiteral("UPDATE {baz} SET name = 'hidden' WHERE id = 1"), QStringLiteral("DELETE FROM {log} WHERE foo_id = 1") });
        add(engine, "delete the log's newest marker after a change",
            { QStringLiteral("UPDATE {foo} SET name = 'hidden' WHERE id = 5"), QStringLiteral("DELETE FROM {log} WHERE foo_id = 5"),
              QStringLiteral("DELETE FROM {log} WHERE foo_id IS NULL") });
    }
    // SQLite's REPLACE deletes the row it collides with and fires no delete trigger.
    const QString sqlite = QStringLiteral("sqlite");
    add(sqlite, "REPLACE a linked Baz", { QStringLiteral("REPLACE INTO {baz} (id, name) VALUES (2, 'replaced')") });
    add(sqlite, "INSERT OR REPLACE moves a Bar", { QStringLiteral("INSERT OR REPLACE INTO {bar} (id, name, foo_id) VALUES (11, 'b11', 5)") });
    add(sqlite, "REPLACE moves a Zab", { QStringLiteral("REPLACE INTO {zab} (id, name, bar_id) VALUES (311, 'z311', 41)") });
    add(sqlite, "REPLACE a link by its id", { QStringLiteral("REPLACE INTO {links} (id, zab_id, baz_id) VALUES (6, 211, 1)") });
    add(sqlite, "UPDATE OR REPLACE a Bar's id", { QStringLiteral("UPDATE OR REPLACE {bar} SET id = 21 WHERE id = 31") });
    add(sqlite, "UPDATE OR REPLACE a Zab's id", { QStringLiteral("UPDATE OR REPLACE {zab} SET id = 211 WHERE id = 112") });
    add(sqlite, "UPDATE OR REPLACE a Baz's id", { QStringLiteral("UPDATE OR REPLACE {baz} SET id = 2 WHERE id = 4") });
    add(sqlite, "UPDATE OR REPLACE a link", { QStringLiteral("UPDATE OR REPLACE {links} SET id = 6 WHERE id = 1") });
    // PostgreSQL's TRUNCATE fires no row triggers (Django's flush).
    const QString postgres = QStringLiteral("postgresql");
    add(postgres, "TRUNCATE the links", { QStringLiteral("TRUNCATE {links}") });
    add(postgres, "TRUNCATE the Baz (cascade)", { QStringLiteral("TRUNCATE {baz} CASCADE") });
    add(postgres, "flush, then a Foo again", { QStringLiteral("TRUNCATE {links}, {zab}, {bar}, {baz}, {foo}"),
                                                QStringLiteral("INSERT INTO {foo} (id, name) VALUES (1, 'one')") });
    add(postgres, "TRUNCATE the change log after a change",
        { QStringLiteral("UPDATE {baz} SET name = 'hidden' WHERE id = 3"), QStringLiteral("TRUNCATE {log}") });
}

void TestTrackingMatrix::neverFreshAfterAChange()
{
    QFETCH(QString, engine);
    QFETCH(QStringList, statements);
    const QString spec = freshDatabase(engine);
    QVERIFY(!spec.isEmpty());
    const QStringList onDb { QStringLiteral("--db"), spec };
    for (const QStringList &command : { QStringList { QStringLiteral("track"), QStringLiteral("install") },
                                        QStringList { QStringLiteral("warm") } }) {
        const auto done = preserve(command + onDb);
        QVERIFY2(done.exitCode == 0, qPrintable(describe(done)));
    }
    auto config = DatabaseConfig::parse(spec, QStringLiteral("api"), false);
    QVERIFY2(config, qPrintable(why(config)));
    auto opened = Database::open(*config);
    QVERIFY2(opened, qPrintable(why(opened)));
    Database &database = **opened;
    auto bodies = [&database]() {
        QMap<qint64, QByteArray> result;
        QSqlQuery ids(database.connection());
        if (!ids.exec(forLabel(QStringLiteral("SELECT id FROM {foo} ORDER BY id"))))
            qWarning("%s", qPrintable(ids.lastError().text()));
        QList<qint64> pks;
        while (ids.next())
            pks << ids.value(0).toLongLong();
        Serializer serializer(database);
        for (const qint64 pk : pks) {
            const auto body = serializer.foo(pk);
            result.insert(pk, body ? *body : "(unreadable: " + body.error().message.toUtf8() + ')');
        }
        return result;
    };
    const auto before = bodies();
    QCOMPARE(before.size(), 5);
    for (const QString &sql : statements) {
        QSqlQuery query(database.connection());
        QVERIFY2(query.exec(sql), qPrintable(sql + QLatin1String(": ") + query.lastError().text()));
    }
    const auto after = bodies();

    const auto status = preserve(QStringList { QStringLiteral("status"), QStringLiteral("--json") } + onDb);
    QVERIFY2(status.finished, qPrintable(describe(status)));
    const QJsonArray rows = QJsonDocument::fromJson(status.out).array();
    QCOMPARE(rows.size(), after.size());
    int changed = 0;
    for (const QJsonValue &row : rows) {
        const qint64 pk = row[QLatin1String("pk")].toInteger();
        QVERIFY(after.contains(pk));
        if (before.value(pk) == after.value(pk))
            continue;
        ++changed;
        const QString state = row[QLatin1String("state")].toString();
        QVERIFY2(state != QLatin1String("fresh"),
                 qPrintable(QStringLiteral("Foo %1 changed (%2 -> %3) but is %4: %5")
                                .arg(pk)
                                .arg(QString::fromUtf8(before.value(pk)), QString::fromUtf8(after.value(pk)), state,
                                     row[QLatin1String("reason")].toString())));
    }
    QVERIFY2(changed > 0 || after.size() < before.size(), "the statement changed no body: the row tests nothing");
}

QTEST_GUILESS_MAIN(TestTrackingMatrix)
#include "tst_trackingmatrix.moc"
