// DbColumnStore and its watcher against real SQLite files (Django's exact schema) and a real
// PostgreSQL server whose tables Django's own migrate created (jsonb pre_serialized).

#include "cache/dbcolumn/dbcolumnstore.h"
#include "cache/dbcolumn/dbcolumnwatcher.h"
#include "db/database.h"
#include "db/seeder.h"
#include "serialize/serializer.h"
#include "testpostgres.h"
#include "storecontract.h"
#include "testsupport.h"

#include <QElapsedTimer>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <memory>

#include <sqlite3.h>

namespace {

std::unique_ptr<DbColumnStore> openStore(const DatabaseConfig &config)
{
    auto store = DbColumnStore::open(config);
    if (!store) {
        qWarning("DbColumnStore::open(%s): %s", qPrintable(config.displayName()), qPrintable(why(store)));
        return nullptr;
    }
    return std::move(store.value());
}

EntryMetadata sampleMetadata(qint64 changePosition = 42)
{
    EntryMetadata metadata;
    metadata.cachedAt = QDateTime(QDate(2024, 5, 6), QTime(7, 8, 9, 123), Qt::UTC);
    metadata.serializerVersion = Serializer::version;
    metadata.builtBy = QStringLiteral("tst_dbcolumnstore on host (pid 1)");
    metadata.buildMicros = 1234;
    metadata.changePosition = changePosition;
    return metadata;
}

// The live body of a Foo, as the serializer writes it (and as an entry must hold it).
EntryPtr liveEntry(Database &database, qint64 pk, qint64 changePosition = 42)
{
    Serializer serializer(database);
    auto body = serializer.foo(pk);
    if (!body)
        qFatal("serializing Foo %lld: %s", pk, qPrintable(body.error().message));
    return makeEntry(pk, *body, sampleMetadata(changePosition));
}

// First column of every row, as text ("" for NULL).
QList<QByteArray> column(Database &database, const QString &sql, const QList<QByteArray> &parameters = {})
{
    auto query = database.prepare(sql);
    if (!query)
        qFatal("%s: %s", qPrintable(sql), qPrintable(query.error().message));
    for (int i = 0; i < parameters.size(); ++i)
        (*query)->bind(i, parameters[i]);
    if (auto run = (*query)->exec(); !run)
        qFatal("%s: %s", qPrintable(sql), qPrintable(run.error().message));
    QList<QByteArray> values;
    while ((*query)->next())
        values << ((*query)->isNull(0) ? QByteArray() : (*query)->text(0).toByteArray());
    (*query)->reset();
    return values;
}

bool hasSideTable(Database &database)
{
    const auto names = database.tableNames();
    return names && names->contains(DbColumnStore::metadataTable());
}

void compareMetadata(const Entry &entry, const EntryMetadata &expected)
{
    QCOMPARE(entry.cachedAt, expected.cachedAt);
    QCOMPARE(entry.serializerVersion, expected.serializerVersion);
    QCOMPARE(entry.builtBy, expected.builtBy);
    QCOMPARE(entry.buildMicros, expected.buildMicros);
    QCOMPARE(entry.changePosition, expected.changePosition);
    QCOMPARE(entry.foreign, false);
}

const EntryInfo *infoFor(const QList<EntryInfo> &infos, qint64 pk)
{
    const auto found
        = std::find_if(infos.cbegin(), infos.cend(), [pk](const EntryInfo &info) { return info.pk == pk; });
    return found == infos.cend() ? nullptr : &*found;
}

} // namespace

class TestDbColumnStore : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void init();

    void sqliteRoundTrip();
    void sqliteNeverAltersDjangoTables();
    void foreignEntries_data();
    void foreignEntries();
    void rewrittenByDjangoIsForeign();
    void sealOfAnOlderBuildKeepsItsPosition();
    void manyIdsAreListedInTwoHalves();
    void corruptColumn_data();
    void corruptColumn();
    void readOnlyNeverWrites();
    void failedPutLeavesEverythingIntact();
    void removeEntry();
    void batchPagesWaitForTheCommit();
    void getManyLeavesOutMissingAndCorrupt();
    void twoStoresSeeEachOther();
    void olderNeverOverNewer();
    void sqliteWatcherSeesOtherConnections();
    void sqliteWatcherRetriesUntilTheFileExists();
    void largestMediumEntry();

    void postgresRoundTripDespiteJsonb();
    void postgresForeignAndGetMany();
    void postgresFailuresLeaveEntriesIntact();
    void postgresWatcher();
    void previousEntryAndRollback(); // last: it leaves the side tables on PostgreSQL

private:
    void fillSqlite(TestSqlite &sqlite);
    QList<qint64> pgFooIds();

    std::unique_ptr<TestSqlite> m_sqlite;
    QList<qint64> m_sqliteIds;
    TestPostgres m_server;
    QString m_pgUrl;
    QTemporaryDir m_dir;
};

void TestDbColumnStore::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QString error;
    if (!m_server.start(&error))
        QFAIL(qPrintable(error));
    if (!m_server.createDatabase(QStringLiteral("cache"), &error))
        QFAIL(qPrintable(error));
    m_pgUrl = m_server.url(QStringLiteral("cache"));
    const QList<ProcessResult> made = runReferences({ { QStringLiteral("make-db"), QStringLiteral("--db"),
        m_pgUrl, QStringLiteral("--app-label"), QStringLiteral("api") } });
    QVERIFY2(
        made.size() == 1 && made[0].finished && made[0].exitCode == 0, qPrintable(describe(made.value(0))));
}

void TestDbColumnStore::cleanupTestCase()
{
    m_server.stop();
}

// A fresh SQLite file per test: Foos with a little tree each, so bodies are real serializer output.
void TestDbColumnStore::init()
{
    m_sqlite = std::make_unique<TestSqlite>();
    fillSqlite(*m_sqlite);
}

void TestDbColumnStore::fillSqlite(TestSqlite &sqlite)
{
    m_sqliteIds.clear();
    const qint64 baz = sqlite.addBaz("caf\xC3\xA9 \"quoted\"");
    for (int i = 1; i <= 4; ++i) {
        const qint64 foo = sqlite.addFoo("foo-" + QByteArray::number(i));
        for (int b = 0; b < i; ++b) {
            const qint64 bar = sqlite.addBar(foo, "bar \xE2\x80\xA8 " + QByteArray::number(b));
            sqlite.link(sqlite.addZab(bar, "zab"), baz);
        }
        m_sqliteIds << foo;
    }
}

