// compareJson()'s array alignment: an inserted or removed element is one difference, elements
// with an "id" pair up by id, and everything else by a minimal diff of the elements.
#include "db/database.h"
#include "db/seeder.h"
#include "json/jsoncompare.h"
#include "json/jsonvalue.h"
#include "json/jsonwrite.h"
#include "jsontestsupport.h"
#include "serialize/serializer.h"
#include "testsupport.h"

#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>

#include <vector>

namespace {

QStringList sides(const QList<JsonDifference> &differences)
{
    QStringList lines;
    for (const JsonDifference &difference : differences)
        lines << difference.beforePath + QStringLiteral(" | ") + difference.afterPath;
    return lines;
}

// {"l":[...]} with the given elements written as they are.
QByteArray list(const QList<QByteArray> &items)
{
    QByteArray json = "{\"l\":[";
    for (qsizetype i = 0; i < items.size(); ++i)
        json += (i ? "," : "") + items.at(i);
    return json + "]}";
}

QByteArray bar(int id, const QByteArray &name)
{
    return "{\"id\":" + QByteArray::number(id) + ",\"name\":\"" + name + "\"}";
}

qsizetype lcsLength(const QList<int> &a, const QList<int> &b)
{
    std::vector<std::vector<qsizetype>> table(a.size() + 1, std::vector<qsizetype>(b.size() + 1, 0));
    for (qsizetype i = 1; i <= a.size(); ++i) {
        for (qsizetype j = 1; j <= b.size(); ++j) {
            table[i][j] = a.at(i - 1) == b.at(j - 1) ? table[i - 1][j - 1] + 1
                                                     : qMax(table[i - 1][j], table[i][j - 1]);
        }
    }
    return table[a.size()][b.size()];
}

QByteArray ints(const QList<int> &values)
{
    QList<QByteArray> items;
    for (const int value : values)
        items << QByteArray::number(value);
    return list(items);
}

int indexIn(const QString &path)
{
    return path.mid(2, path.size() - 3).toInt(); // "l[12]" → 12
}

} // namespace

class TestJsonCompare : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QList<QByteArray> m_bodies; // the small demo's bodies

private slots:
    void initTestCase();
    void align_data();
    void align();
    void pathsOnEachSide();
    void minimalScript_data();
    void minimalScript();
    void longArrays();
    void truncation();
    void keyOrderOnlyThroughAlignment();
    void realBodyInsertAndRemove();
};

void TestJsonCompare::initTestCase()
{
    QVERIFY(m_dir.isValid());
    const QString path = m_dir.filePath(QStringLiteral("small.sqlite3"));
    QVERIFY(Seeder::write(path, *Seeder::scale(QStringLiteral("small")), QStringLiteral("api")).ok());
    auto database = Database::open(*DatabaseConfig::parse(path));
    QVERIFY2(database.ok(), qPrintable(why(database)));
    Serializer serializer(**database);
    const auto ids = (*database)->fooIds();
    QVERIFY2(ids.ok(), qPrintable(why(ids)));
    for (const qint64 pk : *ids) {
        auto body = serializer.foo(pk);
        QVERIFY2(body.ok(), qPrintable(why(body)));
        m_bodies << *body;
    }
    QVERIFY(m_bodies.size() > 5);
}

