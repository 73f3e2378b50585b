// Change tracking against real databases: SQLite files with Django's exact schema, and a throw-away
// PostgreSQL cluster whose tables Django's own migrate created. Every kind of change must mark
// exactly the Foos whose serialized body it alters, and uninstall must leave no trace.

#include "db/database.h"
#include "db/databaseconfig.h"
#include "db/seeder.h"
#include "staleness/changetracking.h"
#include "testpostgres.h"
#include "testsupport.h"

#include <QElapsedTimer>
#include <QFile>
#include <QScopeGuard>
#include <QSet>
#include <QSignalSpy>
#include <QSqlDriver>
#include <QSqlError>
#include <QSqlQuery>
#include <QTest>

#include <limits>
#include <map>
#include <memory>

using Ids = QSet<qint64>;

namespace {

// Fills {foo}, {bar}, {zab}, {baz}, {links} with the tables of `label`.
QString forLabel(QString sql, const QString &label)
{
    const DjangoTables tables = DjangoTables::forLabel(label);
    sql.replace(QLatin1String("{foo}"), tables.foo);
    sql.replace(QLatin1String("{bar}"), tables.bar);
    sql.replace(QLatin1String("{zab}"), tables.zab);
    sql.replace(QLatin1String("{baz}"), tables.baz);
    sql.replace(QLatin1String("{links}"), tables.zabBazs);
    return sql;
}

// Foo 1: Bar 11 (Zab 111: Baz 1, 2; Zab 112: Baz 2). Foo 2: Bar 21 (Zab 211: Baz 2, 3).
// Foo 3: Bar 31 (Zab 311: Baz 3). Foo 4: Bar 41, no Zab. Foo 5: no Bar. Baz 4: linked to nothing.
// So Baz 2 reaches Foos 1 and 2, Baz 3 reaches Foos 2 and 3.
QStringList treeSql(const QString &label)
{
    QStringList sql {
        QStringLiteral(
            "INSERT INTO {foo} (id, name) VALUES (1, 'one'), (2, 'two'), (3, 'three'), (4, 'four'), "
            "(5, 'five')"),
        QStringLiteral(
            "INSERT INTO {bar} (id, name, foo_id) VALUES (11, 'b11', 1), (21, 'b21', 2), (31, 'b31', 3), "
            "(41, 'b41', 4)"),
        QStringLiteral("INSERT INTO {zab} (id, name, bar_id) VALUES (111, 'z111', 11), (112, 'z112', 11), "
                       "(211, 'z211', 21), (311, 'z311', 31)"),
        QStringLiteral(
            "INSERT INTO {baz} (id, name) VALUES (1, 'baz1'), (2, 'baz2'), (3, 'baz3'), (4, 'baz4')"),
        QStringLiteral("INSERT INTO {links} (zab_id, baz_id) VALUES (111, 1), (111, 2), (112, 2), (211, 2), "
                       "(211, 3), (311, 3)"),
    };
    for (QString &statement : sql)
        statement = forLabel(statement, label);
    return sql;
}

Ids keys(const QHash<qint64, ChangeTracking::Change> &changes)
{
    Ids ids;
    for (auto it = changes.cbegin(); it != changes.cend(); ++it)
        ids.insert(it.key());
    return ids;
}

QString describeIds(const Ids &ids)
{
    QList<qint64> sorted(ids.cbegin(), ids.cend());
    std::sort(sorted.begin(), sorted.end());
    QStringList words;
    for (const qint64 id : sorted)
        words << QString::number(id);
    return QLatin1Char('{') + words.join(QStringLiteral(", ")) + QLatin1Char('}');
}

// Runs statements on the Database's own connection; false with `error` set on the first failure.
bool execAll(Database &database, const QStringList &statements, QString *error)
{
    for (const QString &sql : statements) {
        QSqlQuery query(database.connection());
        if (!query.exec(forLabel(sql, database.config().appLabel))) {
            *error = sql + QLatin1String(": ") + query.lastError().text();
            return false;
        }
    }
    return true;
}

// Everything in the schema that tracking could add or leave behind, one line per object.
QStringList schemaSnapshot(Database &database)
{
    const QString sql = database.isSqlite()
        ? QStringLiteral(
            "SELECT type || ' ' || name || ' ' || tbl_name || ' ' || coalesce(sql, '') FROM sqlite_master "
            "UNION ALL SELECT 'sequence ' || name || ' ' || seq FROM sqlite_sequence ORDER BY 1")
        : QStringLiteral(
            "SELECT 'class ' || c.relkind::text || ' ' || c.relname FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = 'public' "
            "UNION ALL SELECT 'trigger ' || tgname FROM pg_trigger WHERE NOT tgisinternal "
            "UNION ALL SELECT 'function ' || p.proname FROM pg_proc p JOIN pg_namespace n "
            "ON n.oid = p.pronamespace WHERE n.nspname = 'public' ORDER BY 1");
    QSqlQuery query(database.connection());
    QStringList lines;
    if (!query.exec(sql)) {
        qWarning("schema snapshot: %s", qPrintable(query.lastError().text()));
        lines << QStringLiteral("error: ") + query.lastError().text();
        return lines;
    }
    while (query.next())
        lines << query.value(0).toString();
    return lines;
}

} // namespace

class TestChangeTracking : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();

    void templatesAreResources();
    void notInstalled();
    void changeMarksFoos_data();
    void changeMarksFoos();
    void positionIncreases_data();
    void positionIncreases();
    void prune_data();
    void prune();
    void handDeletionRestarts_data();
    void handDeletionRestarts();
    void installTwiceAndRepair_data();
    void installTwiceAndRepair();
    void reinstallStaysAbove_data();
    void reinstallStaysAbove();
    void uninstallRestoresSchema_data();
    void uninstallRestoresSchema();
    void readOnlyRefused_data();
    void readOnlyRefused();
    void otherAppLabel_data();
    void otherAppLabel();
    void sqliteOtherLabelUntouched();
    void postgresNotifies();
    void postgresCommitOrder();
    void postgresDjangoRoleNeedsNoLogRights();
    void mediumBazUpdate();
    void workerHeartbeats_data() { addEngineColumn(); }
    void workerHeartbeats();