void TestDbColumnStore::sqliteRoundTrip()
{
    auto store = openStore(m_sqlite->config());
    QVERIFY(store);
    QCOMPARE(store->kind(), QStringLiteral("db"));
    QVERIFY(store->description().contains(m_sqlite->config().displayName()));
    QVERIFY(store->description().contains(QLatin1String("pre_serialized column")));
    const qint64 pk = m_sqliteIds[2];

    // Reading works before the side table exists, and does not create it.
    auto missing = store->get(pk);
    QVERIFY2(missing, qPrintable(why(missing)));
    QVERIFY(!*missing);
    auto empty = store->list();
    QVERIFY2(empty && empty->isEmpty(), qPrintable(why(empty)));
    QVERIFY(!hasSideTable(store->database()));

    const EntryPtr entry = liveEntry(store->database(), pk);
    const auto put = store->put(entry);
    QVERIFY2(put, qPrintable(why(put)));
    QVERIFY(hasSideTable(store->database()));

    // The column holds our bytes exactly (what Django's to_representation will serve).
    QCOMPARE(column(store->database(), QStringLiteral("SELECT pre_serialized FROM api_foo WHERE id = ?"),
                 { QByteArray::number(pk) }),
        QList<QByteArray> { entry->body });
    auto read = store->get(pk);
    QVERIFY2(read && *read, qPrintable(why(read)));
    COMPARE_BODIES((*read)->body, entry->body);
    QCOMPARE((*read)->pk, pk);
    QCOMPARE((*read)->digest, entry->digest);
    QCOMPARE(gzipDecompress((*read)->gzip), entry->body);
    compareMetadata(**read, sampleMetadata());
    QCOMPARE(column(store->database(), QStringLiteral("SELECT cached_at FROM preserve_cache_entry")),
        QList<QByteArray> { "2024-05-06T07:08:09.123Z" });

    auto infos = store->list();
    QVERIFY2(infos, qPrintable(why(infos)));
    QCOMPARE(infos->size(), 1);
    QCOMPARE(infos->first().pk, pk);
    QCOMPARE(infos->first().size, entry->body.size());
    QCOMPARE(infos->first().digest, entry->digest);
    QCOMPARE(infos->first().cachedAt, sampleMetadata().cachedAt);
    QCOMPARE(infos->first().changePosition, 42);
    QVERIFY(!infos->first().foreign);
    QVERIFY(infos->first().problem.isEmpty());

    // A second put replaces body and metadata.
    const EntryPtr newer = makeEntry(pk, "{\"name\":\"renamed\",\"bar_set\":[]}", sampleMetadata(43));
    QVERIFY(store->put(newer));
    read = store->get(pk);
    QVERIFY(read && *read);
    COMPARE_BODIES((*read)->body, newer->body);
    QCOMPARE((*read)->changePosition, 43);
}

void TestDbColumnStore::sqliteNeverAltersDjangoTables()
{
    auto store = openStore(m_sqlite->config());
    QVERIFY(store);
    const QString schema
        = QStringLiteral("SELECT group_concat(name || ' ' || type, ', ') FROM pragma_table_info(?)");
    const auto namesBefore = store->database().tableNames();
    QVERIFY(namesBefore);
    QList<QList<QByteArray>> before;
    for (const QString &table : store->database().tables().all())
        before << column(store->database(), schema, { table.toUtf8() });
    for (const qint64 pk : m_sqliteIds)
        QVERIFY(store->put(liveEntry(store->database(), pk)));
    QVERIFY(store->remove(m_sqliteIds[0]));
    QList<QList<QByteArray>> after;
    for (const QString &table : store->database().tables().all())
        after << column(store->database(), schema, { table.toUtf8() });
    QCOMPARE(after, before);
    const auto names = store->database().tableNames();
    QVERIFY(names);
    QStringList expected = *namesBefore;
    expected << DbColumnStore::metadataTable() << DbColumnStore::previousTable();
    expected.sort();
    QCOMPARE(*names, expected); // two tables more, ours
}

void TestDbColumnStore::foreignEntries_data()
{
    QTest::addColumn<QByteArray>("stored");
    QTest::addColumn<QByteArray>("canonical");
    // json.dumps defaults (Django's JSONField): ", " and ": ", ensure_ascii escapes.
    QTest::addRow("django json.dumps") << QByteArray("{\"name\": \"x\\u00e9\", \"bar_set\": []}")
                                       << QByteArray("{\"name\":\"x\xC3\xA9\",\"bar_set\":[]}");
    QTest::addRow("keys reordered") << QByteArray(
        "{\"bar_set\": [{\"zab_set\": [{\"bazs\": [{\"name\": \"b\"}], "
        "\"name\": \"z\"}], \"name\": \"r\"}], \"name\": \"f\"}")
                                    << QByteArray("{\"name\":\"f\",\"bar_set\":[{\"name\":\"r\",\"zab_set\":"
                                                  "[{\"name\":\"z\",\"bazs\":[{\"name\":\"b\"}]}]}]}");
    QTest::addRow("escapes DRF writes differently")
        << QByteArray("{\"name\": \"\\u2028 \\/ \\\"q\\\"\", \"bar_set\": []}")
        << QByteArray("{\"name\":\"\\u2028 / \\\"q\\\"\",\"bar_set\":[]}");
    QTest::addRow("null name") << QByteArray("{\"name\": null, \"bar_set\": []}")
                               << QByteArray("{\"name\":null,\"bar_set\":[]}");
}

void TestDbColumnStore::foreignEntries()
{
    QFETCH(QByteArray, stored);
    QFETCH(QByteArray, canonical);
    const qint64 pk = m_sqliteIds[1];
    QString sql = QString::fromUtf8(stored);
    sql.replace(QLatin1Char('\''), QStringLiteral("''"));
    m_sqlite->exec(QStringLiteral("UPDATE api_foo SET pre_serialized = '%1' WHERE id = %2").arg(sql).arg(pk));

    auto store = openStore(m_sqlite->config());
    QVERIFY(store);
    // Once with no side table at all, once with one that has rows for other Foos only.
    for (int round = 0; round < 2; ++round) {
        auto read = store->get(pk);
        QVERIFY2(read && *read, qPrintable(why(read)));
        QVERIFY((*read)->foreign);
        COMPARE_BODIES((*read)->body, canonical);
        QCOMPARE((*read)->digest, digestOf(canonical));
        QVERIFY(!(*read)->cachedAt.isValid());
        QCOMPARE((*read)->serializerVersion, 0);
        auto infos = store->list();
        QVERIFY2(infos && infos->size() == 1 + round, qPrintable(why(infos)));
        const EntryInfo *info = infoFor(*infos, pk);
        QVERIFY(info);
        QVERIFY(info->foreign);
        QVERIFY(info->digest.isEmpty());
        QCOMPARE(info->size, stored.size());
        QVERIFY(info->problem.isEmpty());
        QCOMPARE(hasSideTable(store->database()), round == 1);
        QVERIFY(store->put(liveEntry(store->database(), m_sqliteIds[0])));
    }
}

