// appendJsonString() against the rules DRF's JSONRenderer follows (json.dumps with ensure_ascii=False,
// then U+2028/U+2029 escaped), and against the real Python for valid, invalid and random input.
#include "serialize/jsonstring.h"
#include "testsupport.h"

#include <QFileInfo>
#include <QRandomGenerator>
#include <QTest>

namespace {

const QByteArray replacement("\xEF\xBF\xBD");

QByteArray quoted(const QByteArray &inner)
{
    return '"' + inner + '"';
}

QByteArray repeated(const QByteArray &part, int times)
{
    QByteArray result;
    for (int i = 0; i < times; ++i)
        result += part;
    return result;
}

// What json.dumps writes for one ASCII byte, spelled out independently of the implementation.
QByteArray expectedAscii(unsigned char c)
{
    switch (c) {
    case '\b':
        return "\\b";
    case '\t':
        return "\\t";
    case '\n':
        return "\\n";
    case '\f':
        return "\\f";
    case '\r':
        return "\\r";
    case '"':
        return "\\\"";
    case '\\':
        return "\\\\";
    default:
        break;
    }
    if (c < 0x20)
        return "\\u00" + QByteArray::number(c, 16).rightJustified(2, '0');
    return QByteArray(1, char(c));
}

struct PythonJson {
    int replacements = -1;
    QByteArray json;
};

// One run of the system Python for all `inputs`: decode with "replace", dumps like DRF, and count the
// U+FFFD the decoder made (those in the decoded text minus the valid U+FFFD already in the bytes).
QList<PythonJson> pythonDumps(const QList<QByteArray> &inputs)
{
    static const QString script = QStringLiteral(R"py(
import json, sys
for argument in sys.argv[1:]:
    raw = bytes.fromhex(argument)
    text = raw.decode('utf-8', 'replace')
    out = json.dumps(text, ensure_ascii=False, separators=(',', ':'))
    out = out.replace('\u2028', '\\u2028').replace('\u2029', '\\u2029')
    made = text.count('\ufffd') - raw.count(b'\xef\xbf\xbd')
    sys.stdout.buffer.write(b'%d\t' % made + out.encode('utf-8') + b'\n')
)py");
    QStringList arguments { QStringLiteral("-c"), script };
    for (const QByteArray &input : inputs)
        arguments << QString::fromLatin1(input.toHex());
    const ProcessResult run = runProcess(systemPython(), arguments, 30000);
    QList<PythonJson> results;
    if (!run.finished || run.exitCode != 0) {
        qWarning("python failed (%d): %s", run.exitCode, run.err.constData());
        return results;
    }
    const QList<QByteArray> lines = run.out.split('\n');
    for (qsizetype i = 0; i + 1 < lines.size(); ++i) {
        const qsizetype tab = lines[i].indexOf('\t');
        results.append({ lines[i].left(tab).toInt(), lines[i].mid(tab + 1) });
    }
    return results;
}

} // namespace

class TestJsonString : public QObject {
    Q_OBJECT

private slots:
    void escapes_data();
    void escapes();
    void everyAsciiByte();
    void appendKeepsPrefix();
    void matchesPython_data();
    void matchesPython();
    void randomBytesMatchPython();

private:
    void addValidRows();
    void addInvalidRows();
};

