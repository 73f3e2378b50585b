#include "db/database.h"
#include "db/seeder.h"
#include "serialize/idordinals.h"
#include "serialize/serializer.h"
#include "testsupport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSqlQuery>
#include <QTest>

#include <limits>

class TestSerializer : public QObject {
    Q_OBJECT

private slots:
    // The id table behind every level: ordinals in first-seen order, clear() forgetting them all,
    // and a table grown for one large Foo shrinking back once later uses stay small.
    void idOrdinalsNumberClearAndShrink()
    {
        IdOrdinals ids;
        bool added = false;
        QCOMPARE(ids.find(7), -1);
        QCOMPARE(ids.insert(7, &added), 0);
        QVERIFY(added);
        QCOMPARE(ids.insert(-3, &added), 1);
        QCOMPARE(ids.insert(7, &added), 0);
        QVERIFY(!added);
        QCOMPARE(ids.find(-3), 1);
        ids.clear();
        QCOMPARE(ids.find(7), -1);
        QCOMPARE(ids.size(), 0);

        // One large use, ids far apart and colliding in the low bits: the hashed table.
        for (qint64 i = 0; i < 100000; ++i)
            QCOMPARE(ids.insert(i << 20, &added), int(i));
        QVERIFY(!ids.dense());
        QCOMPARE(ids.find(99999ll << 20), 99999);
        const size_t large = ids.capacity();
        QVERIFY(large >= 200000);
        ids.clear();
        QCOMPARE(ids.find(5ll << 20), -1);
        // Small uses keep the large table for a while (a large Foo may come back), then it
        // shrinks to what they need: after a whole window of them, wherever the window began.
        int smallUses = 0;
        while (ids.capacity() == large && smallUses < 2 * IdOrdinals::shrinkWindow) {
            for (qint64 i = 0; i < 300; ++i)
                QCOMPARE(ids.insert(1000 * smallUses + 3 * i, &added), int(i));
            QCOMPARE(ids.find(1000 * smallUses + 3 * 299), 299);
            QCOMPARE(ids.find(1000 * smallUses + 1), -1);
            ids.clear();
            QCOMPARE(ids.find(1000 * smallUses), -1);
            ++smallUses;
        }
        QVERIFY2(smallUses >= IdOrdinals::shrinkWindow && smallUses < 2 * IdOrdinals::shrinkWindow,
                 qPrintable(QString::number(smallUses)));
        QCOMPARE(ids.capacity(), size_t(1024));
        QCOMPARE(ids.find(1000 * (smallUses - 1)), -1);
        QCOMPARE(ids.find(0), -1);
        QCOMPARE(ids.find(7), -1); // from the first use, in a slot of generation 1
        QCOMPARE(ids.find(-3), -1);
        QCOMPARE(ids.size(), 0);
        for (qint64 i = 0; i < 5000; ++i) // and grows again as needed
            QCOMPARE(ids.insert(i * 1000, &added), int(i));
        QCOMPARE(ids.find(4999 * 1000), 4999);
        QCOMPARE(ids.find(1), -1);
        QVERIFY(ids.capacity() >= 10002);
    }