// A side row sealed by an older build (another check algorithm): list() cannot vouch for the bytes
// and says foreign, get() checks the digest and serves the entry as ours at its position, and
// positions() (what the keep-fresh worker's log pruning waits for) still reports that position.
void TestDbColumnStore::sealOfAnOlderBuildKeepsItsPosition()
{
    auto store = openStore(m_sqlite->config());
    QVERIFY(store);
    const qint64 pk = m_sqliteIds[2];
    EntryPtr ours = liveEntry(store->database(), pk);
    auto positioned = std::make_shared<Entry>(*ours);
    positioned->changePosition = 7;
    QVERIFY(store->put(positioned));
    m_sqlite->exec(QStringLiteral("UPDATE preserve_cache_entry SET body_check = 12345 WHERE foo_id = %1").arg(pk));
    auto infos = store->list();
    QVERIFY2(infos && infos->size() == 1, qPrintable(why(infos)));
    QVERIFY(infos->first().foreign);
    auto read = store->get(pk);
    QVERIFY2(read && *read, qPrintable(why(read)));
    QVERIFY(!(*read)->foreign);
    QCOMPARE((*read)->changePosition, qint64(7));
    auto positions = store->positions({ pk });
    QVERIFY2(positions, qPrintable(why(positions)));
    QCOMPARE(positions->value(pk), qint64(7));
}

void TestDbColumnStore::rewrittenByDjangoIsForeign()
{
    auto store = openStore(m_sqlite->config());
    QVERIFY(store);
    const qint64 pk = m_sqliteIds[3];
    const EntryPtr ours = liveEntry(store->database(), pk);
    QVERIFY(store->put(ours));
    // Django writes the column and knows nothing of the side table: its stale row must not vouch.
    for (const QByteArray &written : { QByteArray("{\"name\": \"other\", \"bar_set\": []}"),
             QByteArray(ours->body).replace("foo-", "FOO-") }) {
        QString literal = QString::fromUtf8(written);
        literal.replace(QLatin1Char('\''), QStringLiteral("''"));
        m_sqlite->exec(
            QStringLiteral("UPDATE api_foo SET pre_serialized = '%1' WHERE id = %2").arg(literal).arg(pk));
        auto read = store->get(pk);
        QVERIFY2(read && *read, qPrintable(why(read)));
        QVERIFY((*read)->foreign);
        QVERIFY((*read)->digest != ours->digest);
        QVERIFY(!(*read)->cachedAt.isValid());
        // list() tells too, without reading the bodies here: even the same-size rewrite.
        auto infos = store->list();
        QVERIFY2(infos && infos->size() == 1, qPrintable(why(infos)));
        QVERIFY(infos->first().foreign);
        QVERIFY(infos->first().digest.isEmpty());
    }
    QCOMPARE(QByteArray(ours->body).replace("foo-", "FOO-").size(), ours->body.size());
    // Our own write again: ours in list() and get().
    QVERIFY(store->put(ours));
    auto infos = store->list();
    QVERIFY2(infos && infos->size() == 1, qPrintable(why(infos)));
    QVERIFY(!infos->first().foreign);
    QCOMPARE(infos->first().digest, ours->digest);
}

// Ids far apart make list() scan in two halves on two connections: every entry once, in id
// order, each judged as in one scan (ours, foreign, not JSON) whichever half it is in.
void TestDbColumnStore::manyIdsAreListedInTwoHalves()
{
    const qint64 ids[] = { 5, 10000, 20001, 30002, 50000 };
    for (qint64 id : ids)
        m_sqlite->addFoo("far-" + QByteArray::number(id), id);
    auto store = openStore(m_sqlite->config());
    QVERIFY(store);
    for (qint64 id : ids)
        QVERIFY(store->put(liveEntry(store->database(), id)));
    m_sqlite->exec(QStringLiteral("UPDATE api_foo SET pre_serialized = '{\"name\": \"x\", \"bar_set\": []}' WHERE id = 30002"));
    m_sqlite->exec(QStringLiteral("UPDATE api_foo SET pre_serialized = '[1, 2]' WHERE id = 10000"));
    auto infos = store->list();
    QVERIFY2(infos, qPrintable(why(infos)));
    QList<qint64> listed;
    for (const EntryInfo &info : std::as_const(*infos))
        listed << info.pk;
    QCOMPARE(listed, QList<qint64>(std::begin(ids), std::end(ids)));
    for (const EntryInfo &info : std::as_const(*infos)) {
        QCOMPARE(info.foreign, info.pk == 30002 || info.pk == 10000);
        QCOMPARE(info.problem.isEmpty(), info.pk != 10000);
    }
    // pks(), for verify and invalidate of every entry, reads no body and gives the same pks: the
    // foreign and the broken ones too, and no Foo whose column is NULL.
    auto pks = store->pks();
    QVERIFY2(pks, qPrintable(why(pks)));
    QCOMPARE(*pks, listed);
    m_sqlite->exec(QStringLiteral("UPDATE api_foo SET pre_serialized = NULL WHERE id = 20001"));
    listed.removeOne(20001);
    pks = store->pks();
    QVERIFY2(pks, qPrintable(why(pks)));
    QCOMPARE(*pks, listed);
}

void TestDbColumnStore::corruptColumn_data()
{
    QTest::addColumn<QByteArray>("stored");
    QTest::addColumn<QString>("reason");
    QTest::addColumn<bool>("listSees"); // list() checks JSON validity and the top (an object with bar_set), not deeper
    QTest::addRow("not json") << QByteArray("not json") << QStringLiteral("not valid JSON") << true;
    QTest::addRow("truncated") << QByteArray("{\"name\": \"x\", \"bar_set\": [")
                               << QStringLiteral("not valid JSON") << true;
    QTest::addRow("name is a number")
        << QByteArray("{\"name\": 1}") << QStringLiteral("not a Foo body") << true;
    QTest::addRow("array") << QByteArray("[]") << QStringLiteral("not a Foo body") << true;
    QTest::addRow("null") << QByteArray("null") << QStringLiteral("not a Foo body") << true;
    QTest::addRow("a string") << QByteArray("\"a string\"") << QStringLiteral("not a Foo body") << true;
    QTest::addRow("bar without zab_set") << QByteArray("{\"name\": \"x\", \"bar_set\": [{\"name\": \"b\"}]}")
                                         << QStringLiteral("not a Foo body") << false;
}

