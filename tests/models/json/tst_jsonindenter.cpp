// The streamed indented rendering: DRF's layout (json.dumps with indent=N, ensure_ascii=False),
// the same bytes whatever the reader's buffer size, its length known before the first byte, and
// anything that is not JSON refused up front. Parity with DRF's own bytes on the nasty data set is
// tst_drfhttp's (indent rows).
#include "json/jsonindenter.h"

#include <QTest>

class TestJsonIndenter : public QObject {
    Q_OBJECT

private:
    static QByteArray readAll(const QByteArray &document, int indent, qsizetype chunk)
    {
        JsonIndenter indenter(document, indent);
        QByteArray out;
        QByteArray buffer(chunk, '\0');
        while (const qsizetype n = indenter.read(buffer.data(), chunk))
            out.append(buffer.constData(), n);
        return out;
    }

private slots:
    void layout_data()
    {
        QTest::addColumn<QByteArray>("document");
        QTest::addColumn<int>("indent");
        QTest::addColumn<QByteArray>("expected");
        QTest::addRow("a Foo") << QByteArray("{\"name\":\"f\",\"bar_set\":[{\"name\":\"b\",\"zab_set\":[]}]}") << 2
                               << QByteArray("{\n  \"name\": \"f\",\n  \"bar_set\": [\n    {\n      \"name\": \"b\",\n"
                                             "      \"zab_set\": []\n    }\n  ]\n}");
        QTest::addRow("empty containers") << QByteArray("[{},[],{ },[ ]]") << 1 << QByteArray("[\n {},\n [],\n {},\n []\n]");
        QTest::addRow("scalars") << QByteArray("[1,-2.5e+3,true,false,null]") << 4
                                 << QByteArray("[\n    1,\n    -2.5e+3,\n    true,\n    false,\n    null\n]");
        QTest::addRow("a scalar alone") << QByteArray("\"x\"") << 8 << QByteArray("\"x\"");
        QTest::addRow("white space between tokens") << QByteArray(" { \"a\" : [ 1 , 2 ] } ") << 1
                                                    << QByteArray("{\n \"a\": [\n  1,\n  2\n ]\n}");
        // Strings come out in DRF's escaping, whatever the stored form.
        QTest::addRow("escapes kept") << QByteArray("[\"a\\\"b\\\\c\\n\\u0001\"]") << 1 << QByteArray("[\n \"a\\\"b\\\\c\\n\\u0001\"\n]");
        QTest::addRow("escapes made DRF's") << QByteArray("[\"\\u00e9\\/\\u000A\"]") << 1 << QByteArray("[\n \"\xc3\xa9/\\n\"\n]");
        QTest::addRow("U+2028 escaped") << QByteArray("[\"\xe2\x80\xa8\"]") << 1 << QByteArray("[\n \"\\u2028\"\n]");
        QTest::addRow("brackets and colons in strings") << QByteArray("{\"[{\":\",:]}\"}") << 1 << QByteArray("{\n \"[{\": \",:]}\"\n}");
    }
    void layout()
    {
        QFETCH(QByteArray, document);
        QFETCH(int, indent);
        QFETCH(QByteArray, expected);
        QCOMPARE(JsonIndenter::measure(document, indent), qint64(expected.size()));
        for (const qsizetype chunk : { 1, 3, 7, 4096 })
            QCOMPARE(readAll(document, indent, chunk), expected);
    }

    void notJson_data()
    {
        QTest::addColumn<QByteArray>("document");
        QTest::addRow("empty") << QByteArray();
        QTest::addRow("unclosed object") << QByteArray("{\"a\":1");
        QTest::addRow("unclosed string") << QByteArray("[\"a");
        QTest::addRow("mismatched brackets") << QByteArray("[1}");
        QTest::addRow("mismatched empty") << QByteArray("{]");
        QTest::addRow("value as key") << QByteArray("{1:2}");
        QTest::addRow("missing colon") << QByteArray("{\"a\" 1}");
        QTest::addRow("trailing comma") << QByteArray("[1,]");
        QTest::addRow("two documents") << QByteArray("[] []");
        QTest::addRow("bad literal") << QByteArray("[tru]");
        QTest::addRow("leading zero") << QByteArray("[01]");
        QTest::addRow("control byte in a string") << QByteArray("[\"a\x01\"]");
        QTest::addRow("bad escape") << QByteArray("[\"\\x\"]");
        QTest::addRow("too deep") << QByteArray(600, '[') + QByteArray(600, ']');
    }
    void notJson()
    {
        QFETCH(QByteArray, document);
        QCOMPARE(JsonIndenter::measure(document, 2), qint64(-1));
    }

    // A large document streams through a small buffer: the output is never held whole.
    void largeDocumentInSmallReads()
    {
        QByteArray document = "[";
        for (int i = 0; i < 20000; ++i)
            document += (i ? "," : "") + QByteArray("{\"name\":\"baz-") + QByteArray::number(i) + "\",\"bazs\":[{\"name\":\"x\"}]}";
        document += ']';
        const qint64 size = JsonIndenter::measure(document, 8);
        QVERIFY(size > document.size() * 3);
        const QByteArray whole = readAll(document, 8, 1 << 20);
        QCOMPARE(qint64(whole.size()), size);
        QCOMPARE(readAll(document, 8, 32 * 1024), whole);
    }
};

QTEST_GUILESS_MAIN(TestJsonIndenter)
#include "tst_jsonindenter.moc"