void TestJsonCompare::align_data()
{
    QTest::addColumn<QByteArray>("before");
    QTest::addColumn<QByteArray>("after");
    QTest::addColumn<QStringList>("differences");
    const QByteArray abc = list({ "{\"name\":\"a\"}", "{\"name\":\"b\"}", "{\"name\":\"c\"}" });
    QTest::addRow("object inserted in the middle")
        << abc << list({ "{\"name\":\"a\"}", "{\"name\":\"x\"}", "{\"name\":\"b\"}", "{\"name\":\"c\"}" })
        << QStringList { "added l[1]  {\"name\":\"x\"}" };
    QTest::addRow("scalar removed at the start")
        << ints({ 1, 2, 3, 4 }) << ints({ 2, 3, 4 }) << QStringList { "removed l[0] 1 " };
    QTest::addRow("scalar inserted") << ints({ 1, 2, 3, 4, 5 }) << ints({ 1, 2, 9, 3, 4, 5 })
                                     << QStringList { "added l[2]  9" };
    // After the insertion, 2 → 7 is a removed and an added element in one place: a change, at 2's index.
    QTest::addRow("inserted, then one changed") << ints({ 1, 2, 3, 4 }) << ints({ 0, 1, 7, 3, 4 })
                                                << QStringList { "added l[0]  0", "changed l[1] 2 7" };
    // The edited object pairs with its old self and is compared inside: a precise path.
    QTest::addRow("mixed, no ids") << list({ "1", "\"a\"", "{\"n\":1,\"m\":[5]}", "[2]", "null" })
                                   << list({ "\"a\"", "{\"n\":2,\"m\":[5]}", "[2]", "null", "true" })
                                   << QStringList { "removed l[0] 1 ", "changed l[2].n 1 2",
                                          "added l[4]  true" };
    QTest::addRow("by id: inserted, and a later one renamed")
        << list({ bar(1, "a"), bar(2, "b"), bar(3, "c") })
        << list({ bar(1, "a"), bar(9, "x"), bar(2, "b"), bar(3, "C") })
        << QStringList { "added l[1]  " + bar(9, "x"), "changed l[2].name \"c\" \"C\"" };
    QTest::addRow("by id: new id in the old place is not a change")
        << list({ bar(1, "a"), bar(2, "b") }) << list({ bar(1, "a"), bar(3, "b") })
        << QStringList { "removed l[1] " + bar(2, "b") + " ", "added l[1]  " + bar(3, "b") };
    QTest::addRow("by id: two swapped")
        << list({ bar(1, "a"), bar(2, "b"), bar(3, "c") }) << list({ bar(2, "b"), bar(1, "a"), bar(3, "c") })
        << QStringList { "reordered l [1,2] [2,1]" };
    QTest::addRow("by id: moved and renamed")
        << list({ bar(1, "a"), bar(2, "b"), bar(3, "c"), bar(4, "d") })
        << list({ bar(2, "b"), bar(3, "c"), bar(4, "d"), bar(1, "A") })
        << QStringList { "reordered l [1,2,3,4] [2,3,4,1]", "changed l[0].name \"a\" \"A\"" };
    QTest::addRow("by id: number and string ids differ")
        << list({ "{\"id\":1}" }) << list({ "{\"id\":\"1\"}" })
        << QStringList { "removed l[0] {\"id\":1} ", "added l[0]  {\"id\":\"1\"}" };
    QTest::addRow("by id: duplicates pair in order")
        << list({ bar(1, "a"), bar(1, "b"), bar(2, "c") }) << list({ bar(1, "a"), bar(2, "c"), bar(1, "B") })
        << QStringList { "reordered l [1,2] [2,1]", "changed l[1].name \"b\" \"B\"" };
    QTest::addRow("by id: a duplicate removed")
        << list({ bar(5, "a"), bar(5, "b"), bar(6, "c") }) << list({ bar(5, "a"), bar(6, "c") })
        << QStringList { "removed l[1] " + bar(5, "b") + " " };
    // One element without an id: the whole array is aligned by content instead.
    QTest::addRow("not every element has an id")
        << list({ bar(1, "a"), "{\"name\":\"b\"}", bar(3, "c") })
        << list({ bar(1, "a"), bar(7, "n"), "{\"name\":\"b\"}", bar(3, "c") })
        << QStringList { "added l[1]  " + bar(7, "n") };
    QTest::addRow("key order differs in a shifted element")
        << list({ "{\"x\":0}", "{\"a\":1,\"b\":2}" }) << list({ "{\"b\":2,\"a\":1}" })
        << QStringList { "removed l[0] {\"x\":0} " };
    QTest::addRow("nested arrays aligned at each level")
        << list({ "[1,2,3]", "[4,5,6]" }) << list({ "[0]", "[1,2,3]", "[4,6]" })
        << QStringList { "added l[0]  [0]", "removed l[1][1] 5 " };
}