void TestDbColumnStore::corruptColumn()
{
    QFETCH(QByteArray, stored);
    QFETCH(QString, reason);
    QFETCH(bool, listSees);
    const qint64 pk = m_sqliteIds[0];
    auto store = openStore(m_sqlite->config());
    QVERIFY(store);
    const EntryPtr good = liveEntry(store->database(), m_sqliteIds[1]);
    QVERIFY(store->put(good));
    // Django's CHECK (JSON_VALID) keeps this out; SQLite lets a connection turn CHECKs off.
    m_sqlite->exec(QStringLiteral("PRAGMA ignore_check_constraints = 1; "
                                  "UPDATE api_foo SET pre_serialized = '%1' WHERE id = %2")
                       .arg(QString::fromUtf8(stored))
                       .arg(pk));

    const auto read = store->get(pk);
    QVERIFY(!read);
    QCOMPARE(read.error().kind, Error::Kind::Corrupt);
    QVERIFY2(read.error().message.contains(reason), qPrintable(read.error().message));
    QVERIFY2(read.error().message.contains(QString::number(pk)), qPrintable(read.error().message));

    auto infos = store->list();
    QVERIFY2(infos && infos->size() == 2, qPrintable(why(infos)));
    const EntryInfo *info = infoFor(*infos, pk);
    QVERIFY(info);
    QCOMPARE(info->problem.isEmpty(), !listSees);
    QCOMPARE(info->size, stored.size());
    QVERIFY(infoFor(*infos, good->pk)->problem.isEmpty());

    // getMany leaves the corrupt one out and still returns the good one.
    auto many = store->getMany({ pk, good->pk });
    QVERIFY2(many, qPrintable(why(many)));
    QCOMPARE(many->keys(), QList<qint64> { good->pk });
    // A put repairs it.
    QVERIFY(store->put(liveEntry(store->database(), pk)));
    QVERIFY(store->get(pk));
}

void TestDbColumnStore::readOnlyNeverWrites()
{
    const qint64 pk = m_sqliteIds[0];
    {
        // No side table yet: reading through a read-only connection works and creates nothing.
        auto reader = openStore(m_sqlite->config(true));
        QVERIFY(reader);
        QVERIFY(reader->list());
        const auto refused = reader->put(liveEntry(reader->database(), pk));
        QVERIFY(!refused);
        QCOMPARE(refused.error().kind, Error::Kind::Invalid);
        QVERIFY2(refused.error().message.endsWith(QLatin1String("is opened read-only")),
            qPrintable(refused.error().message));
        QVERIFY(!hasSideTable(reader->database()));
    }
    auto writer = openStore(m_sqlite->config());
    QVERIFY(writer);
    const EntryPtr entry = liveEntry(writer->database(), pk);
    QVERIFY(writer->put(entry));
    auto reader = openStore(m_sqlite->config(true));
    QVERIFY(reader);
    for (const Status &refused :
        { reader->remove(pk), reader->put(makeEntry(pk, "{\"name\":\"x\",\"bar_set\":[]}", {})) }) {
        QVERIFY(!refused);
        QCOMPARE(refused.error().kind, Error::Kind::Invalid);
        QVERIFY2(refused.error().message.contains(QLatin1String("read-only")),
            qPrintable(refused.error().message));
        QVERIFY2(refused.error().message.contains(m_sqlite->config().displayName()),
            qPrintable(refused.error().message));
    }
    for (DbColumnStore *store : { reader.get(), writer.get() }) {
        auto read = store->get(pk);
        QVERIFY(read && *read);
        COMPARE_BODIES((*read)->body, entry->body);
        compareMetadata(**read, sampleMetadata());
    }
}

void TestDbColumnStore::failedPutLeavesEverythingIntact()
{
    auto store = openStore(m_sqlite->config());
    QVERIFY(store);
    // A first put that fails leaves not even the side table behind.
    const auto noFoo = store->put(makeEntry(999999, "{\"name\":\"x\",\"bar_set\":[]}", sampleMetadata()));
    QVERIFY(!noFoo);
    QCOMPARE(noFoo.error().kind, Error::Kind::NotFound);
    QVERIFY2(noFoo.error().message.contains(QLatin1String("999999")), qPrintable(noFoo.error().message));
    QVERIFY(!hasSideTable(store->database()));

    const qint64 pk = m_sqliteIds[1];
    const EntryPtr entry = liveEntry(store->database(), pk);
    QVERIFY(store->put(entry));
    const QString sideRows
        = QStringLiteral("SELECT foo_id || ' ' || digest || ' ' || cached_at FROM preserve_cache_entry");
    const QList<QByteArray> sideBefore = column(store->database(), sideRows);
    const auto again = store->put(makeEntry(999999, "{\"name\":\"x\",\"bar_set\":[]}", sampleMetadata()));
    QVERIFY(!again);
    QCOMPARE(again.error().kind, Error::Kind::NotFound);
    // A body Django's CHECK refuses: the column update fails, nothing of the put stays.
    const auto invalid = store->put(makeEntry(pk, "{not json", sampleMetadata(99)));
    QVERIFY(!invalid);
    QCOMPARE(invalid.error().kind, Error::Kind::Database);
    QVERIFY2(invalid.error().message.contains(QString::number(pk)), qPrintable(invalid.error().message));

    QCOMPARE(column(store->database(), sideRows), sideBefore);
    auto read = store->get(pk);
    QVERIFY(read && *read);
    COMPARE_BODIES((*read)->body, entry->body);
    compareMetadata(**read, sampleMetadata());
    // The store is still usable after the rollbacks.
    QVERIFY(store->put(liveEntry(store->database(), m_sqliteIds[2])));
}

