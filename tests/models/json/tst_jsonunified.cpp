// One column for both sides of a comparison (narrow windows) and the characters that differ
// inside a changed line: built from the sides' line marks, checked line by line against the
// formatted sides.

#include "json/jsonunified.h"
#include "jsontestsupport.h"

#include <QRegularExpression>
#include <QTest>

#include <algorithm>

namespace {

// "- " / "+ " / "  " lines of a unified document.
QStringList linesOf(const UnifiedJson &unified)
{
    QStringList lines;
    for (int line = 0; line < unified.document.lineCount(); ++line)
        lines << unified.document.line(line).toString();
    return lines;
}

QString marked(const UnifiedJson &unified, int line)
{
    const CharSpan span = unified.spans.at(line);
    return unified.document.line(line).mid(span.first, span.end - span.first).toString();
}

} // namespace

class TestJsonUnified : public QObject {
    Q_OBJECT

private slots:
    void differingSpan_data();
    void differingSpan();
    void changedValueIsRemovedThenAdded();
    void removedElementHasNoPartner();
    void everySideLineAppearsOnceInOrder();
    void identicalIsAllContext();
    void sideSpansMarkTheChangedCharacters();
};

void TestJsonUnified::differingSpan_data()
{
    QTest::addColumn<QString>("line");
    QTest::addColumn<QString>("other");
    QTest::addColumn<QString>("marked");
    QTest::addRow("middle") << QStringLiteral(R"({ "name": "baz-17" })") << QStringLiteral(R"({ "name": "Baz 17" })")
                            << QStringLiteral("baz-");
    QTest::addRow("longer") << QStringLiteral(R"("n": "abc")") << QStringLiteral(R"("n": "abXYc")") << QStringLiteral("");
    QTest::addRow("shorter") << QStringLiteral(R"("n": "abXYc")") << QStringLiteral(R"("n": "abc")") << QStringLiteral("XY");
    QTest::addRow("same") << QStringLiteral("x") << QStringLiteral("x") << QString();
    QTest::addRow("surrogate pair kept whole") << QString::fromUtf16(u"\"\U0001F600\"") << QString::fromUtf16(u"\"\U0001F601\"")
                                               << QString::fromUtf16(u"\U0001F600");
}

void TestJsonUnified::differingSpan()
{
    QFETCH(QString, line);
    QFETCH(QString, other);
    QFETCH(QString, marked);
    const CharSpan span = ::differingSpan(line, other);
    QCOMPARE(line.mid(span.first, span.end - span.first), marked);
}

void TestJsonUnified::changedValueIsRemovedThenAdded()
{
    const FormattedComparison comparison = formatComparison(
        parsed(R"({"name":"foo","bar_set":[{"name":"bar-1","zab_set":[]},{"name":"bar-2","zab_set":[]}]})"),
        parsed(R"({"name":"foo","bar_set":[{"name":"BAR-1","zab_set":[]},{"name":"bar-2","zab_set":[]}]})"));
    const UnifiedJson unified = unifyComparison(comparison);
    const QStringList lines = linesOf(unified);
    const int removed = int(lines.indexOf(QRegularExpression(QStringLiteral("- .*bar-1.*"))));
    QVERIFY2(removed > 0, qPrintable(lines.join(QLatin1Char('\n'))));
    QVERIFY(lines.at(removed + 1).startsWith(QStringLiteral("+ ")));
    QVERIFY(lines.at(removed + 1).contains(QStringLiteral("BAR-1")));
    QCOMPARE(unified.marks.at(removed), char(LineMark::Removed));
    QCOMPARE(unified.marks.at(removed + 1), char(LineMark::Added));
    QCOMPARE(marked(unified, removed), QStringLiteral("bar"));
    QCOMPARE(marked(unified, removed + 1), QStringLiteral("BAR"));
    // The difference's lines map to those two.
    const FormattedDifference &difference = comparison.differences.first();
    QCOMPARE(unified.unifiedLineOfBefore(difference.beforeLine), removed);
    QCOMPARE(unified.unifiedLineOfAfter(difference.afterLine), removed + 1);
    QVERIFY(lines.at(removed + 2).startsWith(QStringLiteral("  "))); // context again
    QCOMPARE(unified.spans.at(removed + 2), CharSpan());
}

