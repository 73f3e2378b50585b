// Baz names kept from one snapshot to the next (Serializer::SharedBazs::Scope::WhileUnchanged, as
// the workers serialize): only while every commit in between was the cache store's own, and never
// once anything else wrote - another connection, a trigger, a WAL file that does not count.

#include "cache/dbcolumn/dbcolumnstore.h"
#include "cache/entry.h"
#include "db/database.h"
#include "serialize/serializer.h"
#include "testsupport.h"

#include <QTest>

class TestKeptBazs : public QObject {
    Q_OBJECT

private:
    std::unique_ptr<TestSqlite> m_sqlite;
    std::unique_ptr<Database> m_reader;
    std::unique_ptr<Serializer> m_serializer;
    std::unique_ptr<DbColumnStore> m_store;
    qint64 m_first = 0;  // reaches Bazs one and two
    qint64 m_second = 0; // reaches Bazs one, two and three
    qint64 m_one = 0;

    // One worker snapshot: the body of `pk`, as serializeMany builds it.
    QByteArray serialize(qint64 pk)
    {
        ReadSnapshot snapshot(*m_reader);
        const Serializer::SharedBazs shared(*m_serializer, Serializer::SharedBazs::Scope::WhileUnchanged);
        auto bodies = m_serializer->foos({ pk });
        if (bodies.size() != 1 || !bodies.front())
            qFatal("serializing Foo %lld failed", pk);
        return *bodies.front();
    }

    // What a fresh serializer on a fresh connection writes.
    QByteArray fresh(qint64 pk)
    {
        auto database = openOrFail(*m_sqlite);
        Serializer serializer(*database);
        return *serializer.foo(pk);
    }

    void put(qint64 pk, const QByteArray &body, qint64 changePosition = -1)
    {
        EntryMetadata metadata;
        metadata.cachedAt = QDateTime(QDate(2026, 1, 2), QTime(3, 4, 5), Qt::UTC); // the same row, written again, is the same bytes
        metadata.serializerVersion = Serializer::version;
        metadata.changePosition = changePosition;
        const Status written = m_store->put(makeEntry(pk, body, metadata));
        QVERIFY2(written.ok(), qPrintable(written.ok() ? QString() : written.error().message));
    }

    void rename(qint64 baz, const QByteArray &name)
    {
        m_sqlite->exec(QStringLiteral("UPDATE api_baz SET name = '%1' WHERE id = %2").arg(QString::fromUtf8(name)).arg(baz));
    }

private slots:
    void init()
    {
        m_sqlite = std::make_unique<TestSqlite>();
        m_one = m_sqlite->addBaz("one");
        const qint64 two = m_sqlite->addBaz("two");
        const qint64 three = m_sqlite->addBaz("three");
        m_first = m_sqlite->addFoo("first");
        m_second = m_sqlite->addFoo("second");
        const qint64 zab = m_sqlite->addZab(m_sqlite->addBar(m_first, "bar"), "zab");
        m_sqlite->link(zab, m_one);
        m_sqlite->link(zab, two);
        const qint64 other = m_sqlite->addZab(m_sqlite->addBar(m_second, "bar"), "zab");
        for (qint64 baz : { m_one, two, three })
            m_sqlite->link(other, baz);
        m_reader = openOrFail(*m_sqlite);
        m_serializer = std::make_unique<Serializer>(*m_reader);
        auto store = DbColumnStore::open(m_sqlite->config());
        QVERIFY(store);
        m_store = std::move(store.value());
        // The side tables exist before the first measured write: creating them is no row change.
        put(m_first, fresh(m_first));
    }

    void cleanup()
    {
        m_serializer.reset();
        m_reader.reset();
        m_store.reset();
        m_sqlite.reset();
    }

    void keptAcrossTheStoresOwnCommits()
    {
        const QByteArray first = serialize(m_first);
        QCOMPARE(m_serializer->bazLookups(), 2);
        put(m_first, first, 1);
        const QByteArray second = serialize(m_second);
        QCOMPARE(m_serializer->bazLookups(), 3); // only Baz three was new
        QCOMPARE(second, fresh(m_second));
        put(m_second, second, 2);
        QCOMPARE(serialize(m_first), first);
        QCOMPARE(m_serializer->bazLookups(), 3);
    }

    void readAgainAfterAnyOtherCommit()
    {
        serialize(m_first);
        put(m_first, fresh(m_first), 1);
        rename(m_one, "renamed");
        const QByteArray second = serialize(m_second);
        QVERIFY(second.contains("renamed"));
        QCOMPARE(second, fresh(m_second));
        QCOMPARE(m_serializer->bazLookups(), 5); // all three again
        // Not even a commit elsewhere in the file is taken for none.
        m_sqlite->addFoo("unrelated");
        serialize(m_second);
        QCOMPARE(m_serializer->bazLookups(), 8);
    }

    void readAgainAfterATriggerWroteAlongWithTheStore()
    {
        m_sqlite->exec(QStringLiteral("CREATE TRIGGER rename_one AFTER UPDATE OF pre_serialized ON api_foo BEGIN "
                                      "UPDATE api_baz SET name = 'by trigger' WHERE id = %1; END")
                           .arg(m_one));
        serialize(m_first);
        put(m_first, fresh(m_first), 1); // the trigger renames Baz one in the same commit
        const QByteArray second = serialize(m_second);
        QVERIFY(second.contains("by trigger"));
        QCOMPARE(second, fresh(m_second));
    }

    void readAgainAfterAWriteThatChangedNothing()
    {
        // A put the store turns down (a newer entry is there) commits without changing the file;
        // the next commit starts from the same counter value and is someone else's.
        put(m_first, fresh(m_first), 10);
        serialize(m_first);
        put(m_first, fresh(m_first), 5);
        rename(m_one, "renamed");
        const QByteArray second = serialize(m_second);
        QVERIFY(second.contains("renamed"));
        QCOMPARE(second, fresh(m_second));
    }

    void readAgainAfterAWriteOfTheSameBytes()
    {
        // The entry init() wrote, written again: rows change, pages do not, nor does the counter.
        serialize(m_first);
        put(m_first, fresh(m_first));
        rename(m_one, "renamed");
        const QByteArray second = serialize(m_second);
        QVERIFY(second.contains("renamed"));
        QCOMPARE(second, fresh(m_second));
    }

    void readAgainEverySnapshotOfAWalFile()
    {
        m_serializer.reset();
        m_reader.reset();
        m_store.reset();
        m_sqlite->exec(QStringLiteral("PRAGMA journal_mode = WAL"));
        m_reader = openOrFail(*m_sqlite);
        m_serializer = std::make_unique<Serializer>(*m_reader);
        serialize(m_first);
        serialize(m_first);
        QCOMPARE(m_serializer->bazLookups(), 4);
        rename(m_one, "renamed");
        QVERIFY(serialize(m_second).contains("renamed"));
    }

    void callsOutsideAWorkerSnapshotForgetThem()
    {
        serialize(m_first);
        QVERIFY(m_serializer->foo(m_second).ok()); // a live request: its own names, then none kept
        QCOMPARE(m_serializer->bazLookups(), 5);
        serialize(m_first);
        QCOMPARE(m_serializer->bazLookups(), 7);
    }
};

QTEST_GUILESS_MAIN(TestKeptBazs)
#include "tst_keptbazs.moc"