private:
    // A database holding the small tree, tracking not installed: a new SQLite file or a new
    // PostgreSQL database copied from Django's migrated template.
    QString freshDatabase(const QString &engine, const QString &label = QStringLiteral("api"));
    std::unique_ptr<Database> open(
        const QString &spec, const QString &label = QStringLiteral("api"), bool readOnly = false);
    std::unique_ptr<Database> openFresh(const QString &engine, const QString &label = QStringLiteral("api"));
    void addEngineColumn();

    TestPostgres m_server;
    std::vector<std::unique_ptr<TestSqlite>> m_sqliteFiles;
    QTemporaryDir m_dir;
    int m_databases = 0;
    std::map<QString, std::unique_ptr<Database>> m_tracked; // by engine, for changeMarksFoos
};

void TestChangeTracking::addEngineColumn()
{
    QTest::addColumn<QString>("engine");
    QTest::addRow("sqlite") << QStringLiteral("sqlite");
    QTest::addRow("postgresql") << QStringLiteral("postgresql");
}

std::unique_ptr<Database> TestChangeTracking::open(const QString &spec, const QString &label, bool readOnly)
{
    auto config = DatabaseConfig::parse(spec, label, readOnly);
    if (!config) {
        qWarning("parse(%s): %s", qPrintable(spec), qPrintable(why(config)));
        return nullptr;
    }
    auto database = Database::open(*config);
    if (!database) {
        qWarning("open(%s): %s", qPrintable(config->displayName()), qPrintable(why(database)));
        return nullptr;
    }
    return std::move(*database);
}

QString TestChangeTracking::freshDatabase(const QString &engine, const QString &label)
{
    if (engine == QLatin1String("sqlite")) {
        m_sqliteFiles.push_back(std::make_unique<TestSqlite>(label));
        for (const QString &sql : treeSql(label))
            m_sqliteFiles.back()->exec(sql);
        return m_sqliteFiles.back()->path();
    }
    const QString name = QStringLiteral("tracked_%1").arg(++m_databases);
    QString error;
    const QString sql = QStringLiteral("CREATE DATABASE %1 TEMPLATE template_%2").arg(name, label);
    if (!m_server.exec(QStringLiteral("postgres"), sql, &error)) {
        qWarning("%s", qPrintable(error));
        return {};
    }
    const QString clear = forLabel(QStringLiteral("TRUNCATE {links}, {zab}, {bar}, {baz}, {foo};\n"), label);
    if (!m_server.exec(name, clear + treeSql(label).join(QStringLiteral(";\n")) + QLatin1Char(';'), &error)) {
        qWarning("%s", qPrintable(error));
        return {};
    }
    return m_server.url(name);
}

std::unique_ptr<Database> TestChangeTracking::openFresh(const QString &engine, const QString &label)
{
    const QString spec = freshDatabase(engine, label);
    return spec.isEmpty() ? nullptr : open(spec, label);
}

void TestChangeTracking::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QString error;
    if (!m_server.start(&error))
        QFAIL(qPrintable(error));
    // Django's migrate makes the schema once per label; tests copy it (CREATE DATABASE … TEMPLATE).
    QStringList makeDbs[2];
    int i = 0;
    for (const QString &label : { QStringLiteral("api"), QStringLiteral("shop") }) {
        const QString name = QStringLiteral("template_") + label;
        if (!m_server.createDatabase(name, &error))
            QFAIL(qPrintable(error));
        makeDbs[i++] = { QStringLiteral("make-db"), QStringLiteral("--db"), m_server.url(name),
            QStringLiteral("--app-label"), label };
    }
    QElapsedTimer timer;
    timer.start();
    for (const ProcessResult &result : runReferences({ makeDbs[0], makeDbs[1] }))
        QVERIFY2(result.finished && result.exitCode == 0, qPrintable(describe(result)));
    qInfo("Django migrate + make-db x2 in %lld ms", timer.elapsed());
}

void TestChangeTracking::cleanupTestCase()
{
    m_tracked.clear();
    m_server.stop();
}

void TestChangeTracking::templatesAreResources()
{
    const std::pair<QString, DatabaseConfig::Engine> templates[] = {
        { QStringLiteral(":/sql/track-sqlite.sql"), DatabaseConfig::Engine::Sqlite },
        { QStringLiteral(":/sql/track-postgresql.sql"), DatabaseConfig::Engine::Postgres },
    };
    for (const auto &[path, engine] : templates) {
        QFile file(path);
        QVERIFY2(file.open(QIODevice::ReadOnly), qPrintable(path));
        const QByteArray text = file.readAll();
        for (const char *section : { "-- @install\n", "-- @drop-triggers\n", "-- @drop-log\n" })
            QVERIFY2(text.contains(section), section);
        // Every trigger the code expects is created and dropped by the template.
        const QStringList names = ChangeTracking::triggerNames(QStringLiteral("LABEL"), engine);
        QVERIFY(names.size() >= 14);
        for (const QString &name : names) {
            const QByteArray templated
                = "\"{track}" + name.mid(QStringLiteral("preserve_track_LABEL").size()).toUtf8() + '"';
            QCOMPARE(text.count("CREATE TRIGGER " + templated), 1);
            QCOMPARE(text.count("DROP TRIGGER IF EXISTS " + templated), 1);
        }
    }
}

void TestChangeTracking::notInstalled()
{
    for (const QString &engine : { QStringLiteral("sqlite"), QStringLiteral("postgresql") }) {
        auto database = openFresh(engine);
        QVERIFY(database);
        const auto state = ChangeTracking::state(*database);
        QVERIFY2(state, qPrintable(why(state)));
        QVERIFY(!state->installed);
        QVERIFY(!state->logTable);
        QVERIFY(state->triggers.isEmpty());
        QCOMPARE(state->missing, ChangeTracking::triggerNames(QStringLiteral("api"), database->config().engine));
        const auto position = ChangeTracking::position(*database);
        QVERIFY2(position, qPrintable(why(position)));
        QCOMPARE(*position, 0);
        const auto changes = ChangeTracking::changesSince(*database, 0);
        QVERIFY(!changes);
        QCOMPARE(changes.error().kind, Error::Kind::NotFound);
        QVERIFY(!ChangeTracking::latestChange(*database, 1, 0));
        QVERIFY(!ChangeTracking::prune(*database, 0));
        // Uninstalling what is not there is fine and changes nothing.
        const QStringList before = schemaSnapshot(*database);
        const auto removed = ChangeTracking::uninstall(*database);
        QVERIFY2(removed, qPrintable(why(removed)));
        QCOMPARE(schemaSnapshot(*database), before);
    }
}