void TestJsonUnified::removedElementHasNoPartner()
{
    const FormattedComparison comparison = formatComparison(
        parsed(R"({"bar_set":[{"id":1,"zab_set":[{"id":5,"bazs":[]}]},{"id":2,"zab_set":[]}]})"),
        parsed(R"({"bar_set":[{"id":2,"zab_set":[]}]})"));
    const UnifiedJson unified = unifyComparison(comparison);
    int added = 0;
    int removed = 0;
    for (int line = 0; line < unified.marks.size(); ++line) {
        added += unified.marks.at(line) == char(LineMark::Added);
        removed += unified.marks.at(line) == char(LineMark::Removed);
        if (unified.marks.at(line) == char(LineMark::Removed))
            QVERIFY(unified.spans.at(line).isEmpty()); // nothing to compare it with
    }
    QCOMPARE(added, 0);
    QCOMPARE(removed, int(std::count(comparison.beforeMarks.cbegin(), comparison.beforeMarks.cend(), char(LineMark::Removed))));
    QVERIFY(removed >= 3);
}

// Whatever the differences, the cached side's lines are the context and "- " lines in order,
// the live side's the context and "+ " lines in order: nothing is lost or shown twice.
void TestJsonUnified::everySideLineAppearsOnceInOrder()
{
    const FormattedComparison comparison = formatComparison(
        parsed(R"({"a":1,"b":[1,2,3,{"x":"y","z":[{"k":1},{"k":2}]}],"c":{"d":"e"},"f":"g"})"),
        parsed(R"({"a":2,"b":[1,3,{"x":"Y","z":[{"k":2},{"k":3},{"k":4}]}],"c":{"d":"e","n":null},"f":"g"})"));
    const UnifiedJson unified = unifyComparison(comparison);
    QStringList before;
    QStringList after;
    for (int line = 0; line < unified.document.lineCount(); ++line) {
        const QString text = unified.document.line(line).toString();
        const QString body = text.mid(2);
        if (!text.startsWith(QStringLiteral("+ ")))
            before << body;
        if (!text.startsWith(QStringLiteral("- ")))
            after << body;
        if (text.startsWith(QStringLiteral("  "))) {
            QVERIFY(unified.beforeLines.at(line) >= 0 && unified.afterLines.at(line) >= 0);
            QCOMPARE(comparison.before.line(unified.beforeLines.at(line)), comparison.after.line(unified.afterLines.at(line)));
        }
    }
    QCOMPARE(before, comparison.before.text.split(QLatin1Char('\n')));
    QCOMPARE(after, comparison.after.text.split(QLatin1Char('\n')));
}

void TestJsonUnified::identicalIsAllContext()
{
    const FormattedComparison comparison = formatComparison(parsed(R"({"a":[1,2],"b":"c"})"), parsed(R"({"a":[1,2],"b":"c"})"));
    const UnifiedJson unified = unifyComparison(comparison);
    QCOMPARE(unified.document.lineCount(), comparison.after.lineCount());
    QVERIFY(std::all_of(unified.marks.cbegin(), unified.marks.cend(), [](char mark) { return mark == char(LineMark::None); }));
}

void TestJsonUnified::sideSpansMarkTheChangedCharacters()
{
    const FormattedComparison comparison = formatComparison(
        parsed(R"({"bar_set":[{"name":"bar-970","zab_set":[]}]})"),
        parsed(R"j({"bar_set":[{"name":"bar-970 (renamed)","zab_set":[]}]})j"));
    const QList<CharSpan> before = changedSpans(comparison, true);
    const QList<CharSpan> after = changedSpans(comparison, false);
    const int line = comparison.differences.first().afterLine;
    QVERIFY(line >= 0);
    const CharSpan span = after.at(line);
    QCOMPARE(comparison.after.line(line).mid(span.first, span.end - span.first).toString(), QStringLiteral(" (renamed)"));
    QVERIFY(before.at(comparison.differences.first().beforeLine).isEmpty()); // nothing removed inside it
    for (int other = 0; other < after.size(); ++other)
        QVERIFY(other == line || after.at(other).isEmpty());
}

QTEST_GUILESS_MAIN(TestJsonUnified)
#include "tst_jsonunified.moc"
