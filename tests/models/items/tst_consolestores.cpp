// The console's session (what MainWindow opens) against the stores operators use: a throw-away
// PostgreSQL holding the demo data (cache in the Django column), and SQLite with a throw-away Redis.
// The tree loads, the states arrive, a refresh turns one row fresh, and a change made by another
// connection turns it stale, row by row, without a reload. A wrong URL or a refused server is a
// clear error in bounded time.

#include "items/consolesession.h"
#include "items/statusloader.h"
#include "staleness/changetracking.h"
#include "testpostgres.h"
#include "testredis.h"
#include "treefixture.h"

#include <QAbstractItemModelTester>
#include <QDeadlineTimer>
#include <QFile>
#include <QTest>

namespace {

// ConsoleSession::probe, waited for; the error text (empty: fine) and how long it took.
std::pair<QString, qint64> probe(const ConnectionSpec &spec)
{
    const auto config = spec.cacheConfig();
    if (!config)
        return { config.error().message, 0 };
    QElapsedTimer timer;
    timer.start();
    QObject context;
    std::optional<Status> answer;
    ConsoleSession::probe(*config, &context, [&](const Status &status) { answer = status; });
    QDeadlineTimer deadline(30000);
    while (!answer && !deadline.hasExpired())
        QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 50);
    if (!answer)
        return { QStringLiteral("(no answer within 30 s)"), timer.elapsed() };
    return { answer->ok() ? QString() : answer->error().message, timer.elapsed() };
}

// Copies every row of the demo tables from `from` to `to` (same Django schema), ids included.
bool copyRows(Database &from, Database &to, QString *error)
{
    // Children first (foreign keys); TRUNCATE cannot be prepared.
    for (const char *table : { "api_zab_bazs", "api_zab", "api_bar", "api_baz", "api_foo" }) {
        const QString sql = QStringLiteral("DELETE FROM %1").arg(QLatin1String(table));
        if (auto done = to.run(sql); !done) {
            *error = done.error().message;
            return false;
        }
    }
    const QList<std::pair<QString, QString>> tables {
        { QStringLiteral("SELECT id, name FROM api_foo"), QStringLiteral("INSERT INTO api_foo (id, name) VALUES (?, ?)") },
        { QStringLiteral("SELECT id, name FROM api_baz"), QStringLiteral("INSERT INTO api_baz (id, name) VALUES (?, ?)") },
        { QStringLiteral("SELECT id, name, foo_id FROM api_bar"), QStringLiteral("INSERT INTO api_bar (id, name, foo_id) VALUES (?, ?, ?)") },
        { QStringLiteral("SELECT id, name, bar_id FROM api_zab"), QStringLiteral("INSERT INTO api_zab (id, name, bar_id) VALUES (?, ?, ?)") },
    };
    for (const auto &[select, insert] : tables) {
        auto rows = from.run(select);
        auto write = to.prepare(insert);
        if (!rows || !write) {
            *error = rows ? write.error().message : rows.error().message;
            return false;
        }
        const bool hasParent = select.contains(QLatin1String("_id"));
        while ((*rows)->next()) {
            (*write)->bind(0, (*rows)->integer(0));
            (*write)->bind(1, (*rows)->text(1).toByteArray());
            if (hasParent)
                (*write)->bind(2, (*rows)->integer(2));
            if (auto done = (*write)->exec(); !done) {
                *error = done.error().message;
                return false;
            }
        }
    }
    auto links = from.run(QStringLiteral("SELECT id, zab_id, baz_id FROM api_zab_bazs"));
    auto link = to.prepare(QStringLiteral("INSERT INTO api_zab_bazs (id, zab_id, baz_id) VALUES (?, ?, ?)"));
    if (!links || !link) {
        *error = QStringLiteral("links");
        return false;
    }
    while ((*links)->next()) {
        for (int column = 0; column < 3; ++column)
            (*link)->bind(column, (*links)->integer(column));
        if (auto done = (*link)->exec(); !done) {
            *error = done.error().message;
            return false;
        }
    }
    // Django's next ids follow the copied ones.
    for (const char *table : { "api_foo", "api_bar", "api_zab", "api_baz", "api_zab_bazs" }) {
        const QString sql = QStringLiteral("SELECT setval(pg_get_serial_sequence('%1', 'id'), (SELECT max(id) FROM %1))")
                                .arg(QLatin1String(table));
        if (auto done = to.run(sql); !done) {
            *error = done.error().message;
            return false;
        }
    }
    return true;
}

} // namespace