void TestChangeTracking::changeMarksFoos_data()
{
    QTest::addColumn<QString>("engine");
    QTest::addColumn<QStringList>("statements");
    QTest::addColumn<Ids>("expected");
    QTest::addColumn<QString>("reason"); // of every expected Foo's latest change; empty: not checked

    struct Case {
        const char *name;
        QStringList statements;
        Ids expected;
        QString reason;
    };
    const QList<Case> cases {
        { "foo insert", { QStringLiteral("INSERT INTO {foo} (id, name) VALUES (9, 'nine')") }, { 9 },
            QStringLiteral("Foo 9 inserted") },
        { "foo rename", { QStringLiteral("UPDATE {foo} SET name = 'renamed' WHERE id = 3") }, { 3 },
            QStringLiteral("Foo 3 updated") },
        { "foo name written back unchanged", { QStringLiteral("UPDATE {foo} SET name = name WHERE id = 3") },
            {}, {} },
        { "foo pre_serialized only",
            { QStringLiteral("UPDATE {foo} SET pre_serialized = '{\"id\": 3}' WHERE id = 3") }, {}, {} },
        { "foo save() of the cache (every column)",
            { QStringLiteral("UPDATE {foo} SET name = 'three', pre_serialized = '[1]' WHERE id = 3") }, {},
            {} },
        { "foo delete", { QStringLiteral("DELETE FROM {foo} WHERE id = 5") }, { 5 },
            QStringLiteral("Foo 5 deleted") },
        { "foo delete, Django's order",
            { QStringLiteral("DELETE FROM {links} WHERE zab_id IN (111, 112)"),
                QStringLiteral("DELETE FROM {zab} WHERE bar_id = 11"),
                QStringLiteral("DELETE FROM {bar} WHERE foo_id = 1"),
                QStringLiteral("DELETE FROM {foo} WHERE id = 1") },
            { 1 }, QStringLiteral("Foo 1 deleted") },
        { "bar insert", { QStringLiteral("INSERT INTO {bar} (id, name, foo_id) VALUES (51, 'b51', 5)") },
            { 5 }, QStringLiteral("Bar 51 inserted") },
        { "bar rename", { QStringLiteral("UPDATE {bar} SET name = 'x' WHERE id = 41") }, { 4 },
            QStringLiteral("Bar 41 updated") },
        { "bar moved from Foo 1 to Foo 2", { QStringLiteral("UPDATE {bar} SET foo_id = 2 WHERE id = 11") },
            { 1, 2 }, QStringLiteral("Bar 11 updated") },
        { "bar delete", { QStringLiteral("DELETE FROM {bar} WHERE id = 41") }, { 4 },
            QStringLiteral("Bar 41 deleted") },
        { "every bar written back unchanged",
            { QStringLiteral("UPDATE {bar} SET name = name, foo_id = foo_id") }, {}, {} },
        { "zab insert", { QStringLiteral("INSERT INTO {zab} (id, name, bar_id) VALUES (411, 'z411', 41)") },
            { 4 }, QStringLiteral("Zab 411 inserted") },
        { "zab rename", { QStringLiteral("UPDATE {zab} SET name = 'x' WHERE id = 311") }, { 3 },
            QStringLiteral("Zab 311 updated") },
        { "zab moved from Foo 3 to Foo 4", { QStringLiteral("UPDATE {zab} SET bar_id = 41 WHERE id = 311") },
            { 3, 4 }, QStringLiteral("Zab 311 updated") },
        { "zab delete",
            { QStringLiteral("DELETE FROM {links} WHERE zab_id = 311"),
                QStringLiteral("DELETE FROM {zab} WHERE id = 311") },
            { 3 }, QStringLiteral("Zab 311 deleted") },
        { "baz rename, one Foo", { QStringLiteral("UPDATE {baz} SET name = 'x' WHERE id = 1") }, { 1 },
            QStringLiteral("Baz 1 updated") },
        { "baz rename, shared by Foo 1 and 2", { QStringLiteral("UPDATE {baz} SET name = 'x' WHERE id = 2") },
            { 1, 2 }, QStringLiteral("Baz 2 updated") },
        { "baz rename, unlinked", { QStringLiteral("UPDATE {baz} SET name = 'x' WHERE id = 4") }, {}, {} },
        { "baz insert", { QStringLiteral("INSERT INTO {baz} (id, name) VALUES (5, 'baz5')") }, {}, {} },
        { "baz delete, Django's order",
            { QStringLiteral("DELETE FROM {links} WHERE baz_id = 3"),
                QStringLiteral("DELETE FROM {baz} WHERE id = 3") },
            { 2, 3 }, QStringLiteral("link Zab %1 -> Baz 3 deleted") },
        // Possible since Django's foreign keys are checked at commit (which never comes here).
        { "baz delete, links left behind", { QStringLiteral("DELETE FROM {baz} WHERE id = 3") }, { 2, 3 },
            QStringLiteral("Baz 3 deleted") },
        { "link insert", { QStringLiteral("INSERT INTO {links} (zab_id, baz_id) VALUES (311, 4)") }, { 3 },
            QStringLiteral("link Zab 311 -> Baz 4 inserted") },
        { "link delete", { QStringLiteral("DELETE FROM {links} WHERE zab_id = 211 AND baz_id = 3") }, { 2 },
            QStringLiteral("link Zab 211 -> Baz 3 deleted") },
        { "link moved from Foo 1 to Foo 3",
            { QStringLiteral("UPDATE {links} SET zab_id = 311 WHERE zab_id = 111 AND baz_id = 1") }, { 1, 3 },
            QStringLiteral("link Zab 311 -> Baz 1 updated") },
        { "link repointed to another Baz",
            { QStringLiteral("UPDATE {links} SET baz_id = 4 WHERE zab_id = 311") }, { 3 },
            QStringLiteral("link Zab 311 -> Baz 4 updated") },
    };
    for (const char *engine : { "sqlite", "postgresql" }) {
        for (const Case &c : cases)
            QTest::addRow("%s: %s", engine, c.name)
                << QString::fromLatin1(engine) << c.statements << c.expected << c.reason;
    }
}

