#include "db/database.h"
#include "db/seeder.h"
#include "serialize/serializer.h"
#include "testsupport.h"
#include "json/jsonvalue.h"
#include "json/jsoncompare.h"
#include "json/jsonwrite.h"
#include "jsontestsupport.h"

#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <numeric>

namespace {

// PostgreSQL's escape_json: only '"', '\', and control characters are escaped (\u00XX in lowercase
// hex for those without a short form); '/', U+2028/2029 and all other non-ASCII stay raw.
void appendPostgresString(QByteArray &out, const QByteArray &text)
{
    out.append('"');
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
        case '"':
            out.append("\\\"");
            break;
        case '\\':
            out.append("\\\\");
            break;
        case '\b':
            out.append("\\b");
            break;
        case '\f':
            out.append("\\f");
            break;
        case '\n':
            out.append("\\n");
            break;
        case '\r':
            out.append("\\r");
            break;
        case '\t':
            out.append("\\t");
            break;
        default:
            if (c < 0x20)
                out.append("\\u00").append(QByteArray::number(c, 16).rightJustified(2, '0'));
            else
                out.append(ch);
        }
    }
    out.append('"');
}

// The text jsonb gives back: keys sorted by length, then bytes; ", " and ": " separators.
void appendJsonbStyle(QByteArray &out, const JsonValue &value)
{
    switch (value.type) {
    case JsonValue::Type::String:
        appendPostgresString(out, value.text);
        return;
    case JsonValue::Type::Array:
        out.append('[');
        for (qsizetype i = 0; i < value.items.size(); ++i) {
            out.append(i ? ", " : "");
            appendJsonbStyle(out, value.items.at(i));
        }
        out.append(']');
        return;
    case JsonValue::Type::Object: {
        QList<qsizetype> order(value.keys.size());
        std::iota(order.begin(), order.end(), 0);
        std::sort(order.begin(), order.end(), [&](qsizetype a, qsizetype b) {
            const QByteArray &left = value.keys.at(a);
            const QByteArray &right = value.keys.at(b);
            return left.size() != right.size() ? left.size() < right.size() : left < right;
        });
        out.append('{');
        for (qsizetype i = 0; i < order.size(); ++i) {
            out.append(i ? ", " : "");
            appendPostgresString(out, value.keys.at(order.at(i)));
            out.append(": ");
            appendJsonbStyle(out, value.items.at(order.at(i)));
        }
        out.append('}');
        return;
    }
    default:
        out.append(writeCompactJson(value));
        return;
    }
}

QByteArray jsonbStyle(const JsonValue &value)
{
    QByteArray out;
    appendJsonbStyle(out, value);
    return out;
}


// Every body of a freshly seeded demo database, in pk order.
QList<QByteArray> seededBodies(const QString &path, const QString &scale)
{
    if (!Seeder::write(path, *Seeder::scale(scale), QStringLiteral("api")))
        qFatal("cannot seed %s", qPrintable(path));
    auto database = Database::open(*DatabaseConfig::parse(path));
    if (!database)
        qFatal("%s", qPrintable(database.error().message));
    Serializer serializer(**database);
    QList<QByteArray> bodies;
    const auto ids = (*database)->fooIds(); // kept: a range-for over a temporary Result dangles
    if (!ids)
        qFatal("%s", qPrintable(ids.error().message));
    for (const qint64 pk : *ids) {
        auto body = serializer.foo(pk);
        if (!body)
            qFatal("%s", qPrintable(body.error().message));
        bodies << *body;
    }
    return bodies;
}

} // namespace

