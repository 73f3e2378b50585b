// Database::open() on SQLite files made by TestSqlite: the schema check and its messages, read-only
// connections, connection bookkeeping, the Statement API and ReadSnapshot's transaction.
#include "db/database.h"
#include "db/seeder.h"
#include "testsupport.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

#include <sqlite3.h>

namespace {

template <typename T> QByteArray messageOf(const Result<T> &result)
{
    return result.ok() ? QByteArray() : result.error().message.toUtf8();
}

#define OPEN_OR_FAIL(name, config)                                                                           \
    auto name##Opened = Database::open(config);                                                              \
    QVERIFY2(name##Opened.ok(), messageOf(name##Opened).constData());                                        \
    Database &name = **name##Opened

// The DDL of another app label, minus the django_migrations table the file already has.
void addLabel(TestSqlite &sqlite, const QString &label)
{
    for (const QString &sql : Seeder::sqliteSchema(label)) {
        if (!sql.contains(QLatin1String("\"django_migrations\"")))
            sqlite.exec(sql);
    }
}

// What openFailures() puts at the path.
constexpr int Missing = 0;
constexpr int Directory = 1;
constexpr int File = 2;

qint64 bazCount(Database &database)
{
    const auto counts = database.counts();
    return counts ? counts->bazs : -1;
}

} // namespace

class TestDatabase : public QObject {
    Q_OBJECT

private slots:
    void lockRetriesAreShortThenGiveUp();
    void lockWaitWorkRunsWhileTheFileIsLocked();
    void initTestCase();
    void init();
    void cleanup();
    void countsMatchInserts_data();
    void countsMatchInserts();
    void twoLabelsInOneFile();
    void openFailures_data();
    void openFailures();
    void invalidLabelInConfig();
    void missingTablesNamed();
    void missingColumn_data();
    void missingColumn();
    void readOnlyRefusesWrites_data();
    void readOnlyRefusesWrites();
    void twoConnectionsOnOneFile();
    void statementRows();
    void statementErrors();
    void readSnapshotNests();
    void readSnapshotInsideForeignTransaction();
};

void TestDatabase::initTestCase()
{
    // Each TestSqlite syncs its schema to disk statement by statement, a quarter of a second on a busy
    // disk; on a RAM disk the whole test takes well under a second. Locking works the same there.
    const QFileInfo ramDisk(QStringLiteral("/dev/shm"));
    if (ramDisk.isDir() && ramDisk.isWritable())
        qputenv("TMPDIR", QFile::encodeName(ramDisk.filePath()));
}

void TestDatabase::init()
{
    // Destroying a Database while a QSqlQuery still uses its connection is a test bug.
    QTest::failOnWarning(QRegularExpression(QStringLiteral("still in use")));
}

void TestDatabase::cleanup()
{
    // Whatever a test opened, succeeded or failed, no connection outlives its Database.
    QCOMPARE(QSqlDatabase::connectionNames(), QStringList());
}

void TestDatabase::countsMatchInserts_data()
{
    QTest::addColumn<int>("foos");
    QTest::addColumn<int>("barsPerFoo");
    QTest::addColumn<int>("zabsPerBar");
    QTest::addColumn<int>("bazs");
    QTest::addColumn<int>("linksPerZab");
    QTest::addRow("empty") << 0 << 0 << 0 << 0 << 0;
    QTest::addRow("one of each") << 1 << 1 << 1 << 1 << 1;
    QTest::addRow("bazs only") << 0 << 0 << 0 << 4 << 0;
    QTest::addRow("fan-out") << 3 << 4 << 2 << 5 << 3;
    QTest::addRow("foos without bars") << 7 << 0 << 0 << 2 << 0;
}

void TestDatabase::countsMatchInserts()
{
    QFETCH(int, foos);
    QFETCH(int, barsPerFoo);
    QFETCH(int, zabsPerBar);
    QFETCH(int, bazs);
    QFETCH(int, linksPerZab);

    TestSqlite sqlite;
    sqlite.exec(QStringLiteral("BEGIN")); // one sync instead of one per row
    QList<qint64> bazIds;
    for (int b = 0; b < bazs; ++b)
        bazIds << sqlite.addBaz("baz " + QByteArray::number(b));
    Database::Counts expected;
    expected.bazs = bazs;
    for (int f = 0; f < foos; ++f, ++expected.foos) {
        const qint64 foo = sqlite.addFoo("foo " + QByteArray::number(f));
        for (int b = 0; b < barsPerFoo; ++b, ++expected.bars) {
            const qint64 bar = sqlite.addBar(foo, "bar");
            for (int z = 0; z < zabsPerBar; ++z, ++expected.zabs) {
                const qint64 zab = sqlite.addZab(bar, "zab");
                for (int l = 0; l < linksPerZab; ++l, ++expected.links)
                    sqlite.link(zab, bazIds[l]);
            }
        }
    }
    sqlite.exec(QStringLiteral("COMMIT"));

    OPEN_OR_FAIL(db, sqlite.config());
    const auto counts = db.counts();
    QVERIFY2(counts.ok(), messageOf(counts).constData());
    QCOMPARE(counts->foos, expected.foos);
    QCOMPARE(counts->bars, expected.bars);
    QCOMPARE(counts->zabs, expected.zabs);
    QCOMPARE(counts->bazs, expected.bazs);
    QCOMPARE(counts->links, expected.links);
    const auto ids = db.fooIds();
    QVERIFY(ids.ok());
    QCOMPARE(ids->size(), expected.foos);
}

void TestDatabase::twoLabelsInOneFile()
{
    TestSqlite sqlite; // "api"
    addLabel(sqlite, QStringLiteral("shop"));
    sqlite.addFoo("api foo");
    const QList<qint64> shopIds { 30, 4611686018427387904LL, 5, 17 };
    for (const qint64 id : shopIds)
        sqlite.exec(QStringLiteral("INSERT INTO shop_foo (id, name) VALUES (%1, 'f')").arg(id));

    auto shopConfig = sqlite.config();
    shopConfig.appLabel = QStringLiteral("shop");
    OPEN_OR_FAIL(api, sqlite.config());
    OPEN_OR_FAIL(shop, shopConfig);
    QCOMPARE(shop.tables().zabBazs, QStringLiteral("shop_zab_bazs"));
    for (Database *db : { &api, &shop }) {
        const auto labels = db->appLabels();
        QVERIFY2(labels.ok(), messageOf(labels).constData());
        QCOMPARE(*labels, QStringList({ QStringLiteral("api"), QStringLiteral("shop") }));
        const auto names = db->tableNames();
        QVERIFY2(names.ok(), messageOf(names).constData());
        for (const QString &table :
            api.tables().all() + shop.tables().all() + QStringList(QStringLiteral("django_migrations")))
            QVERIFY2(names->contains(table), qPrintable(table));
        QStringList sorted = *names;
        sorted.sort();
        QCOMPARE(*names, sorted);
    }
    QCOMPARE(api.counts()->foos, 1);
    QCOMPARE(shop.counts()->foos, shopIds.size());
    QList<qint64> expected = shopIds;
    std::sort(expected.begin(), expected.end());
    QCOMPARE(*shop.fooIds(), expected);
}

void TestDatabase::openFailures_data()
{
    QTest::addColumn<int>("setup");
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<bool>("readOnly");
    QTest::addColumn<int>("kind");
    QTest::addColumn<QString>("mentions"); // besides the path
    QByteArray binary;
    for (int i = 0; i < 4096; ++i)
        binary += char((i * 73 + 11) & 0xFF);
    const QByteArray header = QByteArray("SQLite format 3\0", 16) + QByteArray(84, '\xAB');
    for (const bool readOnly : { false, true }) {
        const char *mode = readOnly ? "read-only" : "writable";
        QTest::addRow("missing file, %s", mode)
            << Missing << QByteArray() << readOnly << int(Error::Kind::NotFound) << "";
        QTest::addRow("directory, %s", mode)
            << Directory << QByteArray() << readOnly << int(Error::Kind::Invalid) << "";
        QTest::addRow("text, %s", mode) << File << QByteArray("not a database\n").repeated(300) << readOnly
                                        << int(Error::Kind::Database) << "";
        QTest::addRow("binary, %s", mode) << File << binary << readOnly << int(Error::Kind::Database) << "";
        QTest::addRow("SQLite header, garbage after, %s", mode)
            << File << header << readOnly << int(Error::Kind::Database) << "";
        // A 0-byte file is a valid, empty SQLite database: no table, so no label.
        QTest::addRow("empty file, %s", mode)
            << File << QByteArray("") << readOnly << int(Error::Kind::NotFound) << "no table ends in _foo";
    }
}

void TestDatabase::openFailures()
{
    QFETCH(int, setup);
    QFETCH(QByteArray, content);
    QFETCH(bool, readOnly);
    QFETCH(int, kind);
    QFETCH(QString, mentions);
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("db.sqlite3"));
    if (setup == Directory)
        QVERIFY(QDir(dir.path()).mkdir(QStringLiteral("db.sqlite3")));
    if (setup == File) {
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        QCOMPARE(file.write(content), content.size());
    }