void TestChangeTracking::changeMarksFoos()
{
    QFETCH(QString, engine);
    QFETCH(QStringList, statements);
    QFETCH(Ids, expected);
    QFETCH(QString, reason);

    // One tracked database per engine; each case runs in a transaction that is rolled back.
    std::unique_ptr<Database> &shared = m_tracked[engine];
    if (!shared) {
        shared = openFresh(engine);
        QVERIFY(shared);
        const auto installed = ChangeTracking::install(*shared);
        QVERIFY2(installed, qPrintable(why(installed)));
    }
    Database *database = shared.get();
    const auto before = ChangeTracking::position(*database);
    QVERIFY2(before, qPrintable(why(before)));
    QVERIFY(database->connection().transaction());
    const auto rollback = qScopeGuard([database] { database->connection().rollback(); });

    QString error;
    QVERIFY2(execAll(*database, statements, &error), qPrintable(error));
    const auto changes = ChangeTracking::changesSince(*database, *before);
    QVERIFY2(changes, qPrintable(why(changes)));
    QVERIFY2(keys(*changes) == expected,
        qPrintable(QStringLiteral("marked %1, expected %2")
                       .arg(describeIds(keys(*changes)), describeIds(expected))));
    for (const ChangeTracking::Change &change : *changes) {
        QVERIFY(change.position > *before);
        QVERIFY2(change.at.isValid() && change.at.timeSpec() == Qt::UTC, qPrintable(change.at.toString()));
        QVERIFY(qAbs(change.at.secsTo(QDateTime::currentDateTimeUtc())) < 60);
        if (!reason.isEmpty()) {
            // "Baz 3 deleted" in Django's order: the latest change of each Foo is its own link's.
            const QString wanted
                = reason.contains(QLatin1String("%1")) ? reason.arg(change.foo == 2 ? 211 : 311) : reason;
            QCOMPARE(change.reason, wanted);
        }
        const auto latest = ChangeTracking::latestChange(*database, change.foo, *before);
        QVERIFY2(latest && latest->has_value(), qPrintable(why(latest)));
        QCOMPARE((*latest)->position, change.position);
        QCOMPARE((*latest)->reason, change.reason);
    }
    // A Foo that was not marked has no change to report either.
    for (const qint64 foo : { 1, 2, 3, 4, 5, 9 }) {
        if (expected.contains(foo))
            continue;
        const auto latest = ChangeTracking::latestChange(*database, foo, *before);
        QVERIFY2(latest, qPrintable(why(latest)));
        QVERIFY2(!latest->has_value(), qPrintable((*latest)->reason));
    }
}

void TestChangeTracking::positionIncreases_data()
{
    addEngineColumn();
}

void TestChangeTracking::positionIncreases()
{
    QFETCH(QString, engine);
    auto database = openFresh(engine);
    QVERIFY(database);
    QVERIFY(ChangeTracking::install(*database));
    QString error;
    QList<qint64> positions;
    const QStringList edits { QStringLiteral("UPDATE {baz} SET name = 'a' WHERE id = 1"),
        QStringLiteral("UPDATE {bar} SET name = 'b' WHERE id = 41"),
        QStringLiteral("UPDATE {zab} SET name = 'c' WHERE id = 311") };
    for (const QString &edit : edits) {
        const auto now = ChangeTracking::position(*database);
        QVERIFY2(now, qPrintable(why(now)));
        positions << *now;
        QVERIFY2(execAll(*database, { edit }, &error), qPrintable(error));
    }
    const auto last = ChangeTracking::position(*database);
    QVERIFY2(last, qPrintable(why(last)));
    positions << *last;
    for (int i = 1; i < positions.size(); ++i)
        QVERIFY2(positions[i] > positions[i - 1],
            qPrintable(QStringLiteral("%1 then %2").arg(positions[i - 1]).arg(positions[i])));
    // Each position sees exactly the changes made after it.
    const QList<Ids> after { { 1, 4, 3 }, { 4, 3 }, { 3 }, {} };
    for (int i = 0; i < after.size(); ++i) {
        const auto changes = ChangeTracking::changesSince(*database, positions[i]);
        QVERIFY2(changes, qPrintable(why(changes)));
        QCOMPARE(keys(*changes), after[i]);
    }
}

void TestChangeTracking::prune_data()
{
    addEngineColumn();
}

void TestChangeTracking::prune()
{
    QFETCH(QString, engine);
    auto database = openFresh(engine);
    QVERIFY(database);
    QVERIFY(ChangeTracking::install(*database));
    const auto installed = ChangeTracking::state(*database);
    QVERIFY2(installed, qPrintable(why(installed)));
    QCOMPARE(installed->logRows, 1); // the "tracking installed" marker
    QString error;
    QVERIFY2(execAll(*database, { QStringLiteral("UPDATE {baz} SET name = 'x' WHERE id = 2") }, &error),
        qPrintable(error));
    const auto middle = ChangeTracking::position(*database);
    QVERIFY2(middle, qPrintable(why(middle)));
    QVERIFY2(execAll(*database, { QStringLiteral("UPDATE {baz} SET name = 'y' WHERE id = 3") }, &error),
        qPrintable(error));
    const auto end = ChangeTracking::position(*database);
    QVERIFY2(end, qPrintable(why(end)));

    QVERIFY(ChangeTracking::prune(*database, *middle));
    auto changes = ChangeTracking::changesSince(*database, 0);
    QVERIFY2(changes, qPrintable(why(changes)));
    QCOMPARE(keys(*changes), (Ids { 2, 3 })); // Baz 3's change is above `middle`
    QCOMPARE(changes->value(3).reason, QStringLiteral("Baz 3 updated"));

    QVERIFY(ChangeTracking::prune(*database, *end));
    const auto pruned = ChangeTracking::state(*database);
    QVERIFY2(pruned, qPrintable(why(pruned)));
    QCOMPARE(pruned->logRows, 2); // the "tracking installed" and the "pruned through" markers
    QCOMPARE(pruned->trackedSince, installed->trackedSince);
    QVERIFY(pruned->installed);
    // Pruning the newest rows does not take the position back: what comes next is still above.
    QVERIFY2(pruned->position >= *end, qPrintable(QStringLiteral("%1 < %2").arg(pruned->position).arg(*end)));
    QVERIFY2(execAll(*database, { QStringLiteral("UPDATE {foo} SET name = 'z' WHERE id = 5") }, &error),
        qPrintable(error));
    changes = ChangeTracking::changesSince(*database, *end);
    QVERIFY2(changes, qPrintable(why(changes)));
    QCOMPARE(keys(*changes), (Ids { 5 }));
}