// A batch larger than SQLite's page cache (2 MB by default) stays in memory until its COMMIT:
// writing it out early would take the EXCLUSIVE lock and stop every reader for the rest of the
// transaction. SQLITE_DBSTATUS_CACHE_SPILL counts the pages written out early.
void TestDbColumnStore::batchPagesWaitForTheCommit()
{
    auto store = openStore(m_sqlite->config());
    QVERIFY(store);
    QList<EntryPtr> entries;
    for (int i = 0; i < 24; ++i) {
        const qint64 pk = m_sqlite->addFoo("big-" + QByteArray::number(i));
        QByteArray name;
        for (int k = 0; name.size() < 200 * 1024; ++k) // 200 KB that gzip cannot fold away
            name += QByteArray::number(quint64(k) * 0x9E3779B97F4A7C15ull % 1000003) + ' ';
        entries << makeEntry(pk, "{\"name\":\"" + name + "\",\"bar_set\":[]}", sampleMetadata());
    }
    const QList<Status> written = store->putMany(entries);
    QCOMPARE(written.size(), entries.size());
    for (const Status &status : written)
        QVERIFY2(status, qPrintable(status.ok() ? QString() : status.error().message));
    int spilled = -1;
    int highest = -1;
    QCOMPARE(sqlite3_db_status(store->database().sqliteHandle(), SQLITE_DBSTATUS_CACHE_SPILL, &spilled, &highest, 0),
             SQLITE_OK);
    QCOMPARE(spilled, 0);
    auto read = store->get(entries.last()->pk);
    QVERIFY(read && *read);
    COMPARE_BODIES((*read)->body, entries.last()->body);
}

void TestDbColumnStore::removeEntry()
{
    auto store = openStore(m_sqlite->config());
    QVERIFY(store);
    // Removing from a database without a side table creates none.
    QVERIFY(store->remove(m_sqliteIds[0]));
    QVERIFY(!hasSideTable(store->database()));
    for (const qint64 pk : m_sqliteIds)
        QVERIFY(store->put(liveEntry(store->database(), pk)));
    QVERIFY(store->remove(m_sqliteIds[1]));
    auto read = store->get(m_sqliteIds[1]);
    QVERIFY(read && !*read);
    QCOMPARE(column(store->database(),
                 QStringLiteral("SELECT count(*) FROM api_foo WHERE pre_serialized IS NULL")),
        QList<QByteArray> { "1" });
    QCOMPARE(column(store->database(),
                 QStringLiteral("SELECT count(*) FROM preserve_cache_entry WHERE foo_id = ?"),
                 { QByteArray::number(m_sqliteIds[1]) }),
        QList<QByteArray> { "0" });
    auto infos = store->list();
    QVERIFY(infos);
    QList<qint64> listed;
    for (const EntryInfo &info : *infos)
        listed << info.pk;
    QCOMPARE(listed, (QList<qint64> { m_sqliteIds[0], m_sqliteIds[2], m_sqliteIds[3] }));
    QVERIFY(store->remove(m_sqliteIds[1])); // twice is fine
    QVERIFY(store->get(m_sqliteIds[0]).value()); // the others stay
}

void TestDbColumnStore::getManyLeavesOutMissingAndCorrupt()
{
    auto store = openStore(m_sqlite->config());
    QVERIFY(store);
    QList<EntryPtr> ours;
    for (const qint64 pk : { m_sqliteIds[0], m_sqliteIds[1] }) {
        ours << liveEntry(store->database(), pk);
        QVERIFY(store->put(ours.last()));
    }
    m_sqlite->exec(QStringLiteral("UPDATE api_foo SET pre_serialized = '{\"bar_set\": [], \"name\": \"f\"}' "
                                  "WHERE id = %1")
                       .arg(m_sqliteIds[2]));
    auto none = store->getMany({});
    QVERIFY(none && none->isEmpty());
    // m_sqliteIds[3] has no entry; 999999 is no Foo.
    auto many = store->getMany({ m_sqliteIds[0], m_sqliteIds[1], m_sqliteIds[2], m_sqliteIds[3], 999999 });
    QVERIFY2(many, qPrintable(why(many)));
    QCOMPARE(many->size(), 3);
    for (const EntryPtr &entry : ours) {
        QVERIFY(many->value(entry->pk));
        COMPARE_BODIES(many->value(entry->pk)->body, entry->body);
        QVERIFY(!many->value(entry->pk)->foreign);
    }
    QVERIFY(many->value(m_sqliteIds[2])->foreign);
    COMPARE_BODIES(many->value(m_sqliteIds[2])->body, QByteArray("{\"name\":\"f\",\"bar_set\":[]}"));
}

void TestDbColumnStore::twoStoresSeeEachOther()
{
    auto first = openStore(m_sqlite->config());
    auto second = openStore(m_sqlite->config());
    QVERIFY(first && second);
    const EntryPtr entry = liveEntry(first->database(), m_sqliteIds[2]);
    QVERIFY(first->put(entry));
    auto read = second->get(entry->pk);
    QVERIFY(read && *read);
    COMPARE_BODIES((*read)->body, entry->body);
    QVERIFY(!(*read)->foreign);
    QVERIFY(second->remove(entry->pk));
    read = first->get(entry->pk);
    QVERIFY(read && !*read);
}

// Invariant: no older body over a newer one. A put whose change position is below the stored
// entry's (a refresh from an older snapshot finishing last) keeps the newer entry, body and side
// row; equal or later positions replace it, and an untracked one (-1) always does.
// positions() tells each entry's position without reading bodies, leaving out Foos with none.
void TestDbColumnStore::olderNeverOverNewer()
{
    auto first = openStore(m_sqlite->config());
    auto second = openStore(m_sqlite->config());
    QVERIFY(first && second);
    const qint64 pk = m_sqliteIds[2];
    const EntryPtr newer = makeEntry(pk, "{\"name\":\"newer\",\"bar_set\":[]}", sampleMetadata(50));
    const EntryPtr older = makeEntry(pk, "{\"name\":\"older\",\"bar_set\":[]}", sampleMetadata(49));
    QVERIFY(first->put(newer));
    const Status kept = second->put(older);
    QVERIFY2(kept, qPrintable(why(kept)));
    auto read = first->get(pk);
    QVERIFY(read && *read);
    COMPARE_BODIES((*read)->body, newer->body);
    QCOMPARE((*read)->changePosition, 50);
    // putMany, one transaction: the older one is left out, the others are written.
    const qint64 other = m_sqliteIds[3];
    const EntryPtr otherEntry = makeEntry(other, "{\"name\":\"other\",\"bar_set\":[]}", sampleMetadata(49));
    const QList<Status> many = second->putMany({ older, otherEntry });
    QVERIFY(many.size() == 2 && many[0] && many[1]);
    read = first->get(pk);
    QVERIFY(read && *read);
    COMPARE_BODIES((*read)->body, newer->body);
    auto positions = first->positions({ pk, other, m_sqliteIds[4] });
    QVERIFY2(positions, qPrintable(why(positions)));
    QCOMPARE(*positions, (QHash<qint64, qint64> { { pk, 50 }, { other, 49 } }));

    const EntryPtr same = makeEntry(pk, "{\"name\":\"same\",\"bar_set\":[]}", sampleMetadata(50));
    QVERIFY(second->put(same));
    COMPARE_BODIES(first->get(pk).value()->body, same->body);
    const EntryPtr untracked = makeEntry(pk, "{\"name\":\"untracked\",\"bar_set\":[]}", sampleMetadata(-1));
    QVERIFY(second->put(untracked));
    COMPARE_BODIES(first->get(pk).value()->body, untracked->body);
}