void TestJsonCompare::align()
{
    QFETCH(QByteArray, before);
    QFETCH(QByteArray, after);
    QFETCH(QStringList, differences);
    const JsonComparison comparison = compareJson(parsed(before), parsed(after));
    QCOMPARE(describe(comparison.differences), differences);
    QVERIFY(!comparison.truncated);
    QVERIFY(!comparison.equal);
    QVERIFY(!comparison.keyOrderOnly);
    // And back: the same differences seen from the other side.
    const JsonComparison reverse = compareJson(parsed(after), parsed(before));
    QCOMPARE(reverse.differences.size(), comparison.differences.size());
}

void TestJsonCompare::pathsOnEachSide()
{
    // Bar 9 is inserted first: every later element's index differs by one between the sides.
    const QByteArray before = "{\"bar_set\":[" + bar(1, "a") + "," + bar(2, "b") + "," + bar(3, "c") + "]}";
    const QByteArray after = "{\"bar_set\":[" + bar(9, "x") + "," + bar(1, "a") + "," + bar(3, "C") + "]}";
    const JsonComparison comparison = compareJson(parsed(before), parsed(after));
    QCOMPARE(describe(comparison.differences),
        QStringList({ "added bar_set[0]  " + bar(9, "x"), "removed bar_set[1] " + bar(2, "b") + " ",
            "changed bar_set[2].name \"c\" \"C\"" }));
    // An added element: before's side names the element the gap comes before; a removed one: after's.
    QCOMPARE(sides(comparison.differences),
        QStringList(
            { "bar_set[0] | bar_set[0]", "bar_set[1] | bar_set[2]", "bar_set[2].name | bar_set[2].name" }));

    const QByteArray tail = "{\"l\":[" + bar(1, "a") + "," + bar(2, "b") + "]}";
    const JsonComparison added
        = compareJson(parsed(tail), parsed(QByteArray(tail).replace("]}", "," + bar(3, "c") + "]}")));
    QCOMPARE(sides(added.differences), QStringList({ "l[2] | l[2]" }));
    const JsonComparison moved = compareJson(parsed(list({ bar(1, "a"), bar(2, "b"), bar(3, "c") })),
        parsed(list({ bar(9, "x"), bar(1, "a"), bar(3, "c"), bar(2, "b") })));
    QCOMPARE(describe(moved.differences),
        QStringList({ "reordered l [2,3] [3,2]", "added l[0]  " + bar(9, "x") }));
    QCOMPARE(moved.differences.at(0).beforePath, QStringLiteral("l[1]"));
    QCOMPARE(moved.differences.at(0).afterPath, QStringLiteral("l[2]"));
}

void TestJsonCompare::minimalScript_data()
{
    QTest::addColumn<quint32>("seed");
    for (quint32 seed = 1; seed <= 40; ++seed)
        QTest::addRow("seed %u", seed) << seed;
}