void TestChangeTracking::handDeletionRestarts_data()
{
    addEngineColumn();
}

// Log rows deleted by anyone but prune() could hide a change: a new tracking period starts, once
// per statement, and says why; prune() itself starts none.
void TestChangeTracking::handDeletionRestarts()
{
    QFETCH(QString, engine);
    auto database = openFresh(engine);
    QVERIFY(database);
    QVERIFY(ChangeTracking::install(*database));
    const auto installed = ChangeTracking::state(*database);
    QVERIFY2(installed, qPrintable(why(installed)));
    QCOMPARE(installed->trackedSinceReason, QStringLiteral("tracking installed"));
    QString error;
    QVERIFY2(execAll(*database, { QStringLiteral("UPDATE {baz} SET name = 'x' WHERE id = 2") }, &error), qPrintable(error));
    const auto middle = ChangeTracking::position(*database);
    QVERIFY2(middle, qPrintable(why(middle)));
    QVERIFY2(execAll(*database, { QStringLiteral("UPDATE {baz} SET name = 'y' WHERE id = 3") }, &error), qPrintable(error));
    QVERIFY(ChangeTracking::prune(*database, *middle));
    QVERIFY(ChangeTracking::prune(*database, 0)); // an older position takes nothing back
    const auto pruned = ChangeTracking::state(*database);
    QVERIFY2(pruned, qPrintable(why(pruned)));
    QCOMPARE(pruned->trackedSince, installed->trackedSince);
    QCOMPARE(pruned->trackedSinceReason, QStringLiteral("tracking installed"));

    // Baz 3's change (Foos 2 and 3) is above what was pruned: deleting it is a loss.
    QVERIFY2(execAll(*database, { QStringLiteral("DELETE FROM preserve_changes_api WHERE foo_id IS NOT NULL") }, &error),
             qPrintable(error));
    const auto deleted = ChangeTracking::state(*database);
    QVERIFY2(deleted, qPrintable(why(deleted)));
    QVERIFY2(deleted->trackedSince > pruned->trackedSince, qPrintable(QString::number(deleted->trackedSince)));
    QCOMPARE(deleted->trackedSinceReason, QStringLiteral("log rows deleted by hand"));
    QCOMPARE(deleted->logRows, 3); // the install marker, the prune marker and one restart marker
    QVERIFY(deleted->installed);
}

void TestChangeTracking::installTwiceAndRepair_data()
{
    addEngineColumn();
}

void TestChangeTracking::installTwiceAndRepair()
{
    QFETCH(QString, engine);
    auto database = openFresh(engine);
    QVERIFY(database);
    QVERIFY(ChangeTracking::install(*database));
    QString error;
    QVERIFY2(execAll(*database, { QStringLiteral("UPDATE {baz} SET name = 'x' WHERE id = 1") }, &error),
        qPrintable(error));
    const auto first = ChangeTracking::state(*database);
    QVERIFY2(first, qPrintable(why(first)));
    QVERIFY(first->installed);
    QCOMPARE(first->triggers, ChangeTracking::triggerNames(QStringLiteral("api"), database->config().engine));
    QVERIFY(first->missing.isEmpty());
    QVERIFY(first->trackedSince > 0);

    const QStringList schema = schemaSnapshot(*database);
    const auto again = ChangeTracking::install(*database);
    QVERIFY2(again, qPrintable(why(again)));
    const auto second = ChangeTracking::state(*database);
    QVERIFY2(second, qPrintable(why(second)));
    QVERIFY(second->installed);
    QCOMPARE(second->logRows, first->logRows); // the log is kept
    QCOMPARE(second->trackedSince, first->trackedSince); // and nothing was missed in between
    if (database->isSqlite())
        QCOMPARE(schemaSnapshot(*database).join(QLatin1Char('\n')), schema.join(QLatin1Char('\n')));

    // Someone drops a trigger: not installed, and which one is named. Install repairs it and starts
    // a new tracking period, because changes may have gone unrecorded meanwhile.
    const QString dropped = QStringLiteral("preserve_track_api_zab_upd");
    QVERIFY2(execAll(*database,
                 { database->isSqlite()
                         ? QStringLiteral("DROP TRIGGER ") + dropped
                         : QStringLiteral("DROP TRIGGER ") + dropped + QStringLiteral(" ON api_zab") },
                 &error),
        qPrintable(error));
    const auto broken = ChangeTracking::state(*database);
    QVERIFY2(broken, qPrintable(why(broken)));
    QVERIFY(!broken->installed);
    QVERIFY(broken->logTable);
    QCOMPARE(broken->missing, QStringList { dropped });
    QCOMPARE(broken->triggers.size(), ChangeTracking::triggerNames(QStringLiteral("api"), database->config().engine).size() - 1);
    QVERIFY(ChangeTracking::install(*database));
    const auto repaired = ChangeTracking::state(*database);
    QVERIFY2(repaired, qPrintable(why(repaired)));
    QVERIFY(repaired->installed);
    QVERIFY(repaired->trackedSince > first->position);
}

void TestChangeTracking::reinstallStaysAbove_data()
{
    addEngineColumn();
}

// A body built under an earlier install must never read as covered by a later log: after
// uninstall the changes in between were not recorded.
void TestChangeTracking::reinstallStaysAbove()
{
    QFETCH(QString, engine);
    auto database = openFresh(engine);
    QVERIFY(database);
    QVERIFY(ChangeTracking::install(*database));
    QString error;
    for (int i = 0; i < 5; ++i)
        QVERIFY2(execAll(*database, { QStringLiteral("UPDATE {baz} SET name = 'n%1' WHERE id = 2").arg(i) },
                     &error),
            qPrintable(error));
    const auto built = ChangeTracking::position(*database);
    QVERIFY2(built, qPrintable(why(built)));
    QVERIFY(ChangeTracking::uninstall(*database));
    QVERIFY2(
        execAll(*database, { QStringLiteral("UPDATE {baz} SET name = 'untracked' WHERE id = 2") }, &error),
        qPrintable(error));
    QVERIFY(ChangeTracking::install(*database));
    const auto state = ChangeTracking::state(*database);
    QVERIFY2(state, qPrintable(why(state)));
    QVERIFY2(state->trackedSince > *built,
        qPrintable(QStringLiteral("%1 <= %2").arg(state->trackedSince).arg(*built)));
}

