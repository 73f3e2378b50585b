#include "json/jsonformat.h"
#include "testsupport.h"

#include <QTest>

namespace {

JsonValue parsed(const QByteArray &json)
{
    auto value = parseJson(json);
    if (!value)
        qFatal("bad test JSON %s: %s", json.constData(), qPrintable(value.error().message));
    return std::move(value).value();
}

const QByteArray foo = "{\"name\":\"foo-1\",\"bar_set\":[{\"name\":\"bar-1\",\"zab_set\":[{\"name\":\"zab-1\",\"bazs\":"
                       "[{\"name\":\"baz-1\"},{\"name\":\"baz-2\"}]}]},{\"name\":\"bar-2\",\"zab_set\":[]}]}";

} // namespace

class TestJsonFormat : public QObject {
    Q_OBJECT

private slots:
    void layout();
    void paths_data();
    void paths();
    void escapesStayOnOneLine();
    void comparison_data();
    void comparison();
    void correspondingLines();
};

void TestJsonFormat::layout()
{
    const FormattedJson formatted = formatJson(parsed(foo));
    const QStringList expected {
        "{",
        "  \"name\": \"foo-1\",",
        "  \"bar_set\": [",
        "    {",
        "      \"name\": \"bar-1\",",
        "      \"zab_set\": [",
        "        {",
        "          \"name\": \"zab-1\",",
        "          \"bazs\": [",
        "            { \"name\": \"baz-1\" },",
        "            { \"name\": \"baz-2\" }",
        "          ]",
        "        }",
        "      ]",
        "    },",
        "    { \"name\": \"bar-2\", \"zab_set\": [] }",
        "  ]",
        "}",
    };
    QCOMPARE(formatted.text, expected.join(QLatin1Char('\n')));
    QCOMPARE(formatted.lineCount(), expected.size());
    for (int line = 0; line < expected.size(); ++line)
        QCOMPARE(formatted.line(line).toString(), expected.at(line));
    QCOMPARE(formatted.lineNodes.size(), expected.size());
}

void TestJsonFormat::paths_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<int>("first");
    QTest::addColumn<int>("last");
    QTest::addColumn<QString>("pathAtFirst");
    QTest::addRow("root") << "" << 0 << 17 << "";
    QTest::addRow("name") << "name" << 1 << 1 << "name";
    QTest::addRow("bar") << "bar_set[0]" << 3 << 14 << "bar_set[0]";
    QTest::addRow("zab") << "bar_set[0].zab_set[0]" << 6 << 12 << "bar_set[0].zab_set[0]";
    QTest::addRow("one-line baz") << "bar_set[0].zab_set[0].bazs[1]" << 10 << 10 << "bar_set[0].zab_set[0].bazs[1]";
    // Inside a one-line value: that line.
    QTest::addRow("inside one line") << "bar_set[0].zab_set[0].bazs[1].name" << 10 << 10 << "bar_set[0].zab_set[0].bazs[1]";
    QTest::addRow("one-line bar") << "bar_set[1].zab_set" << 15 << 15 << "bar_set[1]";
    // Not in the document: the nearest ancestor.
    QTest::addRow("missing index") << "bar_set[7].name" << 2 << 16 << "bar_set";
    QTest::addRow("missing key") << "nope" << 0 << 17 << "";
}

void TestJsonFormat::paths()
{
    QFETCH(QString, path);
    QFETCH(int, first);
    QFETCH(int, last);
    QFETCH(QString, pathAtFirst);
    const FormattedJson formatted = formatJson(parsed(foo));
    const auto range = formatted.rangeOf(path);
    QCOMPARE(range.first, first);
    QCOMPARE(range.last, last);
    QCOMPARE(formatted.pathAt(first), pathAtFirst);
}

void TestJsonFormat::escapesStayOnOneLine()
{
    // A newline, U+2028 and a control character inside a string must not break the line structure.
    const FormattedJson formatted = formatJson(parsed("{\"name\":\"a\\nb\\u2028c\\u0001\",\"bar_set\":[]}"));
    QCOMPARE(formatted.lineCount(), 1);
    QCOMPARE(formatted.text, QStringLiteral("{ \"name\": \"a\\nb\\u2028c\\u0001\", \"bar_set\": [] }"));
}