    // Ids close together are held in a direct array: in any order, far below the first one,
    // at the ends of the 64-bit range; an id too far out moves them to the table, and once the
    // table must grow and they fit a span again, back.
    void idOrdinalsDenseAndBack()
    {
        IdOrdinals ids;
        bool added = false;
        std::vector<qint64> order;
        for (qint64 i = 0; i < 3000; ++i)
            order.push_back(1000000 + (i * 1237) % 3000); // a permutation of the span
        for (size_t i = 0; i < order.size(); ++i)
            QCOMPARE(ids.insert(order[i], &added), int(i));
        QVERIFY(ids.dense());
        for (size_t i = 0; i < order.size(); ++i)
            QCOMPARE(ids.find(order[i]), int(i));
        QCOMPARE(ids.find(999999), -1);
        QCOMPARE(ids.find(1003000), -1);
        QCOMPARE(ids.insert(999000, &added), 3000); // below the base: the array moves up
        QVERIFY(added && ids.dense());
        QCOMPARE(ids.find(1000000 + (1 * 1237) % 3000), 1);
        QCOMPARE(ids.find(999000), 3000);
        QCOMPARE(ids.find(999001), -1);

        // Descending ids: the array moves up a few times, not once per id, whether they fit
        // the array (every other id) or end in the table (every seventh).
        for (const qint64 gap : { 2, 7 }) {
            IdOrdinals descending;
            for (qint64 i = 0; i < 20000; ++i)
                QCOMPARE(descending.insert(1000000 - gap * i, &added), int(i));
            QCOMPARE(descending.dense(), gap == 2);
            QVERIFY2(descending.moves() <= 64, qPrintable(QString::number(descending.moves())));
            for (qint64 i = 0; i < 20000; ++i)
                QCOMPARE(descending.find(1000000 - gap * i), int(i));
            QCOMPARE(descending.find(1000000 - gap * 19999 - 1), -1);
            QCOMPARE(descending.find(1000001), -1);
        }

        // Too far out: into the table, every ordinal kept.
        ids.clear();
        QVERIFY(ids.dense());
        for (qint64 i = 0; i < 100; ++i)
            ids.insert(10 + i, &added);
        QCOMPARE(ids.insert(std::numeric_limits<qint64>::max(), &added), 100);
        QVERIFY(!ids.dense());
        QCOMPARE(ids.insert(std::numeric_limits<qint64>::min(), &added), 101);
        QCOMPARE(ids.insert(55, &added), 45);
        QVERIFY(!added);
        for (qint64 i = 0; i < 100; ++i)
            QCOMPARE(ids.find(10 + i), int(i));
        QCOMPARE(ids.find(std::numeric_limits<qint64>::max()), 100);
        QCOMPARE(ids.find(std::numeric_limits<qint64>::min()), 101);
        QCOMPARE(ids.find(0), -1);

        // A list's Bazs: ids met at random over a span, sparse at first, then dense enough.
        ids.clear();
        const qint64 span = 50000;
        std::vector<int> ordinal(span, -1);
        int next = 0;
        bool wasTable = false;
        for (qint64 i = 0; i < 4 * span; ++i) {
            const qint64 id = (i * 7919 + (i >> 3) * 104729) % span;
            const int got = ids.insert(id - span / 2, &added);
            QCOMPARE(added, ordinal[size_t(id)] < 0);
            if (added)
                ordinal[size_t(id)] = next++;
            QCOMPARE(got, ordinal[size_t(id)]);
            wasTable = wasTable || !ids.dense();
        }
        QVERIFY(wasTable);
        QVERIFY(ids.dense());
        for (qint64 id = 0; id < span; ++id)
            QCOMPARE(ids.find(id - span / 2), ordinal[size_t(id)]);
        QCOMPARE(ids.find(span - span / 2), -1);

        // The extremes of the range, as neighbours.
        ids.clear();
        const qint64 top = std::numeric_limits<qint64>::max();
        const qint64 bottom = std::numeric_limits<qint64>::min();
        QCOMPARE(ids.insert(top, &added), 0);
        QCOMPARE(ids.insert(top - 5, &added), 1);
        QVERIFY(ids.dense());
        QCOMPARE(ids.find(top), 0);
        QCOMPARE(ids.find(top - 5), 1);
        QCOMPARE(ids.find(bottom), -1);
        ids.clear();
        QCOMPARE(ids.insert(bottom + 5, &added), 0);
        QCOMPARE(ids.insert(bottom, &added), 1);
        QVERIFY(ids.dense());
        QCOMPARE(ids.find(bottom), 1);
        QCOMPARE(ids.find(bottom + 5), 0);
        QCOMPARE(ids.find(top), -1);
        // Moved up near the bottom by less than it covers (it may not wrap round to the top),
        // then into the table, and on until that table must grow.
        {
            IdOrdinals fresh;
            for (qint64 i = 0; i < 100; ++i)
                QCOMPARE(fresh.insert(bottom + 5 + i, &added), int(i));
            QCOMPARE(fresh.insert(bottom, &added), 100);
            QVERIFY(fresh.dense());
            QCOMPARE(fresh.find(top - 50), -1);
            for (qint64 i = 0; i < 1000; ++i)
                QCOMPARE(fresh.insert(i, &added), 101 + int(i));
            QVERIFY(!fresh.dense());
            QCOMPARE(fresh.find(bottom), 100);
            for (qint64 i = 0; i < 100; ++i)
                QCOMPARE(fresh.find(bottom + 5 + i), int(i));
            for (qint64 i = 0; i < 1000; ++i)
                QCOMPARE(fresh.find(i), 101 + int(i));
        }

        // A large span shrinks back after a window of small uses.
        ids.clear();
        for (qint64 i = 0; i < 200000; ++i)
            ids.insert(i, &added);
        QVERIFY(ids.dense());
        const size_t largeCells = ids.cells();
        QVERIFY(largeCells >= 200000);
        ids.clear();
        int smallUses = 0;
        while (ids.cells() == largeCells && smallUses < 2 * IdOrdinals::shrinkWindow) {
            for (qint64 i = 0; i < 100; ++i)
                QCOMPARE(ids.insert(smallUses * 100 + i, &added), int(i));
            ids.clear();
            ++smallUses;
        }
        QVERIFY2(smallUses >= IdOrdinals::shrinkWindow, qPrintable(QString::number(smallUses)));
        QVERIFY(ids.cells() <= largeCells / 8);
        QCOMPARE(ids.find(5), -1);
        QCOMPARE(ids.insert(5, &added), 0);
    }