void TestDbColumnStore::previousEntryAndRollback()
{
    auto sqlite = openStore(m_sqlite->config());
    QVERIFY(sqlite);
    const QString sqliteProblem = checkPreviousEntries(*sqlite, m_sqliteIds.last());
    QVERIFY2(sqliteProblem.isEmpty(), qPrintable(sqliteProblem));
    auto postgres = openStore(*DatabaseConfig::parse(m_pgUrl));
    QVERIFY(postgres);
    const QList<qint64> ids = pgFooIds();
    QVERIFY(ids.size() > 5);
    const QString postgresProblem = checkPreviousEntries(*postgres, ids[5]);
    QVERIFY2(postgresProblem.isEmpty(), qPrintable(postgresProblem));
    auto infos = postgres->list(); // the rolled-back entry is ours: the column check was recorded
    QVERIFY2(infos, qPrintable(why(infos)));
    for (const EntryInfo &info : *infos) {
        if (info.pk == ids[5])
            QVERIFY(!info.foreign);
    }
    QVERIFY(postgres->remove(ids[5]));
    QVERIFY(sqlite->remove(m_sqliteIds.last()));

    const qint64 first = m_sqliteIds[m_sqliteIds.size() - 2];
    const qint64 second = m_sqliteIds[m_sqliteIds.size() - 3];
    const QString sqliteBatches = checkPreviousEntriesInBatches(*sqlite, first, second);
    QVERIFY2(sqliteBatches.isEmpty(), qPrintable(sqliteBatches));
    const QString postgresBatches = checkPreviousEntriesInBatches(*postgres, ids[3], ids[4]);
    QVERIFY2(postgresBatches.isEmpty(), qPrintable(postgresBatches));
    for (qint64 pk : { first, second })
        QVERIFY(sqlite->remove(pk));
    for (qint64 pk : { ids[3], ids[4] })
        QVERIFY(postgres->remove(pk));
}

void TestDbColumnStore::sqliteWatcherSeesOtherConnections()
{
    auto store = openStore(m_sqlite->config());
    QVERIFY(store);
    QVERIFY(store->put(liveEntry(store->database(), m_sqliteIds[0]))); // side table exists before
    auto watcher = createDbColumnWatcher(m_sqlite->config());
    QSignalSpy changed(watcher.get(), &StoreWatcher::entriesChanged);
    QSignalSpy everything(watcher.get(), &StoreWatcher::everythingChanged);
    QSignalSpy unavailable(watcher.get(), &StoreWatcher::unavailable);
    QSignalSpy ready(watcher.get(), &StoreWatcher::ready);
    const auto started = watcher->start();
    QVERIFY2(started, qPrintable(why(started)));
    QVERIFY(ready.wait(5000)); // the first look: from now on each change comes by itself

    const auto expectChange = [&](qint64 pk) {
        QElapsedTimer timer;
        timer.start();
        QVERIFY(changed.wait(2000));
        qInfo("SQLite watcher saw the change of Foo %lld after %lld ms", pk, timer.elapsed());
        QCOMPARE(changed.takeFirst().at(0).value<QList<qint64>>(), QList<qint64> { pk });
    };
    // Through another store (column and side table) ...
    auto other = openStore(m_sqlite->config());
    QVERIFY(other);
    QVERIFY(other->put(liveEntry(other->database(), m_sqliteIds[1])));
    expectChange(m_sqliteIds[1]);
    // ... by Django (the column alone, same size: only the fingerprint tells) ...
    m_sqlite->exec(
        QStringLiteral("UPDATE api_foo SET pre_serialized = replace(pre_serialized, 'foo-', 'FOO-') "
                       "WHERE id = %1")
            .arg(m_sqliteIds[0]));
    expectChange(m_sqliteIds[0]);
    // ... a removal, and a write elsewhere that touches no entry says nothing.
    QVERIFY(other->remove(m_sqliteIds[1]));
    expectChange(m_sqliteIds[1]);
    m_sqlite->exec(QStringLiteral("UPDATE api_baz SET name = 'renamed'"));
    QVERIFY(other->put(liveEntry(other->database(), m_sqliteIds[3])));
    expectChange(m_sqliteIds[3]);
    QCOMPARE(everything.size(), 0);
    QCOMPARE(unavailable.size(), 0);

    QElapsedTimer timer;
    timer.start();
    watcher->stop();
    QVERIFY2(timer.elapsed() < 500, qPrintable(QString::number(timer.elapsed())));
    watcher->stop();
}

void TestDbColumnStore::sqliteWatcherRetriesUntilTheFileExists()
{
    const QString path = m_dir.filePath(QStringLiteral("later.sqlite3"));
    QFile::remove(path);
    auto config = DatabaseConfig::parse(path);
    QVERIFY(config);
    auto watcher = createDbColumnWatcher(*config);
    QSignalSpy unavailable(watcher.get(), &StoreWatcher::unavailable);
    QSignalSpy available(watcher.get(), &StoreWatcher::available);
    QSignalSpy everything(watcher.get(), &StoreWatcher::everythingChanged);
    const auto started = watcher->start();
    QVERIFY(!started);
    QCOMPARE(started.error().kind, Error::Kind::NotFound);
    QTRY_COMPARE(unavailable.size(), 1);
    QVERIFY(unavailable.first().at(0).toString().contains(QLatin1String("later.sqlite3")));

    QVERIFY(QFile::copy(m_sqlite->path(), path));
    QVERIFY(available.wait(3000));
    QTRY_COMPARE(everything.size(), 1);
    QElapsedTimer timer;
    timer.start();
    watcher.reset(); // the destructor stops
    QVERIFY2(timer.elapsed() < 500, qPrintable(QString::number(timer.elapsed())));
}