    const auto opened = Database::open(*DatabaseConfig::parse(path, QStringLiteral("api"), readOnly));
    QVERIFY(!opened.ok());
    QCOMPARE(int(opened.error().kind), kind);
    QVERIFY2(opened.error().message.contains(path), messageOf(opened).constData());
    QVERIFY2(opened.error().message.contains(mentions), messageOf(opened).constData());
    if (setup == Missing) { // never created, nor anything next to it
        QVERIFY(!QFileInfo::exists(path));
        QCOMPARE(QDir(dir.path()).entryList(QDir::NoDotAndDotDot | QDir::AllEntries), QStringList());
    }
    if (setup == File) { // looked at, never written to
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        QCOMPARE(file.readAll(), content);
    }
}

void TestDatabase::invalidLabelInConfig()
{
    TestSqlite sqlite;
    DatabaseConfig config = sqlite.config();
    config.appLabel = QStringLiteral("api\"; DROP TABLE api_foo; --"); // set without parse()'s check
    const auto opened = Database::open(config);
    QVERIFY(!opened.ok());
    QCOMPARE(opened.error().kind, Error::Kind::Invalid);
    QVERIFY2(opened.error().message.contains(config.appLabel), messageOf(opened).constData());
    OPEN_OR_FAIL(db, sqlite.config()); // and the tables are still there
    QVERIFY(db.tableNames()->contains(QStringLiteral("api_foo")));
}