    // A list shares its Bazs' names across runs up to a bound; past it, each later run reads the
    // names it needs again, and the bytes stay the same.
    void listForgetsBazNamesPastItsBound()
    {
        TestSqlite db;
        const qint64 shared = db.addBaz("shared baz");
        for (int f = 0; f < 4; ++f) {
            const qint64 foo = db.addFoo("foo-" + QByteArray::number(f), 1 + 1000 * f); // a run each
            const qint64 zab = db.addZab(db.addBar(foo, "bar"), "zab");
            db.link(zab, shared);
            db.link(zab, db.addBaz("own-" + QByteArray::number(f)));
        }
        auto database = openOrFail(db);
        Serializer unbounded(*database);
        const QByteArray all = *unbounded.list();
        QCOMPARE(unbounded.bazLookups(), 5); // each Baz once
        QVERIFY(all.contains(R"({"name":"shared baz"},{"name":"own-3"})"));
        Serializer bounded(*database);
        bounded.setListBazBytes(1);
        QCOMPARE(*bounded.list(), all);
        QCOMPARE(bounded.bazLookups(), 8); // the shared one again in every run
    }

    void emptyRelations()
    {
        TestSqlite db;
        const qint64 lonely = db.addFoo("foo-10");
        const qint64 foo = db.addFoo("f");
        const qint64 emptyBar = db.addBar(foo, "b0");
        const qint64 bar = db.addBar(foo, "b1");
        db.addZab(bar, "z-empty");
        Q_UNUSED(emptyBar);
        auto database = openOrFail(db);
        Serializer serializer(*database);
        QCOMPARE(*serializer.foo(lonely), QByteArray(R"({"name":"foo-10","bar_set":[]})"));
        QCOMPARE(*serializer.foo(foo),
                 QByteArray(R"({"name":"f","bar_set":[{"name":"b0","zab_set":[]},)"
                            R"({"name":"b1","zab_set":[{"name":"z-empty","bazs":[]}]}]})"));
    }

    void childrenInPrimaryKeyOrder()
    {
        // Rows inserted out of order and links whose own ids run against the Baz ids: the output
        // must follow the children's primary keys, as DRF's does on Django's indexes.
        TestSqlite db;
        const qint64 foo = db.addFoo("f");
        db.addBar(foo, "bar-9", 9);
        db.addBar(foo, "bar-3", 3);
        db.addZab(9, "zab-40", 40);
        db.addZab(3, "zab-41", 41);
        db.addZab(3, "zab-7", 7);
        for (qint64 id : { 30, 10, 20 })
            db.addBaz("baz-" + QByteArray::number(id), id);
        db.link(7, 30);
        db.link(7, 10);
        db.link(7, 20);
        db.link(40, 20);
        auto database = openOrFail(db);
        Serializer serializer(*database);
        QCOMPARE(*serializer.foo(foo),
                 QByteArray(R"({"name":"f","bar_set":[)"
                            R"({"name":"bar-3","zab_set":[{"name":"zab-7","bazs":[{"name":"baz-10"},{"name":"baz-20"},{"name":"baz-30"}]},)"
                            R"({"name":"zab-41","bazs":[]}]},)"
                            R"({"name":"bar-9","zab_set":[{"name":"zab-40","bazs":[{"name":"baz-20"}]}]}]})"));
    }