class TestConsoleStores : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void postgres();
    void sqliteAndRedis();
    void wrongPostgres_data();
    void wrongPostgres();
    void refusedRedis();

private:
    // The session as the GUI wires it, a change made through `otherConnection`, the rows followed.
    void runConsole(const ConnectionSpec &spec, Database &otherConnection);

    QTemporaryDir m_dir;
    DemoDatabase m_demo;
    TestPostgres m_postgres;
    QString m_pgUrl;
};

void TestConsoleStores::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QVERIFY(m_demo.seed(m_dir, QStringLiteral("small")));
    QElapsedTimer timer;
    timer.start();
    QString error;
    QVERIFY2(m_postgres.start(&error), qPrintable(error));
    QVERIFY2(m_postgres.createDatabase(QStringLiteral("demo"), &error), qPrintable(error));
    m_pgUrl = m_postgres.url(QStringLiteral("demo"));
    const qint64 started = timer.restart();
    // Django's migrate makes the schema (jsonb column, sequences); the demo's rows replace its own.
    const QList<ProcessResult> made = runReferences({ { QStringLiteral("make-db"), QStringLiteral("--db"), m_pgUrl,
                                                        QStringLiteral("--app-label"), QStringLiteral("api") } });
    QVERIFY2(made.size() == 1 && made[0].finished && made[0].exitCode == 0, qPrintable(describe(made.value(0))));
    auto pg = Database::open(DatabaseConfig::parse(m_pgUrl).value());
    QVERIFY2(pg, qPrintable(why(pg)));
    QVERIFY2(copyRows(*m_demo.database, **pg, &error), qPrintable(error));
    QCOMPARE((*pg)->fooIds().value(), m_demo.database->fooIds().value());
    qInfo("PostgreSQL up in %lld ms, demo data in %lld ms", started, timer.elapsed());
}

void TestConsoleStores::cleanupTestCase()
{
    m_postgres.stop();
}