void TestDatabase::missingTablesNamed()
{
    TestSqlite sqlite;
    DatabaseConfig config = sqlite.config();
    config.appLabel = QStringLiteral("shop");
    const auto opened = Database::open(config);
    QVERIFY(!opened.ok());
    QCOMPARE(opened.error().kind, Error::Kind::NotFound);
    const QString message = opened.error().message;
    for (const char *table : { "shop_foo", "shop_bar", "shop_zab", "shop_baz", "shop_zab_bazs" })
        QVERIFY2(message.contains(QLatin1String(table)), qPrintable(message));
    QVERIFY2(message.contains(QLatin1String("\"shop\"")), qPrintable(message));
    QVERIFY2(message.contains(QRegularExpression(QStringLiteral(":\\s*api\\b"))), qPrintable(message));

    // Only what is missing is listed.
    sqlite.exec(QStringLiteral("DROP TABLE api_zab_bazs"));
    const auto partial = Database::open(sqlite.config());
    QVERIFY(!partial.ok());
    QVERIFY2(partial.error().message.contains(QLatin1String("api_zab_bazs")), messageOf(partial).constData());
    QVERIFY2(!partial.error().message.contains(QLatin1String("api_bar")), messageOf(partial).constData());
}

void TestDatabase::missingColumn_data()
{
    QTest::addColumn<QString>("table");
    QTest::addColumn<QString>("replacement");
    QTest::addColumn<QString>("column");
    QTest::addRow("zab without bar_id") << "api_zab"
                                        << "id integer PRIMARY KEY, name varchar(50)"
                                        << "bar_id";
    QTest::addRow("foo without pre_serialized") << "api_foo"
                                                << "id integer PRIMARY KEY, name varchar(50)"
                                                << "pre_serialized";
    QTest::addRow("baz without name") << "api_baz"
                                      << "id integer PRIMARY KEY"
                                      << "name";
    QTest::addRow("links without baz_id") << "api_zab_bazs"
                                          << "id integer PRIMARY KEY, zab_id integer"
                                          << "baz_id";
}

void TestDatabase::missingColumn()
{
    QFETCH(QString, table);
    QFETCH(QString, replacement);
    QFETCH(QString, column);
    TestSqlite sqlite;
    sqlite.exec(QStringLiteral("DROP TABLE %1").arg(table));
    sqlite.exec(QStringLiteral("CREATE TABLE %1 (%2)").arg(table, replacement));

    const auto opened = Database::open(sqlite.config());
    QVERIFY(!opened.ok());
    QCOMPARE(opened.error().kind, Error::Kind::Database);
    const QString message = opened.error().message;
    QVERIFY2(message.contains(QLatin1String("\"api\"")), qPrintable(message));
    QVERIFY2(message.contains(column), qPrintable(message));
}