class TestJsonValue : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QList<QByteArray> m_bodies; // the small demo's bodies

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_bodies = seededBodies(m_dir.filePath(QStringLiteral("small.sqlite3")), QStringLiteral("small"));
        QVERIFY(m_bodies.size() > 5);
    }

    void parseValid_data()
    {
        QTest::addColumn<QByteArray>("input");
        QTest::addColumn<QByteArray>("compact");
        QTest::addRow("nested") << QByteArray(
            "{\"a\":[1,{\"b\":null,\"c\":[[]]}],\"d\":{\"e\":true,\"f\":false}}")
                                << QByteArray(
                                       "{\"a\":[1,{\"b\":null,\"c\":[[]]}],\"d\":{\"e\":true,\"f\":false}}");
        QTest::addRow("whitespace") << QByteArray(" \t\r\n{ \"a\" :\n[ 1 , 2 ] , \"b\" : { } }\r\n ")
                                    << QByteArray("{\"a\":[1,2],\"b\":{}}");
        QTest::addRow("numbers literal") << QByteArray("[-0, 1e5, 1.5E-3, 0.250, -12.5e+10, 1E0, 100]")
                                         << QByteArray("[-0,1e5,1.5E-3,0.250,-12.5e+10,1E0,100]");
        QTest::addRow("key order kept")
            << QByteArray("{\"z\":1,\"a\":2,\"m\":3}") << QByteArray("{\"z\":1,\"a\":2,\"m\":3}");
        QTest::addRow("escapes re-escaped as DRF")
            << QByteArray("[\"\\/\\u00e9\\u0041\\u001F\\u2029\", \"\xC3\xA9\"]")
            << QByteArray("[\"/\xC3\xA9"
                          "A\\u001f\\u2029\",\"\xC3\xA9\"]");
        QTest::addRow("scalar root") << QByteArray(" \"x\" ") << QByteArray("\"x\"");
        QTest::addRow("number root") << QByteArray("-0.5") << QByteArray("-0.5");
        QTest::addRow("literal root") << QByteArray("null") << QByteArray("null");
        QTest::addRow("duplicate keys kept")
            << QByteArray("{\"a\":1,\"a\":2}") << QByteArray("{\"a\":1,\"a\":2}");
        QTest::addRow("siblings with other keys")
            << QByteArray("[{\"a\":1,\"b\":2},{\"a\":3},{\"a\":1,\"b\":2,\"c\":3},{\"b\":1},{},{\"b\":1,"
                          "\"a\":[{\"a\":0}]}]")
            << QByteArray("[{\"a\":1,\"b\":2},{\"a\":3},{\"a\":1,\"b\":2,\"c\":3},{\"b\":1},{},{\"b\":1,"
                          "\"a\":[{\"a\":0}]}]");
        QTest::addRow("escaped keys")
            << QByteArray("[{\"\\u0061\":1},{\"a\":2,\"\\n\":3},{\"a\":4,\"\\n\":5}]")
            << QByteArray("[{\"a\":1},{\"a\":2,\"\\n\":3},{\"a\":4,\"\\n\":5}]");
        QTest::addRow("empty key and string") << QByteArray("{\"\":\"\"}") << QByteArray("{\"\":\"\"}");
    }

    void parseValid()
    {
        QFETCH(QByteArray, input);
        QFETCH(QByteArray, compact);
        const auto value = parseJson(input);
        QVERIFY2(value.ok(), qPrintable(why(value)));
        QCOMPARE(writeCompactJson(*value, false), compact);
    }

    void decodedStrings_data()
    {
        QTest::addColumn<QByteArray>("input");
        QTest::addColumn<QByteArray>("decoded");
        QTest::addRow("plain") << QByteArray("\"abc\"") << QByteArray("abc");
        QTest::addRow("short escapes")
            << QByteArray("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"") << QByteArray("\"\\/\b\f\n\r\t");
        QTest::addRow("two-byte escape") << QByteArray("\"\\u00e9\"") << QByteArray("\xC3\xA9");
        QTest::addRow("upper-case hex") << QByteArray("\"\\u00C9\"") << QByteArray("\xC3\x89");
        QTest::addRow("three-byte escape") << QByteArray("\"\\u2028\"") << QByteArray("\xE2\x80\xA8");
        QTest::addRow("surrogate pair") << QByteArray("\"\\ud83d\\ude00\"") << QByteArray("\xF0\x9F\x98\x80");
        QTest::addRow("highest code point")
            << QByteArray("\"\\uDBFF\\uDFFF\"") << QByteArray("\xF4\x8F\xBF\xBF");
        QTest::addRow("NUL escape") << QByteArray("\"a\\u0000b\"") << QByteArray("a\0b", 3);
        QTest::addRow("raw four-byte UTF-8")
            << QByteArray("\"x\xF0\x9F\x8E\x89y\"") << QByteArray("x\xF0\x9F\x8E\x89y");
        QTest::addRow("escape between raw runs") << QByteArray("\"ab\\ncd\\u0041\"") << QByteArray("ab\ncdA");
        QTest::addRow("DEL raw") << QByteArray("\"\x7F\"") << QByteArray("\x7F");
    }

    void decodedStrings()
    {
        QFETCH(QByteArray, input);
        QFETCH(QByteArray, decoded);
        const auto value = parseJson(input);
        QVERIFY2(value.ok(), qPrintable(why(value)));
        QVERIFY(value->isString());
        QCOMPARE(value->text, decoded);
        // Keys go through the same decoder.
        const auto object = parseJson("{" + input + ":0}");
        QVERIFY2(object.ok(), qPrintable(why(object)));
        QCOMPARE(object->keys, QList<QByteArray> { decoded });
    }

    void numbersAndMembers()
    {
        const auto value = parseJson("{\"n\":-0,\"e\":1e5,\"f\":1.5E-3,\"s\":\"1e5\",\"t\":true,\"x\":null}");
        QVERIFY2(value.ok(), qPrintable(why(value)));
        QVERIFY(value->isObject());
        QCOMPARE(value->keys, (QList<QByteArray> { "n", "e", "f", "s", "t", "x" }));
        QCOMPARE(value->member("n")->type, JsonValue::Type::Number);
        QCOMPARE(value->member("n")->text, QByteArray("-0"));
        QCOMPARE(value->member("e")->text, QByteArray("1e5"));
        QCOMPARE(value->member("f")->text, QByteArray("1.5E-3"));
        QCOMPARE(value->member("s")->type, JsonValue::Type::String);
        QCOMPARE(value->member("t")->type, JsonValue::Type::True);
        QCOMPARE(value->member("x")->type, JsonValue::Type::Null);
        QCOMPARE(value->member("missing"), nullptr);
        QCOMPARE(value->items.at(0).member("n"), nullptr); // not an object
    }

    void parseInvalid_data()
    {
        QTest::addColumn<QByteArray>("input");
        QTest::addColumn<QString>("message");
        QTest::addColumn<int>("offset");
        QTest::addRow("empty input") << QByteArray() << QStringLiteral("empty") << 0;
        QTest::addRow("only whitespace") << QByteArray(" \n ") << QStringLiteral("empty") << 3;
        QTest::addRow("trailing comma in array")
            << QByteArray("[1,2,]") << QStringLiteral("trailing comma") << 5;
        QTest::addRow("trailing comma in object")
            << QByteArray("{\"a\":1, }") << QStringLiteral("trailing comma") << 8;
        QTest::addRow("leading zero") << QByteArray("01") << QStringLiteral("leading zero") << 0;
        QTest::addRow("negative leading zero") << QByteArray("[-01]") << QStringLiteral("leading zero") << 1;
        QTest::addRow("NaN") << QByteArray("NaN") << QStringLiteral("character 'N'") << 0;
        QTest::addRow("Infinity") << QByteArray("[-Infinity]") << QStringLiteral("digit") << 2;
        QTest::addRow("plus sign") << QByteArray("+1") << QStringLiteral("character '+'") << 0;
        QTest::addRow("bare minus") << QByteArray("-") << QStringLiteral("end of input") << 1;
        QTest::addRow("no fraction digits") << QByteArray("1.") << QStringLiteral("decimal point") << 2;
        QTest::addRow("no exponent digits") << QByteArray("1e+") << QStringLiteral("exponent") << 3;
        QTest::addRow("single quotes") << QByteArray("{'a':1}") << QStringLiteral("character '''") << 1;
        QTest::addRow("unquoted key") << QByteArray("{a:1}") << QStringLiteral("string key") << 1;
        QTest::addRow("unterminated string")
            << QByteArray("[\"abc") << QStringLiteral("unterminated string") << 1;
        QTest::addRow("unterminated escape")
            << QByteArray("\"ab\\") << QStringLiteral("unterminated string") << 3;
        QTest::addRow("raw tab") << QByteArray("\"a\tb\"") << QStringLiteral("raw control character 0x09")
                                 << 2;
        QTest::addRow("raw newline") << QByteArray("{\"k\":\"a\nb\"}") << QStringLiteral("control character")
                                     << 7;
        QTest::addRow("raw NUL") << QByteArray("\"a\0b\"", 5) << QStringLiteral("control character 0x00")
                                 << 2;
        QTest::addRow("lone high surrogate")
            << QByteArray("\"x\\ud800\"") << QStringLiteral("lone high surrogate") << 2;
        QTest::addRow("high then letter")
            << QByteArray("\"\\ud800a\"") << QStringLiteral("lone high surrogate") << 1;
        QTest::addRow("high then high")
            << QByteArray("\"\\ud800\\ud800\"") << QStringLiteral("lone high") << 1;
        QTest::addRow("high then BMP")
            << QByteArray("\"\\uD800\\u0041\"") << QStringLiteral("lone high") << 1;
        QTest::addRow("lone low surrogate")
            << QByteArray("\"\\udc00\"") << QStringLiteral("lone low surrogate") << 1;
        QTest::addRow("short unicode escape")
            << QByteArray("\"\\u12\"") << QStringLiteral("four hex digits") << 1;
        QTest::addRow("non-hex unicode escape")
            << QByteArray("\"\\u12g4\"") << QStringLiteral("four hex") << 1;
        QTest::addRow("unknown escape") << QByteArray("\"\\x41\"") << QStringLiteral("invalid escape") << 1;
        QTest::addRow("invalid UTF-8 byte") << QByteArray("\"a\xFF"
                                                          "b\"")
                                            << QStringLiteral("invalid UTF-8") << 2;
        QTest::addRow("overlong UTF-8") << QByteArray("\"\xC0\xAF\"") << QStringLiteral("invalid UTF-8") << 1;
        QTest::addRow("encoded surrogate")
            << QByteArray("\"\xED\xA0\x80\"") << QStringLiteral("invalid UTF-8") << 1;
        QTest::addRow("above U+10FFFF")
            << QByteArray("\"\xF4\x90\x80\x80\"") << QStringLiteral("invalid UTF-8") << 1;
        QTest::addRow("stray continuation")
            << QByteArray("[\"ok\",\"\x80\"]") << QStringLiteral("invalid UTF-8") << 7;
        QTest::addRow("truncated sequence")
            << QByteArray("\"\xE2\x82\"") << QStringLiteral("invalid UTF-8") << 1;
        QTest::addRow("UTF-8 outside strings") << QByteArray("\xC3\xA9") << QStringLiteral("byte 0xc3") << 0;
        QTest::addRow("byte order mark") << QByteArray("\xEF\xBB\xBF{}") << QStringLiteral("byte 0xef") << 0;
        QTest::addRow("garbage after value")
            << QByteArray("{} x") << QStringLiteral("after the JSON value") << 3;
        QTest::addRow("two values") << QByteArray("1 2") << QStringLiteral("after the JSON value") << 2;
        QTest::addRow("missing comma") << QByteArray("[1 2]") << QStringLiteral("',' or ']'") << 3;
        QTest::addRow("missing colon") << QByteArray("{\"a\" 1}") << QStringLiteral("':'") << 5;
        QTest::addRow("missing value") << QByteArray("{\"a\":}") << QStringLiteral("a value") << 5;
        QTest::addRow("unclosed array") << QByteArray("[1,[2]") << QStringLiteral("end of input") << 6;
        QTest::addRow("unclosed object") << QByteArray("{\"a\":1") << QStringLiteral("end of input") << 6;
        QTest::addRow("truncated literal") << QByteArray("[tru]") << QStringLiteral("a value") << 1;
        QTest::addRow("capitalised literal") << QByteArray("True") << QStringLiteral("character 'T'") << 0;
        QTest::addRow("percent sign") << QByteArray("[%2]") << QStringLiteral("found character '%'") << 1;
        QTest::addRow("comment") << QByteArray("[1 /* c */]") << QStringLiteral("character '/'") << 3;
    }

    void parseInvalid()
    {
        QFETCH(QByteArray, input);
        QFETCH(QString, message);
        QFETCH(int, offset);
        const auto value = parseJson(input);
        QVERIFY(!value.ok());
        QCOMPARE(value.error().kind, Error::Kind::Corrupt);
        const QString text = value.error().message;
        QVERIFY2(text.contains(message), qPrintable(text));
        QVERIFY2(text.endsWith(QStringLiteral("at byte %1").arg(offset)), qPrintable(text));
    }

    void depthLimit_data()
    {
        QTest::addColumn<int>("depth");
        QTest::addColumn<bool>("valid");
        QTest::addRow("512 arrays") << 512 << true;
        QTest::addRow("513 arrays") << 513 << false;
        QTest::addRow("600 arrays") << 600 << false;
        QTest::addRow("a million arrays") << 1000000 << false;
    }

    void depthLimit()
    {
        QFETCH(int, depth);
        QFETCH(bool, valid);
        for (const char *pair : { "[]", "{}" }) {
            const bool isObject = pair[0] == '{';
            QByteArray input;
            for (int i = 0; i < depth; ++i)
                input.append(isObject && i + 1 < depth ? QByteArray("{\"k\":") : QByteArray(1, pair[0]));
            input.append(QByteArray(depth, pair[1]));
            const auto value = parseJson(input);
            QCOMPARE(value.ok(), valid);
            if (!valid) {
                QVERIFY2(value.error().message.contains(QStringLiteral("nesting deeper than 512")),
                    qPrintable(value.error().message));
            }
        }
    }

    void roundTripSeededBodies()
    {
        int lineSeparators = 0;
        int controls = 0;
        for (const QByteArray &body : std::as_const(m_bodies)) {
            const auto value = parseJson(body);
            QVERIFY2(value.ok(), qPrintable(why(value)));
            COMPARE_BODIES(writeCompactJson(*value), body);
            COMPARE_BODIES(writeCompactJson(*value, false), body);
            const auto shape = checkFooShape(*value);
            QVERIFY2(shape.ok(), qPrintable(why(shape)));
            QVERIFY(compareJson(*value, *value).equal);
            lineSeparators += body.contains("\\u2028");
            controls += body.contains("\\u001f");
        }
        // The escapes that PostgreSQL writes differently are really in the demo data.
        QVERIFY(lineSeparators > 0);
        QVERIFY(controls > 0);
    }

    void jsonbStyleCanonicalizesRealBodies()
    {
        int reordered = 0;
        for (const QByteArray &body : std::as_const(m_bodies)) {
            const JsonValue original = parsed(body);
            const QByteArray stored = jsonbStyle(original);
            QVERIFY(stored != body);
            const auto value = parseJson(stored);
            QVERIFY2(value.ok(), qPrintable(why(value)));
            COMPARE_BODIES(writeCompactJson(*value), body);
            QVERIFY(checkFooShape(*value).ok());
            const JsonComparison comparison = compareJson(original, *value);
            // jsonb puts "bazs" before "name": every body with a Zab differs in key order only.
            const bool hasZab = body.contains("\"bazs\":");
            QCOMPARE(comparison.keyOrderOnly, hasZab);
            QCOMPARE(comparison.equal, !hasZab);
            QVERIFY(comparison.differences.isEmpty());
            QCOMPARE(comparison.summary(),
                hasZab ? QStringLiteral("key order only") : QStringLiteral("identical"));
            reordered += hasZab;
        }
        QVERIFY(reordered > 0);
    }

    void jsonbStyleHandBuilt()
    {
        const QByteArray stored
            = "{\"name\": \"top \\\"q\\\" \\u001f\", \"bar_set\": [{\"name\": \"caf\xC3\xA9\", "
              "\"zab_set\": [{\"bazs\": [{\"name\": \"a/b\"}, {\"name\": null}], "
              "\"name\": \"line\xE2\x80\xA8sep\\tx\"}, {\"bazs\": [], \"name\": \"\"}]}]}";
        const QByteArray canonical
            = "{\"name\":\"top \\\"q\\\" \\u001f\",\"bar_set\":[{\"name\":\"caf\xC3\xA9\","
              "\"zab_set\":[{\"name\":\"line\\u2028sep\\tx\",\"bazs\":[{\"name\":\"a/b\"},"
              "{\"name\":null}]},{\"name\":\"\",\"bazs\":[]}]}]}";
        const auto value = parseJson(stored);
        QVERIFY2(value.ok(), qPrintable(why(value)));
        QCOMPARE(writeCompactJson(*value), canonical);
        QVERIFY(checkFooShape(*value).ok());
        QVERIFY(compareJson(parsed(canonical), *value).keyOrderOnly);
        // Without the field order the document order stays: "bazs" before "name".
        QVERIFY(writeCompactJson(*value, false).contains("[{\"bazs\":[{\"name\":\"a/b\"}"));
    }

    void fieldOrder_data()
    {
        QTest::addColumn<QByteArray>("input");
        QTest::addColumn<QByteArray>("canonical");
        QTest::addRow("baz level") << QByteArray("{\"bazs\":[],\"name\":\"z\"}")
                                   << QByteArray("{\"name\":\"z\",\"bazs\":[]}");
        QTest::addRow("zab level") << QByteArray("{\"zab_set\":[],\"name\":1}")
                                   << QByteArray("{\"name\":1,\"zab_set\":[]}");
        QTest::addRow("foo level") << QByteArray("{\"bar_set\":[],\"name\":null}")
                                   << QByteArray("{\"name\":null,\"bar_set\":[]}");
        QTest::addRow("already in order")
            << QByteArray("{\"name\":\"z\",\"bazs\":[]}") << QByteArray("{\"name\":\"z\",\"bazs\":[]}");
        QTest::addRow("other key") << QByteArray("{\"other\":[],\"name\":\"z\"}")
                                   << QByteArray("{\"other\":[],\"name\":\"z\"}");
        QTest::addRow("extra key") << QByteArray("{\"bazs\":[],\"name\":\"z\",\"x\":0}")
                                   << QByteArray("{\"bazs\":[],\"name\":\"z\",\"x\":0}");
        QTest::addRow("two child lists")
            << QByteArray("{\"bazs\":[],\"zab_set\":[]}") << QByteArray("{\"bazs\":[],\"zab_set\":[]}");
        QTest::addRow("nested in array") << QByteArray("[{\"bazs\":[{\"name\":\"b\"}],\"name\":\"z\"}]")
                                         << QByteArray("[{\"name\":\"z\",\"bazs\":[{\"name\":\"b\"}]}]");
    }

    void fieldOrder()
    {
        QFETCH(QByteArray, input);
        QFETCH(QByteArray, canonical);
        const JsonValue value = parsed(input);
        QCOMPARE(writeCompactJson(value, true), canonical);
        QCOMPARE(writeCompactJson(value, false), input);
    }

    void fooShape_data()
    {
        QTest::addColumn<QByteArray>("input");
        QTest::addColumn<QString>("error"); // empty: valid
        const QByteArray zab = "{\"name\":\"z\",\"bazs\":[{\"name\":\"b\"},{\"name\":null}]}";
        const QByteArray bar = "{\"name\":\"b\",\"zab_set\":[" + zab + "]}";
        QTest::addRow("minimal") << QByteArray("{\"name\":\"f\",\"bar_set\":[]}") << QString();
        QTest::addRow("null name, keys swapped") << QByteArray("{\"bar_set\":[],\"name\":null}") << QString();
        QTest::addRow("full tree") << QByteArray("{\"name\":\"f\",\"bar_set\":[" + bar + "," + bar + "]}")
                                   << QString();
        QTest::addRow("array root") << QByteArray("[]")
                                    << QStringLiteral("expected an object with keys name and bar_set");
        QTest::addRow("extra key") << QByteArray("{\"name\":\"f\",\"bar_set\":[],\"id\":1}")
                                   << QStringLiteral("expected an object with keys name and bar_set");
        QTest::addRow("missing bar_set") << QByteArray("{\"name\":\"f\",\"bars\":[]}")
                                         << QStringLiteral("expected an object with keys name and bar_set");
        QTest::addRow("numeric name")
            << QByteArray("{\"name\":7,\"bar_set\":[]}") << QStringLiteral("name: expected a string or null");
        QTest::addRow("bar_set not a list")
            << QByteArray("{\"name\":\"f\",\"bar_set\":{}}") << QStringLiteral("bar_set: expected an array");
        QTest::addRow("bar is a string")
            << QByteArray("{\"name\":\"f\",\"bar_set\":[" + bar + ",\"b\"]}")
            << QStringLiteral("bar_set[1]: expected an object with keys name and zab_set");
        QTest::addRow("bar name is a list")
            << QByteArray("{\"name\":\"f\",\"bar_set\":[{\"name\":[],\"zab_set\":[]}]}")
            << QStringLiteral("bar_set[0].name: expected a string or null");
        QTest::addRow("zab_set is null")
            << QByteArray("{\"name\":\"f\",\"bar_set\":[{\"name\":\"b\",\"zab_set\":null}]}")
            << QStringLiteral("bar_set[0].zab_set: expected an array");
        QTest::addRow("zab without bazs")
            << QByteArray("{\"name\":\"f\",\"bar_set\":[" + bar + ",{\"name\":\"b\",\"zab_set\":[" + zab
                   + ",{\"name\":\"z\"}]}]}")
            << QStringLiteral("bar_set[1].zab_set[1]: expected an object with keys name and bazs");
        QTest::addRow("baz with an id")
            << QByteArray(
                   "{\"name\":\"f\",\"bar_set\":[{\"name\":\"b\",\"zab_set\":[{\"name\":\"z\",\"bazs\":"
                   "[{\"name\":\"a\"},{\"name\":\"a\"},{\"id\":1,\"name\":\"c\"}]}]}]}")
            << QStringLiteral("bar_set[0].zab_set[0].bazs[2]: expected an object with the single key name");
        QTest::addRow("baz name true")
            << QByteArray(
                   "{\"name\":\"f\",\"bar_set\":[{\"name\":\"b\",\"zab_set\":[{\"name\":\"z\",\"bazs\":"
                   "[{\"name\":true}]}]}]}")
            << QStringLiteral("bar_set[0].zab_set[0].bazs[0].name: expected a string or null");
    }

    void fooShape()
    {
        QFETCH(QByteArray, input);
        QFETCH(QString, error);
        const Status status = checkFooShape(parsed(input));
        QCOMPARE(status.ok(), error.isEmpty());
        if (!error.isEmpty()) {
            QCOMPARE(status.error().kind, Error::Kind::Corrupt);
            QCOMPARE(status.error().message, error);
        }
    }

    void fooShapeOfDamagedRealBody()
    {
        // The largest small-demo body, with one Baz deep down turned into a number.
        const QByteArray body = *std::max_element(m_bodies.begin(), m_bodies.end(),
            [](const QByteArray &a, const QByteArray &b) { return a.size() < b.size(); });
        JsonValue value = parsed(body);
        QList<JsonValue> &bars = value.items[value.keys.indexOf("bar_set")].items;
        QVERIFY(bars.size() >= 2);
        const qsizetype b = bars.size() - 1;
        QList<JsonValue> &zabs = bars[b].items[1].items;
        QVERIFY(!zabs.isEmpty());
        QList<JsonValue> &bazs = zabs.last().items[1].items;
        QVERIFY(!bazs.isEmpty());
        bazs.last() = parsed("3");
        const Status status = checkFooShape(value);
        QVERIFY(!status.ok());
        QCOMPARE(status.error().message,
            QStringLiteral("bar_set[%1].zab_set[%2].bazs[%3]: expected an object with the "
                           "single key name")
                .arg(b)
                .arg(zabs.size() - 1)
                .arg(bazs.size() - 1));
    }

    void compare_data()
    {
        QTest::addColumn<QByteArray>("before");
        QTest::addColumn<QByteArray>("after");
        QTest::addColumn<QString>("summary");
        QTest::addColumn<QStringList>("differences");
        QTest::addRow("identical") << QByteArray("{\"a\":[1,{\"b\":\"x\"}]}")
                                   << QByteArray("{ \"a\" : [1, {\"b\":\"x\"}] }")
                                   << QStringLiteral("identical") << QStringList();
        QTest::addRow("key order only") << QByteArray("{\"a\":1,\"b\":{\"c\":2,\"d\":[3]}}")
                                        << QByteArray("{\"b\":{\"d\":[3],\"c\":2},\"a\":1}")
                                        << QStringLiteral("key order only") << QStringList();
        QTest::addRow("same string, other escapes")
            << QByteArray("[\"\\u00e9/\"]") << QByteArray("[\"\xC3\xA9\\/\"]") << QStringLiteral("identical")
            << QStringList();
        QTest::addRow("deep name")
            << QByteArray(
                   "{\"name\":\"f\",\"bar_set\":[{\"name\":\"b\",\"zab_set\":[{\"name\":\"z\",\"bazs\":"
                   "[{\"name\":\"1\"},{\"name\":\"2\"},{\"name\":\"3\"}]}]}]}")
            << QByteArray(
                   "{\"name\":\"f\",\"bar_set\":[{\"name\":\"b\",\"zab_set\":[{\"name\":\"z\",\"bazs\":"
                   "[{\"name\":\"1\"},{\"name\":\"2\"},{\"name\":\"three\"}]}]}]}")
            << QStringLiteral("1 change")
            << QStringList { QStringLiteral("changed bar_set[0].zab_set[0].bazs[2].name \"3\" \"three\"") };
        QTest::addRow("added elements")
            << QByteArray("{\"l\":[1]}") << QByteArray("{\"l\":[1,2,{\"n\":3}]}")
            << QStringLiteral("2 changes")
            << QStringList { QStringLiteral("added l[1]  2"), QStringLiteral("added l[2]  {\"n\":3}") };
        QTest::addRow("removed elements")
            << QByteArray("[[1,2,3]]") << QByteArray("[[1]]") << QStringLiteral("2 changes")
            << QStringList { QStringLiteral("removed [0][1] 2 "), QStringLiteral("removed [0][2] 3 ") };
        QTest::addRow("type change") << QByteArray("{\"name\":\"x\",\"l\":[1]}")
                                     << QByteArray("{\"name\":null,\"l\":{}}") << QStringLiteral("2 changes")
                                     << QStringList { QStringLiteral("changed name \"x\" null"),
                                            QStringLiteral("changed l [1] {}") };
        QTest::addRow("true to false")
            << QByteArray("[true]") << QByteArray("[false]") << QStringLiteral("1 change")
            << QStringList { QStringLiteral("changed [0] true false") };
        QTest::addRow("number literal")
            << QByteArray("{\"n\":1}") << QByteArray("{\"n\":1.0}") << QStringLiteral("1 change")
            << QStringList { QStringLiteral("changed n 1 1.0") };
        QTest::addRow("keys added and removed")
            << QByteArray("{\"a\":1,\"b\":2}") << QByteArray("{\"c\":3,\"a\":1}")
            << QStringLiteral("2 changes")
            << QStringList { QStringLiteral("removed b 2 "), QStringLiteral("added c  3") };
        QTest::addRow("order and a change")
            << QByteArray("{\"a\":1,\"b\":2}") << QByteArray("{\"b\":3,\"a\":1}")
            << QStringLiteral("1 change") << QStringList { QStringLiteral("changed b 2 3") };
        QTest::addRow("scalar root") << QByteArray("\"a\"") << QByteArray("\"b\"")
                                     << QStringLiteral("1 change")
                                     << QStringList { QStringLiteral("changed  \"a\" \"b\"") };
        QByteArray manyKeys = "{";
        QByteArray manyKeysReversed = "{";
        for (int i = 0; i < 40; ++i) {
            manyKeys
                += (i ? "," : "") + QByteArray("\"k") + QByteArray::number(i) + "\":" + QByteArray::number(i);
            manyKeysReversed += (i ? "," : "") + QByteArray("\"k") + QByteArray::number(39 - i)
                + "\":" + QByteArray::number(39 - i);
        }
        QTest::addRow("big object reordered")
            << manyKeys + "}" << manyKeysReversed + "}" << QStringLiteral("key order only") << QStringList();
        QTest::addRow("big object, one value")
            << manyKeys + "}" << manyKeysReversed.replace("\"k7\":7", "\"k7\":8") + "}"
            << QStringLiteral("1 change") << QStringList { QStringLiteral("changed k7 7 8") };
    }

    void compare()
    {
        QFETCH(QByteArray, before);
        QFETCH(QByteArray, after);
        QFETCH(QString, summary);
        QFETCH(QStringList, differences);
        const JsonComparison comparison = compareJson(parsed(before), parsed(after));
        QCOMPARE(describe(comparison.differences), differences);
        QCOMPARE(comparison.summary(), summary);
        QCOMPARE(comparison.equal, summary == QStringLiteral("identical"));
        QCOMPARE(comparison.keyOrderOnly, summary == QStringLiteral("key order only"));
        QVERIFY(!comparison.truncated);
    }

    void compareTruncates_data()
    {
        QTest::addColumn<int>("count");
        QTest::addColumn<int>("maxDifferences");
        QTest::addColumn<QString>("summary");
        QTest::addRow("under the limit") << 3 << 5 << QStringLiteral("3 changes");
        QTest::addRow("at the limit") << 5 << 5 << QStringLiteral("5 changes");
        QTest::addRow("over the limit") << 6 << 5 << QStringLiteral("5+ changes");
        QTest::addRow("default limit") << 1500 << 1000 << QStringLiteral("1000+ changes");
        QTest::addRow("no list wanted") << 2 << 0 << QStringLiteral("different");
    }

    void compareTruncates()
    {
        QFETCH(int, count);
        QFETCH(int, maxDifferences);
        QFETCH(QString, summary);
        // Key order differs too: truncation must not turn the verdict into "key order only". No
        // element of `after` equals one of `before`, so alignment pairs them all as changes.
        QByteArray before = "{\"x\":0,\"l\":[";
        QByteArray after = "{\"l\":[";
        for (int i = 0; i < count; ++i) {
            before += (i ? "," : "") + QByteArray::number(i);
            after += (i ? "," : "") + QByteArray::number(count + i);
        }
        before += "]}";
        after += "],\"x\":0}";
        const JsonComparison comparison = compareJson(parsed(before), parsed(after), maxDifferences);
        QCOMPARE(comparison.summary(), summary);
        QCOMPARE(comparison.truncated, count > maxDifferences);
        QCOMPARE(comparison.differences.size(), qMin(count, maxDifferences));
        QVERIFY(!comparison.equal);
        QVERIFY(!comparison.keyOrderOnly);
        if (!comparison.differences.isEmpty())
            QCOMPARE(comparison.differences.last().path,
                QStringLiteral("l[%1]").arg(comparison.differences.size() - 1));
    }

    void compareRealBodyOneChange()
    {
        const QByteArray body = *std::max_element(m_bodies.begin(), m_bodies.end(),
            [](const QByteArray &a, const QByteArray &b) { return a.size() < b.size(); });
        const JsonValue original = parsed(body);
        // The jsonb form with one Baz renamed, found through the tree rather than by position.
        JsonValue changed = parsed(jsonbStyle(original));
        JsonValue *target = nullptr;
        QString path;
        QList<JsonValue> &bars = changed.items[changed.keys.indexOf("bar_set")].items;
        for (qsizetype b = bars.size() - 1; b >= 0 && !target; --b) {
            QList<JsonValue> &zabs = bars[b].items[bars[b].keys.indexOf("zab_set")].items;
            for (qsizetype z = 0; z < zabs.size() && !target; ++z) {
                QList<JsonValue> &bazs = zabs[z].items[zabs[z].keys.indexOf("bazs")].items;
                if (bazs.size() > 1) {
                    target = &bazs.last().items[0];
                    path = QStringLiteral("bar_set[%1].zab_set[%2].bazs[%3].name")
                               .arg(b)
                               .arg(z)
                               .arg(bazs.size() - 1);
                }
            }
        }
        QVERIFY(target);
        const QByteArray oldName = writeCompactJson(*target);
        target->text = "renamed";
        const JsonComparison comparison = compareJson(original, changed);
        QCOMPARE(comparison.summary(), QStringLiteral("1 change"));
        QCOMPARE(comparison.differences.size(), 1);
        QCOMPARE(comparison.differences.at(0).kind, JsonDifference::Kind::Changed);
        QCOMPARE(comparison.differences.at(0).path, path);
        QCOMPARE(comparison.differences.at(0).before, oldName);
        QCOMPARE(comparison.differences.at(0).after, QByteArray("\"renamed\""));
    }

    void timingOfTheLargestMediumBody()
    {
        QElapsedTimer timer;
        timer.start();
        const QList<QByteArray> bodies
            = seededBodies(m_dir.filePath(QStringLiteral("medium.sqlite3")), QStringLiteral("medium"));
        qInfo("seeded and serialized medium in %lld ms", qlonglong(timer.elapsed()));
        const QByteArray body = *std::max_element(bodies.begin(), bodies.end(),
            [](const QByteArray &a, const QByteArray &b) { return a.size() < b.size(); });
        double bestParse = 1e9, bestWrite = 1e9, bestShape = 1e9;
        for (int round = 0; round < 5; ++round) {
            timer.restart();
            const auto value = parseJson(body);
            bestParse = qMin(bestParse, timer.nsecsElapsed() / 1e6);
            QVERIFY2(value.ok(), qPrintable(why(value)));
            timer.restart();
            const QByteArray written = writeCompactJson(*value);
            bestWrite = qMin(bestWrite, timer.nsecsElapsed() / 1e6);
            timer.restart();
            const Status shape = checkFooShape(*value);
            bestShape = qMin(bestShape, timer.nsecsElapsed() / 1e6);
            QVERIFY(shape.ok());
            COMPARE_BODIES(written, body);
        }
        qInfo("largest medium body, %lld bytes: parse %.2f ms, write %.2f ms, checkFooShape %.2f ms (best of "
              "5)",
            qlonglong(body.size()), bestParse, bestWrite, bestShape);
    }
};

QTEST_GUILESS_MAIN(TestJsonValue)
#include "tst_jsonvalue.moc"