void TestConsoleStores::runConsole(const ConnectionSpec &spec, Database &other)
{
    const auto [probeError, probeMs] = probe(spec);
    QVERIFY2(probeError.isEmpty(), qPrintable(probeError));
    QVERIFY2(ChangeTracking::install(other), "install tracking");
    const CacheConfig config = spec.cacheConfig().value();
    ConsoleSession session(spec, config);
    session.setStatusInterval(50);
    FooTreeModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setAutoFetchChildren(false);
    // As MainWindow wires it.
    connect(&session.statuses(), &StatusLoader::loaded, &model, qOverload<const StatusSnapshot &>(&FooTreeModel::updateStates));
    QList<StatusSnapshot> snapshots;
    connect(&session.statuses(), &StatusLoader::loaded, this, [&snapshots](const StatusSnapshot &snapshot) { snapshots << snapshot; });
    QSignalSpy statusFailed(&session.statuses(), &StatusLoader::failed);
    model.setService(&session.service());
    QSignalSpy loadFailed(&model, &FooTreeModel::loadFailed);
    model.setDatabase(config.database);
    QVERIFY(waitUntilIdle(model));
    QVERIFY2(loadFailed.isEmpty(), qPrintable(loadFailed.value(0).value(0).toString()));
    const IdNameRows foos = demoFoos(*m_demo.database);
    QCOMPARE(model.rowCount(), foos.size());
    // The server-side filter on this engine: an id, a name part, an id beyond 32 bits.
    for (const QString &text : { QStringLiteral("12"), QStringLiteral("FOO-1"), QStringLiteral("99999999999") }) {
        FooTreeModel filtered;
        QSignalSpy filterFailed(&filtered, &FooTreeModel::loadFailed);
        filtered.setDatabase(config.database);
        filtered.setFilter(text);
        QVERIFY(waitUntilIdle(filtered));
        QVERIFY2(filterFailed.isEmpty(), qPrintable(filterFailed.value(0).value(0).toString()));
        qsizetype expected = 0;
        for (const auto &[id, name] : foos)
            expected += name.contains(text, Qt::CaseInsensitive) || QString::number(id) == text ? 1 : 0;
        QCOMPARE(filtered.rowCount(), expected);
    }
    const qint64 pk = biggestFoo(*m_demo.database);
    const QModelIndex foo = model.fooIndex(pk);
    model.fetchMore(foo);
    QVERIFY(waitUntilIdle(model));
    QCOMPARE(model.rowCount(foo), demoChildren(*m_demo.database, FooTreeModel::Kind::Foo, pk).size());

    const auto state = [&](qint64 id) {
        const QVariant value = model.fooIndex(id).data(FooTreeModel::StateRole);
        return value.isValid() ? std::optional<EntryState>(EntryState(value.toInt())) : std::nullopt;
    };
    session.statuses().request();
    QTRY_VERIFY_WITH_TIMEOUT(state(foos.last().first).has_value(), 10000);
    for (const auto &[id, name] : foos)
        QCOMPARE(state(id), EntryState::Missing);

    // Refresh one Foo: its row turns fresh (tracking is installed), the others stay; no reset.
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    session.service().refresh({ pk });
    QTRY_COMPARE_WITH_TIMEOUT(state(pk), EntryState::Fresh, 10000);
    for (const QList<QVariant> &signal : std::as_const(changed))
        QCOMPARE(signal.at(0).value<QModelIndex>().row(), foo.row());
    for (const auto &[id, name] : foos)
        QVERIFY(id == pk || state(id) == EntryState::Missing);
    QVERIFY(model.fooIndex(pk, FooTreeModel::SizeColumn).data(FooTreeModel::SortRole).toLongLong() > 0);
    // Each read's changes were found, on the loader's thread, against the read before it.
    QVERIFY(snapshots.size() >= 2);
    for (qsizetype i = 1; i < snapshots.size(); ++i)
        QVERIFY(snapshots[i].base.isSharedWith(snapshots[i - 1].byPk));
    QVERIFY(std::any_of(snapshots.cbegin(), snapshots.cend(), [pk](const StatusSnapshot &snapshot) { return snapshot.changed.contains(pk); }));

    // Another connection renames a Baz of that Foo: the watcher notices, the row turns stale with
    // the change as its reason.
    auto rename = other.prepare(QStringLiteral(
        "UPDATE api_baz SET name = 'renamed elsewhere' WHERE id = (SELECT min(l.baz_id) FROM api_bar b JOIN api_zab z "
        "ON z.bar_id = b.id JOIN api_zab_bazs l ON l.zab_id = z.id WHERE b.foo_id = ?)"));
    QVERIFY2(rename, qPrintable(why(rename)));
    (*rename)->bind(0, pk);
    QVERIFY((*rename)->exec());
    QTRY_COMPARE_WITH_TIMEOUT(state(pk), EntryState::Stale, 10000);
    const QString reason = model.fooIndex(pk).data(FooTreeModel::ReasonRole).toString();
    QVERIFY2(reason.contains(QLatin1String("Baz"), Qt::CaseInsensitive), qPrintable(reason));
    QCOMPARE(reset.size(), 0);
    QCOMPARE(model.rowCount(foo), demoChildren(*m_demo.database, FooTreeModel::Kind::Foo, pk).size()); // still open

    // Verify it: the row says how it differs, as the result arrives.
    session.service().verify({ pk });
    QTRY_COMPARE_WITH_TIMEOUT(model.fooIndex(pk).data(FooTreeModel::VerdictRole).toInt(), int(FooTreeModel::Verdict::Differs), 10000);
    QCOMPARE(statusFailed.size(), 0);
    QVERIFY(ChangeTracking::uninstall(other));
    qInfo("%s: probe in %lld ms", qPrintable(spec.displayName()), probeMs);
}

void TestConsoleStores::postgres()
{
    ConnectionSpec spec;
    spec.database = m_pgUrl;
    auto other = Database::open(DatabaseConfig::parse(m_pgUrl).value());
    QVERIFY2(other, qPrintable(why(other)));
    runConsole(spec, **other);
}