void TestJsonFormat::comparison_data()
{
    QTest::addColumn<QByteArray>("before");
    QTest::addColumn<QByteArray>("after");
    QTest::addColumn<QString>("summary");
    QTest::addColumn<QStringList>("texts");
    QTest::addColumn<QStringList>("lines"); // per difference: "beforeLine:afterLine"
    QTest::addColumn<QString>("beforeMarks"); // one character per line: . none, c changed, a added, r removed
    QTest::addColumn<QString>("afterMarks");
    QByteArray renamed = foo;
    renamed.replace("baz-2", "baz-two");
    QTest::addRow("identical") << foo << foo << "identical" << QStringList() << QStringList() << QString(18, '.')
                               << QString(18, '.');
    QTest::addRow("renamed") << foo << renamed << "1 change"
                             << QStringList { QString::fromUtf8("bar_set[0].zab_set[0].bazs[1].name: \"baz-2\" \u2192 \"baz-two\"") }
                             << QStringList { "10:10" } << "..........c......." << "..........c.......";
    QByteArray removed = foo;
    removed.replace(",{\"name\":\"baz-2\"}", "");
    // A removed value points after's pane at the closing line of the list that lost it.
    QTest::addRow("removed") << foo << removed << "1 change"
                             << QStringList { "bar_set[0].zab_set[0].bazs[1]: removed {\"name\":\"baz-2\"}" }
                             << QStringList { "10:10" } << "..........r......." << QString(17, '.');
    QTest::addRow("added") << foo << QByteArray(foo).replace("\"zab_set\":[]", "\"zab_set\":[{\"name\":\"z\",\"bazs\":[]}]")
                           << "1 change" << QStringList { "bar_set[1].zab_set[0]: added {\"name\":\"z\",\"bazs\":[]}" }
                           << QStringList { "15:18" } << QString(18, '.') << QString(18, '.') + "a" + QString(4, '.');
    QTest::addRow("key order") << foo
                               << QByteArray("{\"bar_set\":[{\"zab_set\":[{\"bazs\":[{\"name\":\"baz-1\"},{\"name\":\"baz-2\"}],"
                                             "\"name\":\"zab-1\"}],\"name\":\"bar-1\"},{\"name\":\"bar-2\",\"zab_set\":[]}],"
                                             "\"name\":\"foo-1\"}")
                               << "key order only" << QStringList() << QStringList() << QString(18, '.') << QString(18, '.');
    // Before's pane shows where the new Baz would go: the line of the Baz that follows it.
    QTest::addRow("inserted in the middle")
        << foo << QByteArray(foo).replace("{\"name\":\"baz-2\"}", "{\"name\":\"baz-x\"},{\"name\":\"baz-2\"}") << "1 change"
        << QStringList { "bar_set[0].zab_set[0].bazs[1]: added {\"name\":\"baz-x\"}" } << QStringList { "10:10" }
        << QString(18, '.') << "..........a........";
    QTest::addRow("removed at the start")
        << foo << QByteArray(foo).replace("{\"name\":\"baz-1\"},", "") << "1 change"
        << QStringList { "bar_set[0].zab_set[0].bazs[0]: removed {\"name\":\"baz-1\"}" } << QStringList { "9:9" }
        << ".........r........" << QString(17, '.');
    // Bars with ids, one per line: 3, 4, 5; the list closes on line 6.
    const QByteArray idFoo = "{\"name\":\"f\",\"bar_set\":[{\"id\":1,\"name\":\"b1\"},{\"id\":2,\"name\":\"b2\"},"
                             "{\"id\":3,\"name\":\"b3\"}]}";
    QTest::addRow("by id: inserted, and a later one renamed")
        << idFoo
        << QByteArray(idFoo).replace("{\"id\":2", "{\"id\":9,\"name\":\"b9\"},{\"id\":2").replace("\"b3\"", "\"B3\"")
        << "2 changes"
        << QStringList { "bar_set[1]: added {\"id\":9,\"name\":\"b9\"}",
               QString::fromUtf8("bar_set[2].name: \"b3\" \u2192 \"B3\"") }
        << QStringList { "4:4", "5:6" } << ".....c.." << "....a.c..";
    QTest::addRow("by id: first removed")
        << idFoo << QByteArray(idFoo).replace("{\"id\":1,\"name\":\"b1\"},", "") << "1 change"
        << QStringList { "bar_set[0]: removed {\"id\":1,\"name\":\"b1\"}" } << QStringList { "3:3" } << "...r...."
        << QString(7, '.');
    QTest::addRow("by id: added at the end")
        << idFoo << QByteArray(idFoo).replace("}]}", "},{\"id\":4,\"name\":\"b4\"}]}") << "1 change"
        << QStringList { "bar_set[3]: added {\"id\":4,\"name\":\"b4\"}" } << QStringList { "6:6" } << QString(8, '.')
        << "......a..";
    QTest::addRow("by id: swapped")
        << idFoo
        << QByteArray("{\"name\":\"f\",\"bar_set\":[{\"id\":2,\"name\":\"b2\"},{\"id\":1,\"name\":\"b1\"},"
                      "{\"id\":3,\"name\":\"b3\"}]}")
        << "1 change" << QStringList { QString::fromUtf8("bar_set: order of ids [1,2] \u2192 [2,1]") }
        << QStringList { "3:3" } << "...c...." << "...c....";
}