void TestChangeTracking::uninstallRestoresSchema_data()
{
    addEngineColumn();
}

void TestChangeTracking::uninstallRestoresSchema()
{
    QFETCH(QString, engine);
    auto database = openFresh(engine);
    QVERIFY(database);
    const QStringList before = schemaSnapshot(*database);
    QVERIFY(!before.isEmpty() && !before.first().startsWith(QLatin1String("error")));
    QVERIFY(ChangeTracking::install(*database));
    QString error;
    QVERIFY2(execAll(*database, { QStringLiteral("UPDATE {baz} SET name = 'x' WHERE id = 2") }, &error),
        qPrintable(error));
    const QStringList installed = schemaSnapshot(*database);
    QVERIFY(installed != before);
    for (const QString &name : ChangeTracking::triggerNames(QStringLiteral("api"), database->config().engine))
        QVERIFY2(installed.join(QLatin1Char('\n')).contains(name), qPrintable(name));

    const auto removed = ChangeTracking::uninstall(*database);
    QVERIFY2(removed, qPrintable(why(removed)));
    QCOMPARE(schemaSnapshot(*database).join(QLatin1Char('\n')), before.join(QLatin1Char('\n')));
    QVERIFY(ChangeTracking::uninstall(*database));
    QCOMPARE(schemaSnapshot(*database).join(QLatin1Char('\n')), before.join(QLatin1Char('\n')));
    // The data was not touched by any of it.
    QSqlQuery query(database->connection());
    QVERIFY2(query.exec(QStringLiteral("SELECT name FROM api_baz WHERE id = 2")),
        qPrintable(query.lastError().text()));
    QVERIFY(query.next());
    QCOMPARE(query.value(0).toString(), QStringLiteral("x"));
}

void TestChangeTracking::readOnlyRefused_data()
{
    addEngineColumn();
}

void TestChangeTracking::readOnlyRefused()
{
    QFETCH(QString, engine);
    const QString spec = freshDatabase(engine);
    QVERIFY(!spec.isEmpty());
    auto writable = open(spec);
    QVERIFY(writable);
    auto readOnly = open(spec, QStringLiteral("api"), true);
    QVERIFY(readOnly);
    const QStringList before = schemaSnapshot(*writable);

    const auto installed = ChangeTracking::install(*readOnly);
    QVERIFY(!installed);
    QCOMPARE(installed.error().kind, Error::Kind::Invalid);
    QVERIFY2(installed.error().message.contains(QLatin1String("read-only")),
        qPrintable(installed.error().message));
    QCOMPARE(schemaSnapshot(*writable), before);

    // Installed by a writer, a read-only connection may read but not uninstall or prune.
    QVERIFY(ChangeTracking::install(*writable));
    const QStringList tracked = schemaSnapshot(*writable);
    QVERIFY(!ChangeTracking::uninstall(*readOnly));
    QVERIFY(!ChangeTracking::prune(*readOnly, 0));
    QCOMPARE(schemaSnapshot(*writable), tracked);
    const auto state = ChangeTracking::state(*readOnly);
    QVERIFY2(state, qPrintable(why(state)));
    QVERIFY(state->installed);
    const auto changes = ChangeTracking::changesSince(*readOnly, 0);
    QVERIFY2(changes, qPrintable(why(changes)));
}

void TestChangeTracking::otherAppLabel_data()
{
    addEngineColumn();
}

void TestChangeTracking::otherAppLabel()
{
    QFETCH(QString, engine);
    const QString label = QStringLiteral("shop");
    auto database = openFresh(engine, label);
    QVERIFY(database);
    QVERIFY(ChangeTracking::install(*database));
    const auto state = ChangeTracking::state(*database);
    QVERIFY2(state, qPrintable(why(state)));
    QVERIFY(state->installed);
    QCOMPARE(state->triggers, ChangeTracking::triggerNames(label, database->config().engine));
    QVERIFY(state->triggers.first().startsWith(QLatin1String("preserve_track_shop_")));
    QCOMPARE(ChangeTracking::notifyChannel(label), QStringLiteral("preserve_changes_shop"));
    QVERIFY(
        schemaSnapshot(*database).join(QLatin1Char('\n')).contains(QLatin1String("preserve_changes_shop")));

    const auto before = ChangeTracking::position(*database);
    QVERIFY2(before, qPrintable(why(before)));
    QString error;
    QVERIFY2(execAll(*database, { QStringLiteral("UPDATE {baz} SET name = 'x' WHERE id = 3") }, &error),
        qPrintable(error));
    const auto changes = ChangeTracking::changesSince(*database, *before);
    QVERIFY2(changes, qPrintable(why(changes)));
    QCOMPARE(keys(*changes), (Ids { 2, 3 }));
    QVERIFY(ChangeTracking::uninstall(*database));
}

// Two app labels in one file: tracking one leaves the other's tables and changes alone.
void TestChangeTracking::sqliteOtherLabelUntouched()
{
    const QString spec = freshDatabase(QStringLiteral("sqlite"), QStringLiteral("shop"));
    for (const QString &sql : Seeder::sqliteSchema(QStringLiteral("api")).mid(1)) // django_migrations exists
        m_sqliteFiles.back()->exec(sql);
    for (const QString &sql : treeSql(QStringLiteral("api")))
        m_sqliteFiles.back()->exec(sql);
    auto shop = open(spec, QStringLiteral("shop"));
    auto api = open(spec, QStringLiteral("api"));
    QVERIFY(shop && api);
    QVERIFY(ChangeTracking::install(*shop));
    const auto apiState = ChangeTracking::state(*api);
    QVERIFY2(apiState, qPrintable(why(apiState)));
    QVERIFY(!apiState->installed);
    QVERIFY(apiState->triggers.isEmpty());
    const auto before = ChangeTracking::position(*shop);
    QVERIFY2(before, qPrintable(why(before)));
    QString error;
    QVERIFY2(execAll(*api, { QStringLiteral("UPDATE {baz} SET name = 'x' WHERE id = 2") }, &error),
        qPrintable(error));
    const auto changes = ChangeTracking::changesSince(*shop, *before);
    QVERIFY2(changes, qPrintable(why(changes)));
    QVERIFY(changes->isEmpty());
}