void TestConsoleStores::sqliteAndRedis()
{
    const QString path = m_dir.filePath(QStringLiteral("redis-demo.sqlite3"));
    QVERIFY(QFile::copy(m_demo.config.sqlitePath, path));
    TestRedis redis;
    QString error;
    QVERIFY2(redis.start(&error), qPrintable(error));
    ConnectionSpec spec;
    spec.database = path;
    spec.store = QStringLiteral("redis");
    spec.redisUrl = redis.url();
    spec.redisPrefix = QStringLiteral("console:");
    auto other = Database::open(DatabaseConfig::parse(path).value());
    QVERIFY2(other, qPrintable(why(other)));
    runConsole(spec, **other);
    QVERIFY(!redis.command({ QStringLiteral("KEYS"), QStringLiteral("console:*") }).isEmpty());
}

void TestConsoleStores::wrongPostgres_data()
{
    QTest::addColumn<QString>("url");
    QTest::addColumn<QString>("message"); // part of the error text
    const int nobody = TestPostgres::freePort();
    QTest::addRow("nobody listens") << QStringLiteral("postgresql://preserve:x@127.0.0.1:%1/demo").arg(nobody)
                                    << QStringLiteral("127.0.0.1");
    QTest::addRow("wrong password") << QStringLiteral("postgresql://preserve:wrong@127.0.0.1:%1/demo").arg(m_postgres.port())
                                    << QStringLiteral("password");
    QTest::addRow("no such database") << m_postgres.url(QStringLiteral("nosuchdb")) << QStringLiteral("nosuchdb");
    QTest::addRow("no Django tables") << m_postgres.url(QStringLiteral("postgres")) << QStringLiteral("api_foo");
    QTest::addRow("not a URL") << QStringLiteral("postgresql://") << QString();
}

// What the Connect dialog shows: an error that says what is wrong, within seconds, never a hang.
void TestConsoleStores::wrongPostgres()
{
    QFETCH(QString, url);
    QFETCH(QString, message);
    ConnectionSpec spec;
    spec.database = url;
    const auto [error, ms] = probe(spec);
    QVERIFY2(!error.isEmpty(), "the probe succeeded");
    QVERIFY2(error.contains(message, Qt::CaseInsensitive), qPrintable(error));
    QVERIFY2(!error.contains(m_postgres.password()), qPrintable(error));
    QVERIFY2(ms < 10000, qPrintable(QString::number(ms)));
    qInfo("%lld ms: %s", ms, qPrintable(error));
}

// A Redis that refuses: the probe says so; a session opened anyway reports it through the status
// loader instead of hanging, and the tree (from the database) still loads.
void TestConsoleStores::refusedRedis()
{
    ConnectionSpec spec;
    spec.database = m_demo.config.sqlitePath;
    spec.store = QStringLiteral("redis");
    spec.redisUrl = QStringLiteral("redis://127.0.0.1:%1/0").arg(TestPostgres::freePort());
    const auto [error, ms] = probe(spec);
    QVERIFY2(!error.isEmpty(), "the probe succeeded");
    QVERIFY2(error.contains(QLatin1String("redis"), Qt::CaseInsensitive) || error.contains(QLatin1String("refused"), Qt::CaseInsensitive),
             qPrintable(error));
    QVERIFY2(ms < 10000, qPrintable(QString::number(ms)));
    qInfo("%lld ms: %s", ms, qPrintable(error));

    ConsoleSession session(spec, spec.cacheConfig().value());
    QSignalSpy failed(&session.statuses(), &StatusLoader::failed);
    QElapsedTimer timer;
    timer.start();
    session.statuses().request();
    QVERIFY(failed.wait(10000));
    QVERIFY2(timer.elapsed() < 10000, qPrintable(QString::number(timer.elapsed())));
    QVERIFY(!failed.at(0).at(0).toString().isEmpty());
    FooTreeModel model;
    model.setDatabase(spec.cacheConfig()->database);
    QVERIFY(waitUntilIdle(model));
    QCOMPARE(model.rowCount(), demoFoos(*m_demo.database).size());
}

QTEST_GUILESS_MAIN(TestConsoleStores)
#include "tst_consolestores.moc"