void TestDatabase::readOnlyRefusesWrites_data()
{
    QTest::addColumn<QString>("sql");
    QTest::addRow("insert") << "INSERT INTO api_baz (name) VALUES ('x')";
    QTest::addRow("delete") << "DELETE FROM api_baz";
    QTest::addRow("update") << "UPDATE api_baz SET name = 'changed'";
    QTest::addRow("drop table") << "DROP TABLE api_zab_bazs";
    QTest::addRow("create table") << "CREATE TABLE intruder (id integer)";
}

void TestDatabase::readOnlyRefusesWrites()
{
    QFETCH(QString, sql);
    TestSqlite sqlite;
    sqlite.addBaz("kept");
    {
        OPEN_OR_FAIL(db, sqlite.config(true));
        QVERIFY(db.config().readOnly);
        {
            QSqlQuery query(db.connection());
            QVERIFY2(!query.exec(sql), "direct exec wrote");
            QVERIFY(query.lastError().isValid());
            QVERIFY(query.exec(QStringLiteral("PRAGMA query_only = 0"))); // lifting the pragma is not enough
            QVERIFY2(!query.exec(sql), "exec wrote after PRAGMA query_only = 0");
            QSqlQuery prepared(db.connection());
            QVERIFY2(!(prepared.prepare(sql) && prepared.exec()), "prepared exec wrote");
        }
        // Preparing may succeed (SQLite reports at the first step); running must not.
        auto statement = db.run(sql);
        if (statement.ok()) {
            QVERIFY(!(*statement)->next());
            QVERIFY(!(*statement)->status().ok());
            QVERIFY(!(*statement)->status().error().message.isEmpty());
        }
        QCOMPARE(bazCount(db), 1);
    }
    OPEN_OR_FAIL(check, sqlite.config());
    QCOMPARE(bazCount(check), 1);
    QCOMPARE(check.counts()->links, 0); // api_zab_bazs still exists
    QVERIFY(!check.tableNames()->contains(QStringLiteral("intruder")));
}

void TestDatabase::twoConnectionsOnOneFile()
{
    TestSqlite sqlite;
    sqlite.addFoo("one");
    {
        OPEN_OR_FAIL(first, sqlite.config());
        OPEN_OR_FAIL(second, sqlite.config(true));
        QCOMPARE(QSqlDatabase::connectionNames().size(), 2);
        QVERIFY(first.connection().connectionName() != second.connection().connectionName());
        QVERIFY(first.sqliteHandle() != second.sqliteHandle());
        QVERIFY(first.sqliteHandle() && second.sqliteHandle());
        sqlite.addFoo("two");
        QCOMPARE(first.counts()->foos, 2);
        QCOMPARE(second.counts()->foos, 2);
        {
            OPEN_OR_FAIL(third, sqlite.config());
            QCOMPARE(third.fooIds()->size(), 2);
        }
        QCOMPARE(QSqlDatabase::connectionNames().size(), 2);
        QCOMPARE(first.fooIds()->size(), 2); // the others' connections are untouched
    }
    QCOMPARE(QSqlDatabase::connectionNames(), QStringList());
}