    void trickyNames_data()
    {
        QTest::addColumn<QByteArray>("name");
        QTest::addColumn<QByteArray>("json");
        // (No raw strings with backslashes here: moc 6.4 misreads them and drops the class.)
        QTest::addRow("quote and backslash") << QByteArray("a\"b\\c") << QByteArray("\"a\\\"b\\\\c\"");
        QTest::addRow("short escapes") << QByteArray("\b\f\n\r\t") << QByteArray(R"("\b\f\n\r\t")");
        QTest::addRow("other controls") << QByteArray("\x01\x1f") << QByteArray(R"("\u0001\u001f")");
        QTest::addRow("NUL kept as escape") << QByteArray("a\0b", 3) << QByteArray(R"("a\u0000b")");
        QTest::addRow("DEL, slash, lt raw") << QByteArray("\x7f/<'") << QByteArray("\"\x7f/<'\"");
        QTest::addRow("line and paragraph separators")
            << QByteArray("\xE2\x80\xA8|\xE2\x80\xA9") << QByteArray(R"("\u2028|\u2029")");
        QTest::addRow("4-byte UTF-8 raw") << QByteArray("\xF0\x9F\x98\x80") << QByteArray("\"\xF0\x9F\x98\x80\"");
        QTest::addRow("empty") << QByteArray("") << QByteArray(R"("")");
        QTest::addRow("invalid UTF-8 replaced")
            << QByteArray("a\xFF" "b") << QByteArray("\"a\xEF\xBF\xBD" "b\"");
    }

    void trickyNames()
    {
        QFETCH(QByteArray, name);
        QFETCH(QByteArray, json);
        // The same name at every level: Foo, Bar, Zab and Baz go through the same writer.
        TestSqlite db;
        const qint64 foo = db.addFoo(name);
        const qint64 zab = db.addZab(db.addBar(foo, name), name);
        db.link(zab, db.addBaz(name));
        auto database = openOrFail(db);
        Serializer serializer(*database);
        const auto body = serializer.foo(foo);
        QVERIFY(body.ok());
        const QByteArray expected = R"({"name":)" + json + R"(,"bar_set":[{"name":)" + json
            + R"(,"zab_set":[{"name":)" + json + R"(,"bazs":[{"name":)" + json + "}]}]}]}";
        QCOMPARE(*body, expected);
        QJsonParseError error;
        QJsonDocument::fromJson(*body, &error);
        QCOMPARE(error.error, QJsonParseError::NoError);
    }

    void invalidUtf8IsCounted()
    {
        TestSqlite db;
        const qint64 foo = db.addFoo("\xC0\xAF");
        auto database = openOrFail(db);
        Serializer serializer(*database);
        QCOMPARE(*serializer.foo(foo), QByteArray("{\"name\":\"\xEF\xBF\xBD\xEF\xBF\xBD\",\"bar_set\":[]}"));
        QCOMPARE(serializer.replacedSequences(), 2);
    }

    void nullNameIsNull()
    {
        TestSqlite db;
        // Django's NOT NULL keeps NULL names out; a hand-made table may not.
        db.exec(QStringLiteral("DROP TABLE api_baz"));
        db.exec(QStringLiteral("CREATE TABLE api_baz (id integer PRIMARY KEY AUTOINCREMENT, name varchar(50) NULL)"));
        const qint64 foo = db.addFoo("f");
        db.link(db.addZab(db.addBar(foo, "b"), "z"), db.addBaz(QByteArray()));
        auto database = openOrFail(db);
        Serializer serializer(*database);
        QCOMPARE(*serializer.foo(foo),
                 QByteArray(R"({"name":"f","bar_set":[{"name":"b","zab_set":[{"name":"z","bazs":[{"name":null}]}]}]})"));
    }

    void danglingLinksAreSkipped()
    {
        // Django's DO_NOTHING keys let rows point at nothing; DRF's INNER JOIN drops such a Baz.
        TestSqlite db;
        const qint64 foo = db.addFoo("f");
        const qint64 zab = db.addZab(db.addBar(foo, "b"), "z");
        db.link(zab, 999);
        db.link(zab, db.addBaz("real"));
        auto database = openOrFail(db);
        Serializer serializer(*database);
        QCOMPARE(*serializer.foo(foo),
                 QByteArray(R"({"name":"f","bar_set":[{"name":"b","zab_set":[{"name":"z","bazs":[{"name":"real"}]}]}]})"));
    }