void TestJsonCompare::minimalScript()
{
    // Random short arrays over a small alphabet (plenty of repeats): the differences must turn
    // `before` into `after`, and keep as many elements as a longest common subsequence.
    QFETCH(quint32, seed);
    QRandomGenerator random(seed);
    QList<int> a(random.bounded(0, 30));
    QList<int> b(random.bounded(0, 30));
    for (int &value : a)
        value = random.bounded(0, 5);
    for (int &value : b)
        value = random.bounded(0, 5);
    const JsonComparison comparison = compareJson(parsed(ints(a)), parsed(ints(b)));
    QList<bool> removed(a.size(), false);
    QList<int> changedTo(a.size(), -1);
    QList<int> changedAt(a.size(), -1); // its index in `after`
    QList<int> rebuilt(b.size(), -1);
    QList<bool> added(b.size(), false);
    for (const JsonDifference &difference : comparison.differences) {
        const int value
            = (difference.kind == JsonDifference::Kind::Removed ? difference.before : difference.after)
                  .toInt();
        if (difference.kind == JsonDifference::Kind::Added) {
            added[indexIn(difference.path)] = true;
            rebuilt[indexIn(difference.path)] = value;
        } else if (difference.kind == JsonDifference::Kind::Removed) {
            removed[indexIn(difference.path)] = true;
        } else {
            QCOMPARE(difference.kind, JsonDifference::Kind::Changed);
            changedTo[indexIn(difference.beforePath)] = value;
            changedAt[indexIn(difference.beforePath)] = indexIn(difference.afterPath);
        }
    }
    qsizetype j = 0;
    qsizetype kept = 0;
    for (qsizetype i = 0; i < a.size(); ++i) {
        if (removed.at(i))
            continue;
        while (j < b.size() && added.at(j))
            ++j;
        QVERIFY(j < b.size());
        if (changedTo.at(i) >= 0)
            QCOMPARE(changedAt.at(i), int(j));
        rebuilt[j++] = changedTo.at(i) >= 0 ? changedTo.at(i) : a.at(i);
        kept += changedTo.at(i) < 0 ? 1 : 0;
    }
    QCOMPARE(rebuilt, b);
    QCOMPARE(kept, lcsLength(a, b));
}

void TestJsonCompare::longArrays()
{
    // One insertion near each end of 50,000 elements: no common prefix or suffix to trim, yet two
    // differences.
    QList<int> values(50000);
    for (int i = 0; i < values.size(); ++i)
        values[i] = i;
    QList<int> edited = values;
    edited.insert(49990, -1);
    edited.insert(3, -2);
    const JsonComparison few = compareJson(parsed(ints(values)), parsed(ints(edited)));
    QCOMPARE(describe(few.differences), QStringList({ "added l[3]  -2", "added l[49991]  -1" }));
    // Thousands of scattered edits exceed the alignment's budget: the middle is paired by
    // position, which for in-place edits is still exact.
    QList<int> scattered = values;
    for (int i = 5; i < scattered.size(); i += 7)
        scattered[i] = -i;
    const JsonComparison many = compareJson(parsed(ints(values)), parsed(ints(scattered)), 100000);
    QCOMPARE(many.differences.size(), qsizetype((values.size() - 5 + 6) / 7));
    for (const JsonDifference &difference : many.differences) {
        QCOMPARE(difference.kind, JsonDifference::Kind::Changed);
        QCOMPARE(difference.after, QByteArray::number(-indexIn(difference.path)));
    }
}

void TestJsonCompare::truncation()
{
    // An insertion first, then changes: the cap counts aligned differences, in document order.
    QList<QByteArray> before;
    QList<QByteArray> after { "{\"name\":\"new\"}" };
    for (int i = 0; i < 10; ++i) {
        before << "{\"name\":\"n" + QByteArray::number(i) + "\",\"v\":" + QByteArray::number(i) + "}";
        after << "{\"name\":\"n" + QByteArray::number(i)
                + "\",\"v\":" + QByteArray::number(i % 3 == 0 && i > 0 ? -i : i) + "}";
    }
    const JsonComparison all = compareJson(parsed(list(before)), parsed(list(after)));
    QCOMPARE(all.summary(), QStringLiteral("4 changes")); // added l[0]; v of 3, 6, 9
    const JsonComparison capped = compareJson(parsed(list(before)), parsed(list(after)), 2);
    QVERIFY(capped.truncated);
    QCOMPARE(capped.summary(), QStringLiteral("2+ changes"));
    QCOMPARE(describe(capped.differences),
        QStringList({ "added l[0]  {\"name\":\"new\"}", "changed l[3].v 3 -3" }));
    QVERIFY(!capped.equal);
    QVERIFY(!capped.keyOrderOnly);
}