void TestDatabase::statementRows()
{
    TestSqlite sqlite;
    const QByteArray withNul("a\0b\xFF\xC3\xA9", 6); // NUL and invalid UTF-8, as only SQLite can hold
    const qint64 nulId = sqlite.addFoo(withNul);
    const qint64 emptyId = sqlite.addFoo("");
    sqlite.exec(QStringLiteral("UPDATE api_foo SET pre_serialized = '{\"k\":1}' WHERE id = %1").arg(emptyId));
    OPEN_OR_FAIL(db, sqlite.config(true));

    auto all = db.run(QStringLiteral("SELECT id, name, pre_serialized FROM api_foo ORDER BY id"));
    QVERIFY2(all.ok(), messageOf(all).constData());
    Statement &rows = **all;
    QVERIFY(rows.next());
    QCOMPARE(rows.integer(0), nulId);
    QCOMPARE(rows.text(1).toByteArray(), withNul); // the full length, past the NUL
    QVERIFY(!rows.isNull(1));
    QVERIFY(rows.isNull(2));
    QVERIFY(rows.next());
    QCOMPARE(rows.integer(0), emptyId);
    QCOMPARE(rows.text(1).size(), 0);
    QVERIFY(!rows.isNull(1)); // empty is not NULL
    QCOMPARE(rows.text(2).toByteArray(), QByteArray("{\"k\":1}"));
    QVERIFY(!rows.next());
    QVERIFY(rows.status().ok());
    QVERIFY(!rows.next()); // stays at the end

    auto byName = db.prepare(QStringLiteral("SELECT id FROM api_foo WHERE name = ?"));
    QVERIFY(byName.ok());
    for (const auto &[name, expected] : { std::pair(withNul, nulId), std::pair(QByteArray("a"), qint64(-1)),
             std::pair(QByteArray(""), emptyId) }) {
        (*byName)->bind(0, name);
        for (int round = 0; round < 2; ++round) { // parameters stay bound across exec()
            QVERIFY((*byName)->exec().ok());
            QCOMPARE((*byName)->next(), expected >= 0); // "a", the prefix up to the NUL, matches nothing
            if (expected >= 0)
                QCOMPARE((*byName)->integer(0), expected);
            QVERIFY(!(*byName)->next());
            QVERIFY((*byName)->status().ok());
        }
    }
}

void TestDatabase::statementErrors()
{
    TestSqlite sqlite;
    OPEN_OR_FAIL(db, sqlite.config());

    const auto missing = db.prepare(QStringLiteral("SELECT * FROM nope"));
    QVERIFY(!missing.ok());
    QCOMPARE(missing.error().kind, Error::Kind::Database);
    QVERIFY2(missing.error().message.contains(QLatin1String("nope")), messageOf(missing).constData());
    const auto syntax = db.run(QStringLiteral("SELEC 1"));
    QVERIFY(!syntax.ok());
    QVERIFY(!syntax.error().message.isEmpty());

    // Fails on its first step: exec() says so, as QSqlQuery::exec() does for other engines.
    auto failing = db.prepare(QStringLiteral("SELECT json_extract('not json', '$')"));
    QVERIFY2(failing.ok(), messageOf(failing).constData());
    QVERIFY(!(*failing)->exec().ok());
    QVERIFY(!(*failing)->next());
    QVERIFY(!(*failing)->status().ok());

    // Fails on a later row: next() is false there and status() says why; a new run starts clean.
    auto later = db.run(QStringLiteral("SELECT json_extract(x, '$') FROM (SELECT '[1]' AS x UNION ALL "
                                       "SELECT 'not json')"));
    QVERIFY2(later.ok(), messageOf(later).constData());
    QVERIFY((*later)->next());
    QVERIFY(!(*later)->next());
    QVERIFY(!(*later)->status().ok());
    QVERIFY(!(*later)->status().error().message.isEmpty());
    QVERIFY((*later)->exec().ok());
    QVERIFY((*later)->status().ok());
    QVERIFY((*later)->next());
    QVERIFY(!(*later)->next());
    QVERIFY(!(*later)->status().ok());

    // A statement without rows runs at exec(), as an operator would expect of "run".
    auto insert = db.run(QStringLiteral("INSERT INTO api_baz (name) VALUES ('ran')"));
    QVERIFY(insert.ok());
    QCOMPARE(db.counts()->bazs, 1);
}

void TestDatabase::readSnapshotNests()
{
    TestSqlite sqlite;
    sqlite.addBaz("first");
    OPEN_OR_FAIL(reader, sqlite.config(true));
    OPEN_OR_FAIL(writer, sqlite.config(false));
    {
        QSqlQuery query(writer.connection());
        QVERIFY(query.exec(QStringLiteral("PRAGMA busy_timeout = 0"))); // fail at once instead of waiting
    }
    const auto tryWrite = [&writer] {
        QSqlQuery query(writer.connection());
        return query.exec(QStringLiteral("INSERT INTO api_baz (name) VALUES ('later')"));
    };

    QVERIFY(sqlite3_get_autocommit(reader.sqliteHandle()) != 0);
    {
        ReadSnapshot outer(reader);
        QCOMPARE(sqlite3_get_autocommit(reader.sqliteHandle()), 0);
        QCOMPARE(bazCount(reader), 1);
        {
            ReadSnapshot inner(reader);
            QCOMPARE(sqlite3_get_autocommit(reader.sqliteHandle()), 0);
            QCOMPARE(bazCount(reader), 1);
        }
        QCOMPARE(sqlite3_get_autocommit(reader.sqliteHandle()), 0); // the inner end does not commit
        // The snapshot's read lock keeps a writer out between two reads (rollback journal).
        QVERIFY(!tryWrite());
        QCOMPARE(bazCount(reader), 1);
    }
    QVERIFY(sqlite3_get_autocommit(reader.sqliteHandle()) != 0);
    QVERIFY(tryWrite());
    QCOMPARE(bazCount(reader), 2);

    ReadSnapshot again(reader); // and a second snapshot begins afresh
    QCOMPARE(sqlite3_get_autocommit(reader.sqliteHandle()), 0);
    QCOMPARE(bazCount(reader), 2);
}