void TestJsonString::addValidRows()
{
    // input, expected text between the quotes, replacements
    QTest::addRow("ascii") << QByteArray("Hello, World 123") << QByteArray("Hello, World 123") << 0;
    QTest::addRow("empty") << QByteArray("") << QByteArray("") << 0;
    QTest::addRow("quote") << QByteArray("a\"b") << QByteArray("a\\\"b") << 0;
    QTest::addRow("backslash") << QByteArray("a\\b") << QByteArray("a\\\\b") << 0;
    QTest::addRow("only quote and backslash") << QByteArray("\"\\") << QByteArray("\\\"\\\\") << 0;
    QTest::addRow("short escapes") << QByteArray("\b\f\n\r\t") << QByteArray("\\b\\f\\n\\r\\t") << 0;
    QTest::addRow("NUL") << QByteArray("x\0y", 3) << QByteArray("x\\u0000y") << 0;
    QTest::addRow("0x1f and 0x0b") << QByteArray("\x1f\x0b") << QByteArray("\\u001f\\u000b") << 0;
    QTest::addRow("DEL raw") << QByteArray("\x7f") << QByteArray("\x7f") << 0;
    QTest::addRow("html and slash raw") << QByteArray("/<>'&") << QByteArray("/<>'&") << 0;
    QTest::addRow("2-byte e-acute") << QByteArray("caf\xC3\xA9") << QByteArray("caf\xC3\xA9") << 0;
    QTest::addRow("3-byte CJK") << QByteArray("\xE6\x97\xA5") << QByteArray("\xE6\x97\xA5") << 0;
    QTest::addRow("4-byte U+1F600") << QByteArray("\xF0\x9F\x98\x80") << QByteArray("\xF0\x9F\x98\x80") << 0;
    QTest::addRow("U+10FFFF") << QByteArray("\xF4\x8F\xBF\xBF") << QByteArray("\xF4\x8F\xBF\xBF") << 0;
    QTest::addRow("U+2028") << QByteArray("a\xE2\x80\xA8z") << QByteArray("a\\u2028z") << 0;
    QTest::addRow("U+2029") << QByteArray("\xE2\x80\xA9") << QByteArray("\\u2029") << 0;
    QTest::addRow("U+2028 U+2029 adjacent")
        << QByteArray("\xE2\x80\xA8\xE2\x80\xA9") << QByteArray("\\u2028\\u2029") << 0;
    QTest::addRow("U+2027 raw") << QByteArray("\xE2\x80\xA7") << QByteArray("\xE2\x80\xA7") << 0;
    QTest::addRow("U+202A raw") << QByteArray("\xE2\x80\xAA") << QByteArray("\xE2\x80\xAA") << 0;
    QTest::addRow("U+FEFF raw") << QByteArray("\xEF\xBB\xBF"
                                              "x")
                                << QByteArray("\xEF\xBB\xBF"
                                              "x")
                                << 0;
    QTest::addRow("valid U+FFFD is no replacement") << replacement << replacement << 0;
    QTest::addRow("mix") << QByteArray("\"Zo\xC3\xAB\" \\ \xE2\x80\xA8\t\x01</b>\xF0\x9F\x98\x80\x7f")
                         << QByteArray("\\\"Zo\xC3\xAB\\\" \\\\ \\u2028\\t\\u0001</b>\xF0\x9F\x98\x80\x7f")
                         << 0;
    QTest::addRow("50 characters") << repeated("\xE6\x97\xA5", 50) << repeated("\xE6\x97\xA5", 50) << 0;
}

void TestJsonString::addInvalidRows()
{
    const QByteArray r = replacement;
    QTest::addRow("lone continuation 0x80") << QByteArray("\x80") << r << 1;
    QTest::addRow("truncated 3-byte at end") << QByteArray("a\xE2\x82") << QByteArray("a" + r) << 1;
    QTest::addRow("truncated 4-byte then ascii") << QByteArray("\xF0\x9F\x98"
                                                               "b")
                                                 << QByteArray(r + "b") << 1;
    QTest::addRow("lead then lead") << QByteArray("\xC3\xC3\xA9") << QByteArray(r + "\xC3\xA9") << 1;
    QTest::addRow("overlong C0 AF") << QByteArray("\xC0\xAF") << repeated(r, 2) << 2;
    QTest::addRow("overlong C1 BF") << QByteArray("\xC1\xBF") << repeated(r, 2) << 2;
    QTest::addRow("overlong E0 80 80") << QByteArray("\xE0\x80\x80") << repeated(r, 3) << 3;
    QTest::addRow("overlong F0 8F BF BF") << QByteArray("\xF0\x8F\xBF\xBF") << repeated(r, 4) << 4;
    QTest::addRow("surrogate ED A0 80") << QByteArray("\xED\xA0\x80") << repeated(r, 3) << 3;
    QTest::addRow("surrogate pair as CESU-8")
        << QByteArray("\xED\xA0\xBD\xED\xB8\x80") << repeated(r, 6) << 6;
    QTest::addRow("last before surrogates ED 9F BF")
        << QByteArray("\xED\x9F\xBF") << QByteArray("\xED\x9F\xBF") << 0;
    QTest::addRow("above U+10FFFF F4 90 80 80") << QByteArray("\xF4\x90\x80\x80") << repeated(r, 4) << 4;
    for (int byte = 0xF5; byte <= 0xFF; ++byte) {
        QTest::addRow("byte 0x%02x alone", byte) << QByteArray(1, char(byte)) << r << 1;
        QTest::addRow("byte 0x%02x then continuations", byte)
            << QByteArray(1, char(byte)) + "\x80\x80" << repeated(r, 3) << 3;
    }
    QTest::addRow("valid after invalid") << QByteArray("a\xFF"
                                                       "b")
                                         << QByteArray("a" + r + "b") << 1;
    QTest::addRow("truncated then U+2028")
        << QByteArray("\xE2\xE2\x80\xA8") << QByteArray(r + "\\u2028") << 1;
    QTest::addRow("truncated U+2028 E2 80") << QByteArray("\xE2\x80\"") << QByteArray(r + "\\\"") << 1;
    QTest::addRow("invalid then control") << QByteArray("\x80\n\x80") << QByteArray(r + "\\n" + r) << 2;
}