void TestDbColumnStore::largestMediumEntry()
{
    const QString path = m_dir.filePath(QStringLiteral("medium.sqlite3"));
    QElapsedTimer timer;
    timer.start();
    const auto seeded
        = Seeder::write(path, *Seeder::scale(QStringLiteral("medium")), QStringLiteral("api"), true);
    QVERIFY2(seeded, qPrintable(why(seeded)));
    const qint64 seedMs = timer.elapsed();
    auto config = DatabaseConfig::parse(path);
    QVERIFY(config);
    auto store = openStore(*config);
    QVERIFY(store);
    const QList<QByteArray> largest = column(store->database(),
        QStringLiteral("SELECT foo_id FROM api_bar GROUP BY foo_id ORDER BY count(*) DESC LIMIT 1"));
    QCOMPARE(largest.size(), 1);
    const EntryPtr entry = liveEntry(store->database(), largest[0].toLongLong());
    QVERIFY(store->put(entry));

    QList<qint64> micros;
    for (int i = 0; i < 20; ++i) {
        timer.restart();
        auto read = store->get(entry->pk);
        micros << timer.nsecsElapsed() / 1000;
        QVERIFY(read && *read && (*read)->body.size() == entry->body.size());
    }
    std::sort(micros.begin(), micros.end());
    // What the parts cost, for the record (the store avoids the first on its fast path).
    timer.restart();
    const QByteArray digest = digestOf(entry->body);
    const qint64 digestUs = timer.nsecsElapsed() / 1000;
    timer.restart();
    const QByteArray gzip = gzipCompress(entry->body);
    const qint64 gzipUs = timer.nsecsElapsed() / 1000;
    qInfo("for comparison: digestOf (SHA-256) %lld us, gzipCompress level 1 %lld us (%lld bytes)", digestUs,
        gzipUs, qint64(gzip.size()));
    qInfo(
        "medium (seeded in %lld ms): get() of Foo %lld, %lld bytes: median %lld us, min %lld us, max %lld us",
        seedMs, entry->pk, qint64(entry->body.size()), micros[10], micros.first(), micros.last());
}

QList<qint64> TestDbColumnStore::pgFooIds()
{
    auto config = DatabaseConfig::parse(m_pgUrl);
    auto database = Database::open(*config);
    if (!database)
        return {};
    auto ids = (*database)->fooIds();
    return ids ? *ids : QList<qint64>();
}

void TestDbColumnStore::postgresRoundTripDespiteJsonb()
{
    auto config = DatabaseConfig::parse(m_pgUrl);
    QVERIFY(config);
    auto store = openStore(*config);
    QVERIFY(store);
    QVERIFY(!hasSideTable(store->database()));
    const QList<qint64> ids = pgFooIds();
    QVERIFY(ids.size() >= 3);
    // The largest of the first Foos, so the body has Zabs (whose keys jsonb reorders: "bazs" < "name").
    EntryPtr entry;
    for (const qint64 pk : ids.mid(0, 5)) {
        EntryPtr candidate = liveEntry(store->database(), pk);
        if (!entry || candidate->body.size() > entry->body.size())
            entry = candidate;
    }
    QVERIFY2(entry->body.contains("\"bazs\""), entry->body.constData());
    auto missing = store->get(entry->pk);
    QVERIFY2(missing && !*missing, qPrintable(why(missing)));
    const auto put = store->put(entry);
    QVERIFY2(put, qPrintable(why(put)));
    QVERIFY(hasSideTable(store->database()));

    const QList<QByteArray> raw = column(store->database(),
        QStringLiteral("SELECT CAST(pre_serialized AS text) FROM api_foo WHERE id = ?"),
        { QByteArray::number(entry->pk) });
    QCOMPARE(raw.size(), 1);
    QVERIFY2(raw[0] != entry->body, raw[0].constData());
    auto read = store->get(entry->pk);
    QVERIFY2(read && *read, qPrintable(why(read)));
    COMPARE_BODIES((*read)->body, entry->body);
    QCOMPARE((*read)->digest, entry->digest);
    compareMetadata(**read, sampleMetadata());

    auto infos = store->list();
    QVERIFY2(infos && infos->size() == 1, qPrintable(why(infos)));
    QCOMPARE(infos->first().pk, entry->pk);
    QCOMPARE(infos->first().size, raw[0].size());
    QVERIFY(!infos->first().foreign);
    QCOMPARE(infos->first().digest, entry->digest);

    QVERIFY(store->remove(entry->pk));
    read = store->get(entry->pk);
    QVERIFY(read && !*read);
    QCOMPARE(column(store->database(), QStringLiteral("SELECT count(*) FROM preserve_cache_entry")),
        QList<QByteArray> { "0" });
}

void TestDbColumnStore::postgresForeignAndGetMany()
{
    auto config = DatabaseConfig::parse(m_pgUrl);
    auto store = openStore(*config);
    QVERIFY(store);
    const QList<qint64> ids = pgFooIds();
    QVERIFY(ids.size() >= 3);
    // As Django's JSONField writes it: json.dumps, then jsonb.
    auto write = store->database().prepare(
        QStringLiteral("UPDATE api_foo SET pre_serialized = CAST(? AS jsonb) WHERE id = ?"));
    QVERIFY(write);
    (*write)->bind(0, QByteArray("{\"name\": \"x\\u00e9\", \"bar_set\": []}"));
    (*write)->bind(1, ids[1]);
    QVERIFY((*write)->exec());
    const EntryPtr ours = liveEntry(store->database(), ids[0]);
    QVERIFY(store->put(ours));

    auto read = store->get(ids[1]);
    QVERIFY2(read && *read, qPrintable(why(read)));
    QVERIFY((*read)->foreign);
    COMPARE_BODIES((*read)->body, QByteArray("{\"name\":\"x\xC3\xA9\",\"bar_set\":[]}"));
    // jsonb's own text (its key order, its spacing) as the column gives it back.
    const auto stored = store->storedBytes(ids[1]);
    QVERIFY2(stored && *stored, qPrintable(why(stored)));
    QCOMPARE(**stored, QByteArray("{\"name\": \"x\xC3\xA9\", \"bar_set\": []}"));
    QVERIFY(!store->keepsBytes());
    auto many = store->getMany({ ids[0], ids[1], ids[2], 999999 });
    QVERIFY2(many, qPrintable(why(many)));
    QCOMPARE(many->size(), 2);
    COMPARE_BODIES(many->value(ids[0])->body, ours->body);
    QVERIFY(!many->value(ids[0])->foreign);
    QVERIFY(many->value(ids[1])->foreign);
    auto infos = store->list();
    QVERIFY2(infos && infos->size() == 2, qPrintable(why(infos)));
    QVERIFY(!infoFor(*infos, ids[0])->foreign);
    QVERIFY(infoFor(*infos, ids[1])->foreign);
    QVERIFY(infos->first().pk < infos->last().pk);
    // Our body rewritten to the same JSON length behind our back (jsonb keeps no bytes of ours):
    // list() sees it by the check of the column's text that the write recorded.
    auto rewrite = store->database().prepare(QStringLiteral(
        "UPDATE api_foo SET pre_serialized = jsonb_set(pre_serialized, '{name}', to_jsonb(overlay("
        "pre_serialized ->> 'name' PLACING CASE WHEN left(pre_serialized ->> 'name', 1) = 'Z' THEN 'Y' ELSE 'Z' END "
        "FROM 1 FOR 1))) WHERE id = ? RETURNING id"));
    QVERIFY(rewrite);
    (*rewrite)->bind(0, ids[0]);
    QVERIFY((*rewrite)->exec());
    QVERIFY((*rewrite)->next());
    infos = store->list();
    QVERIFY2(infos && infos->size() == 2, qPrintable(why(infos)));
    QVERIFY(infoFor(*infos, ids[0])->foreign);
    read = store->get(ids[0]);
    QVERIFY2(read && *read, qPrintable(why(read)));
    QVERIFY((*read)->foreign);
    QVERIFY(store->put(ours));
    infos = store->list();
    QVERIFY2(infos, qPrintable(why(infos)));
    QVERIFY(!infoFor(*infos, ids[0])->foreign);
    QVERIFY(store->remove(ids[0]));
    QVERIFY(store->remove(ids[1]));
}