// A transaction the caller began is left to the caller: the snapshot neither commits nor ends it.
void TestDatabase::readSnapshotInsideForeignTransaction()
{
    TestSqlite sqlite;
    OPEN_OR_FAIL(db, sqlite.config());
    QSqlDatabase connection = db.connection();
    QVERIFY(connection.transaction());
    {
        // A writable Database writes, through a Statement too.
        auto insert = db.prepare(QStringLiteral("INSERT INTO api_baz (name) VALUES (?)"));
        QVERIFY2(insert.ok(), messageOf(insert).constData());
        (*insert)->bind(0, QByteArray("pending"));
        QVERIFY((*insert)->exec().ok());
        QVERIFY(!(*insert)->next());
        QVERIFY((*insert)->status().ok());
    }
    {
        ReadSnapshot snapshot(db);
        QCOMPARE(bazCount(db), 1);
    }
    QCOMPARE(sqlite3_get_autocommit(db.sqliteHandle()), 0);
    QVERIFY(connection.rollback());
    QVERIFY(sqlite3_get_autocommit(db.sqliteHandle()) != 0);
    QCOMPARE(bazCount(db), 0);
}

void TestDatabase::lockRetriesAreShortThenGiveUp()
{
    using namespace std::chrono_literals;
    QCOMPARE(Database::lockRetryDelay(0us), 100us);
    QCOMPARE(Database::lockRetryDelay(9ms), 100us);
    QCOMPARE(Database::lockRetryDelay(10ms), 1000us);
    QCOMPARE(Database::lockRetryDelay(4999ms), 1000us);
    QCOMPARE(Database::lockRetryDelay(Database::lockTimeout), 0us);
}

// A reader kept out of the file by another connection's commit does the work it was given
// instead of sleeping, and reads as soon as the lock is gone.
void TestDatabase::lockWaitWorkRunsWhileTheFileIsLocked()
{
    TestSqlite sqlite;
    OPEN_OR_FAIL(reader, sqlite.config());
    OPEN_OR_FAIL(writer, sqlite.config());
    QCOMPARE(bazCount(reader), 0);
    // EXCLUSIVE, as a commit holds it while it writes its pages.
    QCOMPARE(sqlite3_exec(writer.sqliteHandle(), "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
    QCOMPARE(sqlite3_exec(writer.sqliteHandle(), "INSERT INTO api_baz (name) VALUES ('committed')", nullptr, nullptr, nullptr), SQLITE_OK);
    int calls = 0;
    reader.setLockWaitWork([&] {
        if (++calls == 3) // the third piece of work ends the commit
            sqlite3_exec(writer.sqliteHandle(), "COMMIT", nullptr, nullptr, nullptr);
        return true;
    });
    QCOMPARE(bazCount(reader), 1);
    QCOMPARE(calls, 3);
    reader.setLockWaitWork({});
    QCOMPARE(bazCount(reader), 1); // no lock to wait for: no work either

    // Readers wait for commits in a rollback-journal file (Django's default), not in a WAL one.
    QVERIFY(reader.commitsKeepReadersOut());
    QCOMPARE(sqlite3_exec(writer.sqliteHandle(), "PRAGMA journal_mode = WAL", nullptr, nullptr, nullptr), SQLITE_OK);
    OPEN_OR_FAIL(later, sqlite.config());
    QVERIFY(!later.commitsKeepReadersOut());
}

QTEST_GUILESS_MAIN(TestDatabase)
#include "tst_database.moc"