void TestJsonString::escapes_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QByteArray>("expected");
    QTest::addColumn<int>("replacements");
    addValidRows();
    addInvalidRows();
}

void TestJsonString::escapes()
{
    QFETCH(QByteArray, input);
    QFETCH(QByteArray, expected);
    QFETCH(int, replacements);

    QByteArray out;
    const int made = appendJsonString(out, input);
    QCOMPARE(out, quoted(expected));
    QCOMPARE(made, replacements);
    QVERIFY(out.isValidUtf8());
}

void TestJsonString::everyAsciiByte()
{
    for (int c = 0; c < 0x80; ++c) {
        const auto byte = static_cast<unsigned char>(c);
        QByteArray alone;
        QCOMPARE(appendJsonString(alone, QByteArray(1, char(byte))), 0);
        QCOMPARE(alone, quoted(expectedAscii(byte)));

        // The same byte between raw text, so a run being flushed around the escape is checked too.
        QByteArray inside;
        QCOMPARE(appendJsonString(inside, "ab" + QByteArray(1, char(byte)) + "\xC3\xA9"), 0);
        QCOMPARE(inside, quoted("ab" + expectedAscii(byte) + "\xC3\xA9"));
    }
}

void TestJsonString::appendKeepsPrefix()
{
    QByteArray out("{\"name\":");
    QCOMPARE(appendJsonString(out, QByteArrayView("a\n\x80")), 1);
    out += ',';
    QCOMPARE(appendJsonString(out, QByteArrayView("")), 0);
    QCOMPARE(out, QByteArray("{\"name\":\"a\\n" + replacement + "\",\"\""));

    // A view into the middle of a larger buffer: only its bytes count, not what follows.
    const QByteArray buffer("xx\"yy\x80zz");
    QByteArray part("p");
    QCOMPARE(appendJsonString(part, QByteArrayView(buffer).sliced(2, 3)), 0);
    QCOMPARE(part, QByteArray("p\"\\\"yy\""));
}

void TestJsonString::matchesPython_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QByteArray>("expected");
    QTest::addColumn<int>("replacements");
    addValidRows();
    addInvalidRows();
    QByteArray allAscii;
    for (int c = 0; c < 0x80; ++c)
        allAscii += char(c);
    QTest::addRow("all ASCII bytes") << allAscii << QByteArray() << 0;
}

void TestJsonString::matchesPython()
{
    QFETCH(QByteArray, input);
    if (!QFileInfo::exists(systemPython()))
        QSKIP("no system python3 to compare with");

    const QList<PythonJson> python = pythonDumps({ input });
    QCOMPARE(python.size(), 1);
    QByteArray out;
    const int made = appendJsonString(out, input);
    QCOMPARE(out, python.first().json);
    QCOMPARE(made, python.first().replacements);
}

void TestJsonString::randomBytesMatchPython()
{
    if (!QFileInfo::exists(systemPython()))
        QSKIP("no system python3 to compare with");
    // Bytes drawn from the classes that matter to a UTF-8 decoder, plus whole sequences, with a fixed
    // seed so a failure reproduces.
    const QList<QByteArray> palette {
        "a",
        "\"",
        "\\",
        "\n",
        "\x01",
        "\x7f",
        "\x80",
        "\x8f",
        "\x90",
        "\x9f",
        "\xA0",
        "\xBF",
        "\xC0",
        "\xC1",
        "\xC2",
        "\xDF",
        "\xE0",
        "\xE2",
        "\xED",
        "\xEF",
        "\xF0",
        "\xF4",
        "\xF5",
        "\xFF",
        "\xE2\x80\xA8",
        "\xE2\x80\xA9",
        "\xE2\x80",
        "\xC3\xA9",
        "\xF0\x9F\x98\x80",
        "\xEF\xBF\xBD",
        QByteArray("\0", 1),
    };
    QRandomGenerator random(20240229);
    QList<QByteArray> inputs;
    for (int i = 0; i < 400; ++i) {
        QByteArray input;
        const int parts = random.bounded(12);
        for (int p = 0; p < parts; ++p)
            input += palette[random.bounded(int(palette.size()))];
        inputs << input;
    }
    const QList<PythonJson> python = pythonDumps(inputs);
    QCOMPARE(python.size(), inputs.size());
    int totalReplacements = 0;
    for (qsizetype i = 0; i < inputs.size(); ++i) {
        QByteArray out;
        const int made = appendJsonString(out, inputs[i]);
        const QByteArray context = "input " + inputs[i].toHex(' ');
        QVERIFY2(out == python[i].json, context.constData());
        QVERIFY2(made == python[i].replacements, context.constData());
        totalReplacements += made;
    }
    QVERIFY(totalReplacements > 0); // the palette must have exercised the invalid paths
}

QTEST_GUILESS_MAIN(TestJsonString)
#include "tst_jsonstring.moc"