    void barsOfMissingFoosAreNotWritten()
    {
        // A Bar left behind by a deleted Foo (DO_NOTHING keys) lies between two Foos' ranges; DRF,
        // which starts from each Foo, never meets it.
        TestSqlite db;
        db.addFoo("one", 1);
        db.addFoo("three", 3);
        db.addBar(2, "orphan", 20);
        db.addBar(3, "b", 30);
        auto database = openOrFail(db);
        Serializer serializer(*database);
        QCOMPARE(*serializer.list(), QByteArray(R"([{"name":"one","bar_set":[]},)"
                                                R"({"name":"three","bar_set":[{"name":"b","zab_set":[]}]}])"));
        QCOMPARE(*serializer.foos({ 1, 3 })[0], QByteArray(R"({"name":"one","bar_set":[]})"));
    }

    void nonIntegerKeysMatchNothing()
    {
        // SQLite keeps a REAL in an integer key column. Django's `foo_id = 1` never matches 1.5,
        // and neither may a range scan that reads 1.5 back as 1.
        TestSqlite db;
        db.addFoo("f1", 1);
        db.addFoo("f2", 2);
        db.addBar(1, "b10", 10);
        db.addBar(1, "b-real", 11);
        db.addZab(10, "z100", 100);
        db.addZab(10, "z-real", 101);
        db.addZab(10, "z102", 102);
        db.addBaz("baz7", 7);
        db.addBaz("baz8", 8);
        db.link(102, 7);
        db.link(102, 8);
        db.exec(QStringLiteral("UPDATE api_bar SET foo_id = 1.5 WHERE id = 11"));
        db.exec(QStringLiteral("UPDATE api_zab SET bar_id = 10.5 WHERE id = 101"));
        db.exec(QStringLiteral("UPDATE api_zab_bazs SET zab_id = 100.5 WHERE baz_id = 7"));
        db.exec(QStringLiteral("UPDATE api_zab_bazs SET baz_id = 7.5 WHERE baz_id = 8"));
        auto database = openOrFail(db);
        const QByteArray f1 = R"({"name":"f1","bar_set":[{"name":"b10","zab_set":[{"name":"z100","bazs":[]},)"
                              R"({"name":"z102","bazs":[]}]}]})";
        for (const auto plan : { Serializer::Plan::Auto, Serializer::Plan::Ranges, Serializer::Plan::Joins }) {
            Serializer serializer(*database);
            serializer.setPlan(plan);
            QCOMPARE(*serializer.foo(1), f1);
            QCOMPARE(*serializer.list(), "[" + f1 + R"(,{"name":"f2","bar_set":[]}])");
            QCOMPARE(*serializer.foos({ 1, 2 })[0], f1);
        }
    }

    // A row that fails to read fails its Foo only, even when a run read it with others; the answers
    // end with the failing Foo's, for the caller to ask again for the rest.
    void aFailingFooFailsAlone()
    {
        TestSqlite db;
        for (qint64 foo = 1; foo <= 5; ++foo)
            db.addBar(db.addFoo("foo-" + QByteArray::number(foo), foo), "bar", foo * 10);
        // The name of Bar 30 (Foo 3) cannot be read: abs() of the smallest integer overflows.
        db.exec(QStringLiteral("ALTER TABLE api_bar RENAME TO api_bar_rows"));
        db.exec(QStringLiteral("CREATE VIEW api_bar AS SELECT id, foo_id, CASE WHEN id = 30 "
                               "THEN abs(-9223372036854775807 - 1) ELSE name END AS name FROM api_bar_rows"));
        auto database = openOrFail(db);
        Serializer serializer(*database);
        const auto around = serializer.foos({ 2, 4 }); // one run, which reads Foo 3 too
        QCOMPARE(around.size(), size_t(2));
        QVERIFY(around[0].ok() && around[1].ok());
        QCOMPARE(*around[1], *serializer.foo(4));
        const auto through = serializer.foos({ 1, 2, 3, 4, 5 });
        QCOMPARE(through.size(), size_t(3));
        QVERIFY(through[0].ok() && through[1].ok());
        QVERIFY(!through[2].ok());
        QCOMPARE(through[2].error().kind, Error::Kind::Database);
        QVERIFY(serializer.foos({ 5 })[0].ok());
        QVERIFY(!serializer.list().ok());
    }