void TestDbColumnStore::postgresFailuresLeaveEntriesIntact()
{
    auto config = DatabaseConfig::parse(m_pgUrl);
    auto store = openStore(*config);
    QVERIFY(store);
    const QList<qint64> ids = pgFooIds();
    const EntryPtr entry = liveEntry(store->database(), ids[2]);
    QVERIFY(store->put(entry));
    const auto noFoo = store->put(makeEntry(999999, "{\"name\":\"x\",\"bar_set\":[]}", sampleMetadata()));
    QVERIFY(!noFoo);
    QCOMPARE(noFoo.error().kind, Error::Kind::NotFound);
    const auto notJson = store->put(makeEntry(ids[2], "{not json", sampleMetadata(43))); // newer: it is tried
    QVERIFY(!notJson);
    QCOMPARE(notJson.error().kind, Error::Kind::Database);

    auto readOnly = DatabaseConfig::parse(m_pgUrl, QStringLiteral("api"), true);
    auto reader = openStore(*readOnly);
    QVERIFY(reader);
    const auto refused = reader->remove(ids[2]);
    QVERIFY(!refused);
    QVERIFY2(
        refused.error().message.contains(QLatin1String("read-only")), qPrintable(refused.error().message));

    // Another connection sees the entry exactly as it was.
    auto other = openStore(*config);
    QVERIFY(other);
    for (DbColumnStore *s : { store.get(), other.get(), reader.get() }) {
        auto read = s->get(ids[2]);
        QVERIFY2(read && *read, qPrintable(why(read)));
        COMPARE_BODIES((*read)->body, entry->body);
        compareMetadata(**read, sampleMetadata());
    }
    QCOMPARE(column(store->database(), QStringLiteral("SELECT count(*) FROM preserve_cache_entry")),
        QList<QByteArray> { "1" });
    QVERIFY(store->remove(ids[2]));
}

void TestDbColumnStore::postgresWatcher()
{
    auto config = DatabaseConfig::parse(m_pgUrl);
    auto watcher = createDbColumnWatcher(*config);
    QSignalSpy changed(watcher.get(), &StoreWatcher::entriesChanged);
    QSignalSpy everything(watcher.get(), &StoreWatcher::everythingChanged);
    QSignalSpy unavailable(watcher.get(), &StoreWatcher::unavailable);
    QSignalSpy available(watcher.get(), &StoreWatcher::available);
    QSignalSpy ready(watcher.get(), &StoreWatcher::ready);
    const auto started = watcher->start();
    QVERIFY2(started, qPrintable(why(started)));
    QVERIFY(ready.wait(5000)); // listening: NOTIFY names each change, no first look needed

    auto store = openStore(*config);
    QVERIFY(store);
    const QList<qint64> ids = pgFooIds();
    QElapsedTimer timer;
    timer.start();
    QVERIFY(store->put(liveEntry(store->database(), ids[0])));
    QVERIFY(changed.wait(2000));
    qInfo("PostgreSQL watcher saw the put after %lld ms", timer.elapsed());
    QCOMPARE(changed.takeFirst().at(0).value<QList<qint64>>(), QList<qint64> { ids[0] });
    QVERIFY(store->remove(ids[0]));
    QVERIFY(changed.wait(2000));
    QCOMPARE(changed.takeFirst().at(0).value<QList<qint64>>(), QList<qint64> { ids[0] });

    // ChangeTracking's channel: a Foo id, or something else (then everything may have changed).
    QString error;
    QVERIFY2(
        m_server.exec(QStringLiteral("cache"), QStringLiteral("NOTIFY preserve_changes_api, '17'"), &error),
        qPrintable(error));
    QVERIFY(changed.wait(2000));
    QCOMPARE(changed.takeFirst().at(0).value<QList<qint64>>(), QList<qint64> { 17 });
    QVERIFY2(
        m_server.exec(QStringLiteral("cache"), QStringLiteral("NOTIFY preserve_changes_api, 'all'"), &error),
        qPrintable(error));
    QVERIFY(everything.wait(2000));
    QCOMPARE(unavailable.size(), 0);

    // The server drops the watcher's connection: unavailable, then back, and everything may have changed.
    everything.clear();
    QVERIFY2(m_server.exec(QStringLiteral("cache"),
                 QStringLiteral("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE application_name = 'preserve' AND pid <> pg_backend_pid()"),
                 &error),
        qPrintable(error));
    QVERIFY(unavailable.wait(3000));
    QVERIFY(available.wait(3000));
    QTRY_COMPARE(everything.size(), 1);
    // And it listens again.
    store = openStore(*config);
    QVERIFY(store);
    QVERIFY(store->put(liveEntry(store->database(), ids[1])));
    QTRY_VERIFY_WITH_TIMEOUT(
        !changed.isEmpty() && changed.last().at(0).value<QList<qint64>>().contains(ids[1]), 2000);
    QVERIFY(store->remove(ids[1]));

    timer.restart();
    watcher->stop();
    QVERIFY2(timer.elapsed() < 500, qPrintable(QString::number(timer.elapsed())));
}

QTEST_GUILESS_MAIN(TestDbColumnStore)
#include "tst_dbcolumnstore.moc"