void TestChangeTracking::postgresNotifies()
{
    const QString spec = freshDatabase(QStringLiteral("postgresql"));
    QVERIFY(!spec.isEmpty());
    auto writer = open(spec);
    QVERIFY(writer);
    QVERIFY(ChangeTracking::install(*writer));

    // A plain QPSQL connection, as a memory tier or the GUI would hold one.
    auto listener = open(spec);
    QVERIFY(listener);
    QSqlDriver *driver = listener->connection().driver();
    QVERIFY(driver->subscribeToNotification(ChangeTracking::notifyChannel(QStringLiteral("api"))));
    QSignalSpy spy(driver, &QSqlDriver::notification);
    QVERIFY(spy.isValid());

    QString error;
    QVERIFY2(execAll(*writer, { QStringLiteral("UPDATE {baz} SET name = 'x' WHERE id = 2") }, &error),
        qPrintable(error));
    Ids heard;
    QSet<QString> channels;
    const auto collect = [&]() {
        for (const QList<QVariant> &arguments : std::as_const(spy)) {
            channels.insert(arguments.at(0).toString());
            heard.insert(arguments.at(2).toString().toLongLong());
        }
        spy.clear();
        return heard;
    };
    QTRY_COMPARE_WITH_TIMEOUT(collect(), (Ids { 1, 2 }), 2000);
    QCOMPARE(channels, QSet<QString> { QStringLiteral("preserve_changes_api") });
    // A change reaching no Foo notifies nobody.
    QVERIFY2(execAll(*writer,
                 { QStringLiteral("UPDATE {baz} SET name = 'x' WHERE id = 4"),
                     QStringLiteral("UPDATE {foo} SET name = 'renamed' WHERE id = 5") },
                 &error),
        qPrintable(error));
    heard.clear();
    QTRY_COMPARE_WITH_TIMEOUT(collect(), (Ids { 5 }), 2000);
}

// Log ids are taken at write time but seen at commit. A change committed after a later one must
// still be after a position read in between.
void TestChangeTracking::postgresCommitOrder()
{
    const QString spec = freshDatabase(QStringLiteral("postgresql"));
    QVERIFY(!spec.isEmpty());
    auto slow = open(spec);
    auto fast = open(spec);
    auto reader = open(spec);
    QVERIFY(slow && fast && reader);
    QVERIFY(ChangeTracking::install(*reader));
    QString error;
    QVERIFY2(execAll(*slow,
                 { QStringLiteral("BEGIN"), QStringLiteral("UPDATE {bar} SET name = 'slow' WHERE id = 11") },
                 &error),
        qPrintable(error));
    QVERIFY2(execAll(*fast, { QStringLiteral("UPDATE {bar} SET name = 'fast' WHERE id = 21") }, &error),
        qPrintable(error));
    const auto position = ChangeTracking::position(*reader); // sees Foo 2's change, not Foo 1's
    QVERIFY2(position, qPrintable(why(position)));
    QVERIFY2(execAll(*slow, { QStringLiteral("COMMIT") }, &error), qPrintable(error));
    const auto changes = ChangeTracking::changesSince(*reader, *position);
    QVERIFY2(changes, qPrintable(why(changes)));
    QVERIFY2(changes->contains(1), qPrintable(describeIds(keys(*changes))));
}

// Django often writes as a role of its own; the triggers must not need it to have rights on the log.
void TestChangeTracking::postgresDjangoRoleNeedsNoLogRights()
{
    const QString spec = freshDatabase(QStringLiteral("postgresql"));
    QVERIFY(!spec.isEmpty());
    auto owner = open(spec);
    QVERIFY(owner);
    QVERIFY(ChangeTracking::install(*owner));
    const QString database = spec.section(QLatin1Char('/'), -1);
    QString error;
    QVERIFY2(
        m_server.exec(database,
            QStringLiteral("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'django') THEN "
                           "CREATE ROLE django LOGIN PASSWORD 'django'; END IF; END $$;"
                           "GRANT SELECT, INSERT, UPDATE, DELETE ON api_foo, api_bar, api_zab, api_baz, "
                           "api_zab_bazs TO django;"),
            &error),
        qPrintable(error));
    const QString djangoUrl = QStringLiteral("postgresql://django:django@%1:%2/%3")
                                  .arg(m_server.host())
                                  .arg(m_server.port())
                                  .arg(database);
    auto django = open(djangoUrl);
    QVERIFY(django);
    QSqlQuery denied(django->connection());
    QVERIFY(!denied.exec(QStringLiteral("SELECT count(*) FROM preserve_changes_api")));
    const auto before = ChangeTracking::position(*owner);
    QVERIFY2(before, qPrintable(why(before)));
    QVERIFY2(execAll(*django, { QStringLiteral("UPDATE {baz} SET name = 'by django' WHERE id = 3") }, &error),
        qPrintable(error));
    const auto changes = ChangeTracking::changesSince(*owner, *before);
    QVERIFY2(changes, qPrintable(why(changes)));
    QCOMPARE(keys(*changes), (Ids { 2, 3 }));
}