void TestJsonCompare::keyOrderOnlyThroughAlignment()
{
    // Every element's keys swapped: alignment must still pair each with its old self (with and
    // without ids), so the verdict stays "key order only" rather than hundreds of changes.
    QList<QByteArray> plain, plainSwapped, withIds, withIdsSwapped;
    for (int i = 0; i < 300; ++i) {
        const QByteArray n = QByteArray::number(i);
        plain << "{\"name\":\"x" + n + "\",\"v\":[" + n + "]}";
        plainSwapped << "{\"v\":[" + n + "],\"name\":\"x" + n + "\"}";
        withIds << "{\"id\":" + n + ",\"name\":\"x\"}";
        withIdsSwapped << "{\"name\":\"x\",\"id\":" + n + "}";
    }
    const JsonComparison comparison = compareJson(parsed(list(plain)), parsed(list(plainSwapped)));
    QVERIFY(comparison.keyOrderOnly);
    QVERIFY(comparison.differences.isEmpty());
    QVERIFY(compareJson(parsed(list(withIds)), parsed(list(withIdsSwapped))).keyOrderOnly);
    QVERIFY(compareJson(parsed(list(withIds)), parsed(list(withIds))).equal);
}

void TestJsonCompare::realBodyInsertAndRemove()
{
    const QByteArray body = *std::max_element(m_bodies.begin(), m_bodies.end(),
        [](const QByteArray &a, const QByteArray &b) { return a.size() < b.size(); });
    const JsonValue original = parsed(body);
    const auto bars
        = [](JsonValue &foo) -> QList<JsonValue> & { return foo.items[foo.keys.indexOf("bar_set")].items; };
    JsonValue edited = original;
    QList<JsonValue> &editedBars = bars(edited);
    QVERIFY(editedBars.size() >= 3);
    // A new Bar in the middle, the first Bar's last Baz removed, the last Bar renamed.
    const qsizetype middle = editedBars.size() / 2;
    JsonValue inserted = editedBars.at(middle);
    inserted.items[inserted.keys.indexOf("name")].text = "inserted";
    editedBars.insert(middle, inserted);
    QList<JsonValue> *bazs = nullptr;
    QString bazPath;
    for (qsizetype z = 0;
         !bazs && z < editedBars[0].items[editedBars[0].keys.indexOf("zab_set")].items.size(); ++z) {
        JsonValue &zab = editedBars[0].items[editedBars[0].keys.indexOf("zab_set")].items[z];
        QList<JsonValue> &zabBazs = zab.items[zab.keys.indexOf("bazs")].items;
        if (zabBazs.size() >= 2) {
            bazs = &zabBazs;
            bazPath = QStringLiteral("bar_set[0].zab_set[%1].bazs[%2]").arg(z).arg(zabBazs.size() - 1);
        }
    }
    QVERIFY(bazs);
    const QByteArray removedBaz = writeCompactJson(bazs->last(), false);
    bazs->removeLast();
    JsonValue &last = editedBars.last();
    last.items[last.keys.indexOf("name")].text = "renamed";
    const qsizetype lastBefore = original.member("bar_set")->items.size() - 1;

    const JsonComparison comparison = compareJson(original, edited);
    QCOMPARE(comparison.differences.size(), 3);
    QCOMPARE(comparison.differences.at(0).kind, JsonDifference::Kind::Removed);
    QCOMPARE(comparison.differences.at(0).path, bazPath);
    QCOMPARE(comparison.differences.at(0).before, removedBaz);
    QCOMPARE(comparison.differences.at(1).kind, JsonDifference::Kind::Added);
    QCOMPARE(comparison.differences.at(1).path, QStringLiteral("bar_set[%1]").arg(middle));
    QCOMPARE(comparison.differences.at(2).kind, JsonDifference::Kind::Changed);
    QCOMPARE(comparison.differences.at(2).path, QStringLiteral("bar_set[%1].name").arg(lastBefore));
    QCOMPARE(comparison.differences.at(2).afterPath, QStringLiteral("bar_set[%1].name").arg(lastBefore + 1));
    QCOMPARE(comparison.differences.at(2).after, QByteArray("\"renamed\""));
}

QTEST_GUILESS_MAIN(TestJsonCompare)
#include "tst_jsoncompare.moc"