    void renamedBazIsNeverServedOld()
    {
        // Baz names are looked up once per call; a rename between two calls must show.
        TestSqlite db;
        const qint64 foo = db.addFoo("f");
        const qint64 baz = db.addBaz("before");
        db.link(db.addZab(db.addBar(foo, "b"), "z"), baz);
        auto database = openOrFail(db);
        Serializer serializer(*database);
        QVERIFY(serializer.foo(foo)->contains("before"));
        QVERIFY(serializer.list()->contains("before"));
        db.exec(QStringLiteral("UPDATE api_baz SET name = 'after' WHERE id = %1").arg(baz));
        QVERIFY(serializer.foo(foo)->contains("after"));
        QVERIFY(serializer.list()->contains("after"));
    }

    // Inside SharedBazs, a Baz two Foos share is looked up once: the second Foo runs one query less.
    // Once the scope ends, a rename shows again.
    void sharedBazsAreLookedUpOnce()
    {
        TestSqlite db;
        const qint64 baz = db.addBaz("before");
        const qint64 first = db.addFoo("first");
        const qint64 second = db.addFoo("second");
        db.link(db.addZab(db.addBar(first, "b"), "z"), baz);
        db.link(db.addZab(db.addBar(second, "b"), "z"), baz);
        auto database = openOrFail(db);
        Serializer serializer(*database);
        QVERIFY(serializer.foo(first).ok());
        const int alone = serializer.queryCount();
        QVERIFY(serializer.foo(second).ok());
        QCOMPARE(serializer.queryCount(), 2 * alone);
        {
            ReadSnapshot snapshot(*database);
            const Serializer::SharedBazs shared(serializer);
            const int before = serializer.queryCount();
            QVERIFY(serializer.foo(first)->contains("before"));
            QVERIFY(serializer.foo(second)->contains("before"));
            QCOMPARE(serializer.queryCount() - before, 2 * alone - 1);
        }
        db.exec(QStringLiteral("UPDATE api_baz SET name = 'after' WHERE id = %1").arg(baz));
        {
            ReadSnapshot snapshot(*database);
            const Serializer::SharedBazs shared(serializer);
            QVERIFY(serializer.foo(first)->contains("after"));
            QVERIFY(serializer.foo(second)->contains("after"));
        }
    }

    // Two Foos whose Bars, Zabs and links interleave by id, a Bar far away from the others, and
    // a Foo in between that nobody asks for: the range scans meet other parents' rows and must
    // skip them; the joins must give the very same bytes.
    void rangesAndJoinsGiveTheSameBytes()
    {
        TestSqlite db;
        const qint64 a = db.addFoo("a", 1);
        db.addFoo("between", 2);
        const qint64 b = db.addFoo("b", 3);
        const qint64 empty = db.addFoo("empty", 4);
        for (qint64 id : { 1, 2, 3, 4 })
            db.addBaz("baz-" + QByteArray::number(id), id);
        // Bars 10 (a), 11 (b), 12 (a), 13 (the Foo between), 900000 (b); Zabs likewise interleaved.
        db.addBar(a, "a-bar-10", 10);
        db.addBar(b, "b-bar-11", 11);
        db.addBar(a, "a-bar-12", 12);
        db.addBar(2, "between-bar-13", 13);
        db.addBar(b, "b-bar-far", 900000);
        db.addZab(10, "a-zab-100", 100);
        db.addZab(11, "b-zab-101", 101);
        db.addZab(10, "a-zab-102", 102);
        db.addZab(12, "a-zab-103", 103);
        db.addZab(13, "between-zab-104", 104);
        db.addZab(900000, "b-zab-far", 5000000);
        db.link(100, 2);
        db.link(101, 1);
        db.link(102, 4);
        db.link(102, 1);
        db.link(104, 3);
        db.link(5000000, 3);
        auto database = openOrFail(db);
        const QByteArray expectedA = R"({"name":"a","bar_set":[)"
                                     R"({"name":"a-bar-10","zab_set":[{"name":"a-zab-100","bazs":[{"name":"baz-2"}]},)"
                                     R"({"name":"a-zab-102","bazs":[{"name":"baz-1"},{"name":"baz-4"}]}]},)"
                                     R"({"name":"a-bar-12","zab_set":[{"name":"a-zab-103","bazs":[]}]}]})";
        const QByteArray expectedB = R"({"name":"b","bar_set":[)"
                                     R"({"name":"b-bar-11","zab_set":[{"name":"b-zab-101","bazs":[{"name":"baz-1"}]}]},)"
                                     R"({"name":"b-bar-far","zab_set":[{"name":"b-zab-far","bazs":[{"name":"baz-3"}]}]}]})";
        QByteArray listOf[3];
        for (const auto plan : { Serializer::Plan::Ranges, Serializer::Plan::Joins, Serializer::Plan::Auto }) {
            Serializer serializer(*database);
            serializer.setPlan(plan);
            QCOMPARE(*serializer.foo(a), expectedA);
            QCOMPARE(*serializer.foo(b), expectedB);
            const auto bodies = serializer.foos({ a, b, empty });
            QCOMPARE(bodies.size(), size_t(3));
            QCOMPARE(*bodies[0], expectedA);
            QCOMPARE(*bodies[1], expectedB);
            QCOMPARE(*bodies[2], QByteArray(R"({"name":"empty","bar_set":[]})"));
            listOf[int(plan)] = *serializer.list();
            if (plan == Serializer::Plan::Ranges)
                QCOMPARE(serializer.joinReads(), 0);
            if (plan == Serializer::Plan::Joins)
                QCOMPARE(serializer.rangeReads(), 0);
            if (plan == Serializer::Plan::Auto) // b's far Bar makes its ids sparse: joined
                QVERIFY(serializer.joinReads() > 0 && serializer.rangeReads() > 0);
        }
        QCOMPARE(listOf[0], listOf[1]);
        QCOMPARE(listOf[0], listOf[2]);
        QVERIFY(listOf[0].contains(expectedA + R"(,{"name":"between",)"));
    }