// The medium demo: one Baz reaching many Foos. Prints what the triggers cost; checks the set against
// a join written here.
void TestChangeTracking::mediumBazUpdate()
{
    const QString path = m_dir.filePath(QStringLiteral("medium.sqlite3"));
    const auto scale = Seeder::scale(QStringLiteral("medium"));
    QVERIFY2(scale, qPrintable(why(scale)));
    const auto written = Seeder::write(path, *scale, QStringLiteral("api"));
    QVERIFY2(written, qPrintable(why(written)));
    auto database = open(path);
    QVERIFY(database);
    QSqlQuery query(database->connection());
    // The most linked Baz: the worst case for its update trigger.
    QVERIFY2(query.exec(QStringLiteral(
                 "SELECT baz_id FROM api_zab_bazs GROUP BY baz_id ORDER BY count(*) DESC LIMIT 1")),
        qPrintable(query.lastError().text()));
    QVERIFY(query.next());
    const qint64 baz = query.value(0).toLongLong();
    QVERIFY2(query.exec(QStringLiteral(
                 "SELECT DISTINCT b.foo_id FROM api_bar b WHERE EXISTS (SELECT 1 FROM api_zab z "
                 "JOIN api_zab_bazs l ON l.zab_id = z.id WHERE z.bar_id = b.id AND l.baz_id = %1)")
                            .arg(baz)),
        qPrintable(query.lastError().text()));
    Ids reaching;
    while (query.next())
        reaching.insert(query.value(0).toLongLong());
    QVERIFY(reaching.size() > 1);

    // A real change each time: the triggers skip values written back unchanged. Timed inside a
    // transaction that is rolled back, so the figure is the statement's, not the disk's fsync.
    const QString update
        = QStringLiteral("UPDATE api_baz SET name = substr(name || 'x', -20) WHERE id = %1").arg(baz);
    const auto bestOfFive = [&]() {
        qint64 best = std::numeric_limits<qint64>::max();
        for (int i = 0; i < 5; ++i) {
            database->connection().transaction();
            QElapsedTimer timer;
            timer.start();
            const bool ok = query.exec(update);
            best = std::min(best, timer.nsecsElapsed());
            database->connection().rollback();
            if (!ok)
                return qint64(-1);
        }
        return best;
    };
    const qint64 untracked = bestOfFive();
    QVERIFY2(untracked >= 0, qPrintable(query.lastError().text()));
    QVERIFY(ChangeTracking::install(*database));
    const qint64 tracked = bestOfFive();
    QVERIFY2(tracked >= 0, qPrintable(query.lastError().text()));
    qInfo(
        "medium: UPDATE of Baz %lld (reaching %lld Foos, best of 5): %.3f ms without tracking, %.3f ms with",
        baz, qint64(reaching.size()), untracked / 1e6, tracked / 1e6);
    const auto before = ChangeTracking::position(*database);
    QVERIFY2(before, qPrintable(why(before)));
    QVERIFY2(query.exec(update), qPrintable(query.lastError().text()));
    QElapsedTimer timer;
    timer.start();
    const auto changes = ChangeTracking::changesSince(*database, *before);
    qInfo("medium: changesSince: %.2f ms", timer.nsecsElapsed() / 1e6);
    QVERIFY2(changes, qPrintable(why(changes)));
    QCOMPARE(keys(*changes), reaching);
}

// Workers' heartbeats: install makes the table, a beat adds or updates a worker's row, workers()
// tells each one's age by the database's clock (alive within 5 s), leave() takes a row out, and
// uninstall drops the table (uninstallRestoresSchema checks the schema comes back whole).
void TestChangeTracking::workerHeartbeats()
{
    QFETCH(QString, engine);
    auto database = openFresh(engine);
    QVERIFY(database);
    auto none = ChangeTracking::workers(*database);
    QVERIFY2(none && none->isEmpty(), qPrintable(why(none)));
    QVERIFY(ChangeTracking::install(*database));
    QVERIFY(ChangeTracking::prepareWorkers(*database)); // again: a no-op
    ChangeTracking::WorkerBeat first;
    first.id = QStringLiteral("alpha:1");
    first.host = QStringLiteral("alpha");
    first.pid = 1;
    first.active = true;
    first.queued = 3;
    first.lagMs = 42;
    first.refreshed = 7;
    ChangeTracking::WorkerBeat second = first;
    second.id = QStringLiteral("beta:2");
    second.host = QStringLiteral("beta");
    second.active = false;
    QVERIFY(ChangeTracking::beat(*database, first));
    QVERIFY(ChangeTracking::beat(*database, second));
    first.refreshed = 9;
    QVERIFY(ChangeTracking::beat(*database, first)); // an update, not a second row
    auto seen = ChangeTracking::workers(*database);
    QVERIFY2(seen, qPrintable(why(seen)));
    QCOMPARE(seen->size(), 2);
    const auto alpha = std::find_if(seen->cbegin(), seen->cend(), [](const auto &w) { return w.id == QLatin1String("alpha:1"); });
    QVERIFY(alpha != seen->cend());
    QVERIFY(alpha->alive() && alpha->active);
    QCOMPARE(alpha->refreshed, 9);
    QCOMPARE(alpha->lagMs, 42);
    QCOMPARE(alpha->queued, 3);
    QVERIFY2(alpha->ageSeconds >= 0 && alpha->ageSeconds < 5, qPrintable(QString::number(alpha->ageSeconds)));
    QVERIFY(alpha->startedAt.isValid());
    QVERIFY2(ChangeTracking::describeWorkers(*seen).startsWith(QLatin1String("2 running: ")), qPrintable(ChangeTracking::describeWorkers(*seen)));

    // A worker silent for a minute (killed, hung) is not running.
    const QString table = ChangeTracking::workersTableName(QStringLiteral("api"));
    QVERIFY(database->run(engine == QLatin1String("sqlite")
                              ? QStringLiteral("UPDATE %1 SET seen_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-60 seconds') WHERE worker = 'beta:2'").arg(table)
                              : QStringLiteral("UPDATE %1 SET seen_at = now() - interval '60 seconds' WHERE worker = 'beta:2'").arg(table)));
    seen = ChangeTracking::workers(*database);
    QVERIFY(seen && seen->size() == 2);
    const QString line = ChangeTracking::describeWorkers(*seen);
    QVERIFY2(line.startsWith(QLatin1String("1 running: alpha:1 (active")) && line.contains(QLatin1String("1 silent (stopped or hung): beta:2 for 60 s")),
             qPrintable(line));
    QVERIFY(ChangeTracking::leave(*database, QStringLiteral("alpha:1")));
    seen = ChangeTracking::workers(*database);
    QVERIFY(seen && seen->size() == 1);
    QCOMPARE(ChangeTracking::describeWorkers({}), QStringLiteral("none running"));
    QVERIFY(ChangeTracking::uninstall(*database));
    QVERIFY(!database->tableNames()->contains(table));
}

QTEST_GUILESS_MAIN(TestChangeTracking)
#include "tst_changetracking.moc"