void TestJsonFormat::comparison()
{
    QFETCH(QByteArray, before);
    QFETCH(QByteArray, after);
    QFETCH(QString, summary);
    QFETCH(QStringList, texts);
    QFETCH(QStringList, lines);
    QFETCH(QString, beforeMarks);
    QFETCH(QString, afterMarks);
    const FormattedComparison result = formatComparison(parsed(before), parsed(after));
    QCOMPARE(result.summary, summary);
    QStringList got;
    QStringList gotLines;
    for (const FormattedDifference &difference : result.differences) {
        got << difference.text;
        gotLines << QStringLiteral("%1:%2").arg(difference.beforeLine).arg(difference.afterLine);
        QVERIFY(difference.beforeLine >= 0 && difference.beforeLine < result.before.lineCount());
        QVERIFY(difference.afterLine >= 0 && difference.afterLine < result.after.lineCount());
    }
    QCOMPARE(got, texts);
    QCOMPARE(gotLines, lines);
    const auto show = [](const QByteArray &marks) {
        QString text;
        for (const char mark : marks)
            text += QLatin1Char(".car"[int(mark)]);
        return text;
    };
    QCOMPARE(show(result.beforeMarks), beforeMarks);
    QCOMPARE(show(result.afterMarks), afterMarks);
}

void TestJsonFormat::correspondingLines()
{
    // Live has one more Baz in the first Zab: everything after it moves down a line, and scrolling
    // one pane must bring the same part of the other into view, not the same line number.
    QByteArray longer = foo;
    longer.replace("{\"name\":\"baz-2\"}", "{\"name\":\"baz-2\"},{\"name\":\"baz-3\"}");
    const FormattedJson before = formatJson(parsed(foo));
    const FormattedJson after = formatJson(parsed(longer));
    QCOMPARE(after.lineCount(), before.lineCount() + 1);
    const int secondBar = before.rangeOf(u"bar_set[1]").first;
    QCOMPARE(correspondingLine(before, after, secondBar), secondBar + 1);
    QCOMPARE(correspondingLine(after, before, secondBar + 1), secondBar);
    const int zab = before.rangeOf(u"bar_set[0].zab_set[0]").first;
    QCOMPARE(correspondingLine(before, after, zab + 1), zab + 1);
    QCOMPARE(correspondingLine(before, after, 0), 0);
    // A line the other side does not have maps to its nearest ancestor's first line.
    const int addedBaz = after.rangeOf(u"bar_set[0].zab_set[0].bazs[2]").first;
    QCOMPARE(correspondingLine(after, before, addedBaz), before.rangeOf(u"bar_set[0].zab_set[0].bazs").first);
}

QTEST_GUILESS_MAIN(TestJsonFormat)
#include "tst_jsonformat.moc"