    // foos() answers each pk in its order, as foo() would: runs of close pks read together, an
    // unknown pk fails alone, and a run of many small Foos costs the queries of one.
    void foosAnswerEachPkAsFooDoes()
    {
        TestSqlite db;
        QList<qint64> pks;
        for (int i = 1; i <= 40; ++i) {
            const qint64 foo = db.addFoo("foo-" + QByteArray::number(i));
            if (i % 7 != 0)
                db.link(db.addZab(db.addBar(foo, "b"), "z"), db.addBaz("baz-" + QByteArray::number(i % 5)));
            pks << foo;
        }
        auto database = openOrFail(db);
        Serializer serializer(*database);
        const QList<qint64> asked { 3, 4, 5, 999, 6, 2, 2, 40, 17 };
        const auto bodies = serializer.foos(asked);
        QCOMPARE(bodies.size(), size_t(asked.size()));
        for (qsizetype i = 0; i < asked.size(); ++i) {
            const auto alone = Serializer(*database).foo(asked[i]);
            QCOMPARE(bodies[size_t(i)].ok(), alone.ok());
            if (alone)
                QCOMPARE(*bodies[size_t(i)], *alone);
            else
                QCOMPARE(bodies[size_t(i)].error().kind, Error::Kind::NotFound);
        }
        QCOMPARE(Serializer::runEnd(asked, 0), 3); // 3, 4, 5; then 999 is far
        const qint64 lowest = std::numeric_limits<qint64>::min();
        const qint64 highest = std::numeric_limits<qint64>::max();
        QCOMPARE(Serializer::runEnd({ -1, highest }, 0), 1); // their span does not fit in a qint64
        QCOMPARE(Serializer::runEnd({ lowest, highest }, 0), 1);
        QVERIFY(!Serializer::denseIds(2, lowest, highest));
        QVERIFY(!Serializer::denseIds(2, -1, highest));
        const int before = serializer.queryCount();
        const auto run = serializer.foos(pks.mid(0, Serializer::runLength));
        QCOMPARE(serializer.queryCount() - before, 5);
        for (qsizetype i = 0; i < Serializer::runLength; ++i)
            QCOMPARE(*run[size_t(i)], *Serializer(*database).foo(pks[i]));
    }

    void unknownPrimaryKey()
    {
        TestSqlite db;
        db.addFoo("f", 1);
        auto database = openOrFail(db);
        Serializer serializer(*database);
        const auto body = serializer.foo(2);
        QVERIFY(!body.ok());
        QCOMPARE(body.error().kind, Error::Kind::NotFound);
        QVERIFY(body.error().message.contains(QLatin1String("2")));
        QByteArray out("keep");
        QVERIFY(!serializer.appendFoo(out, 2).ok());
        QCOMPARE(out, QByteArray("keep"));
    }

    void queryCountDoesNotGrowWithSize()
    {
        TestSqlite db;
        const qint64 small = db.addFoo("small");
        db.link(db.addZab(db.addBar(small, "b"), "z"), db.addBaz("only"));
        const qint64 big = db.addFoo("big");
        QList<qint64> bazs;
        for (int i = 0; i < 50; ++i)
            bazs << db.addBaz("baz");
        for (int b = 0; b < 30; ++b) {
            const qint64 bar = db.addBar(big, "b");
            for (int z = 0; z < 20; ++z) {
                const qint64 zab = db.addZab(bar, "z");
                for (int l = 0; l < 10; ++l)
                    db.link(zab, bazs[(b + z + l * 3) % bazs.size()]);
            }
        }
        auto database = openOrFail(db);
        Serializer serializer(*database);
        QVERIFY(serializer.foo(small).ok());
        const int perSmall = serializer.queryCount();
        QVERIFY(serializer.foo(big).ok());
        QCOMPARE(serializer.queryCount() - perSmall, perSmall);
        QVERIFY(perSmall <= 5);
    }

    void listJoinsFoosInPrimaryKeyOrder()
    {
        TestSqlite db;
        auto empty = [&] {
            auto database = openOrFail(db);
            return *Serializer(*database).list();
        }();
        QCOMPARE(empty, QByteArray("[]"));
        db.addFoo("second", 7);
        db.addFoo("first", 3);
        auto database = openOrFail(db);
        Serializer serializer(*database);
        QCOMPARE(*serializer.list(),
                 QByteArray(R"([{"name":"first","bar_set":[]},{"name":"second","bar_set":[]}])"));
    }

    void otherAppLabel()
    {
        TestSqlite db(QStringLiteral("shop"));
        const qint64 foo = db.addFoo("in shop");
        auto database = openOrFail(db);
        QCOMPARE(*Serializer(*database).foo(foo), QByteArray(R"({"name":"in shop","bar_set":[]})"));
    }

    void seededDataIsConsistentJson()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("small.sqlite3"));
        QVERIFY(Seeder::write(path, *Seeder::scale(QStringLiteral("small")), QStringLiteral("api")).ok());
        auto database = Database::open(*DatabaseConfig::parse(path));
        QVERIFY(database.ok());
        Serializer serializer(**database);
        const auto list = serializer.list();
        QVERIFY(list.ok());
        QJsonParseError error;
        const QJsonArray foos = QJsonDocument::fromJson(*list, &error).array();
        QCOMPARE(error.error, QJsonParseError::NoError);
        const auto counts = (*database)->counts();
        QCOMPARE(foos.size(), counts->foos);
        qint64 bars = 0, zabs = 0, links = 0;
        for (const auto &foo : foos) {
            for (const auto &bar : foo[QLatin1String("bar_set")].toArray()) {
                ++bars;
                for (const auto &zab : bar[QLatin1String("zab_set")].toArray()) {
                    ++zabs;
                    links += zab[QLatin1String("bazs")].toArray().size();
                }
            }
        }
        QCOMPARE(bars, counts->bars);
        QCOMPARE(zabs, counts->zabs);
        QCOMPARE(links, counts->links);
        QCOMPARE(serializer.replacedSequences(), 0);
    }

    void statisticsDoNotChangeTheBytes()
    {
        // Real Django databases may carry ANALYZE statistics that change SQLite's plans.
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("small.sqlite3"));
        QVERIFY(Seeder::write(path, *Seeder::scale(QStringLiteral("small")), QStringLiteral("api")).ok());
        QByteArray before;
        {
            auto database = Database::open(*DatabaseConfig::parse(path));
            before = *Serializer(**database).list();
            QSqlQuery analyze((*database)->connection());
            QVERIFY(analyze.exec(QStringLiteral("ANALYZE")));
        }
        auto database = Database::open(*DatabaseConfig::parse(path));
        QVERIFY((*database)->tableNames()->contains(QStringLiteral("sqlite_stat1")));
        QCOMPARE(*Serializer(**database).list(), before);
    }
};

QTEST_GUILESS_MAIN(TestSerializer)
#include "tst_serializer.moc"
