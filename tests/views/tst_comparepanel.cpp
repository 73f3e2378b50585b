// The Cached/Live panes on their own, offscreen: comparisons built from known bodies (no database),
// so what is saved, copied or refused can be checked byte for byte.
#include "comparepanel.h"
#include "findbar.h"
#include "jsonsnippet.h"
#include "jsonview.h"

#include "cache/entry.h"
#include "json/jsonvalue.h"
#include "json/jsonwrite.h"
#include "testsupport.h"

#include <QApplication>
#include <QClipboard>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

namespace {

// A body with what trips a line-based cut: commas inside strings, an escaped quote in a key,
// one-line objects and arrays, nesting.
const QByteArray odd = "{\"name\":\"foo, the first\",\"we\\\"ird\":{\"a\":[1,2,{\"b\":\"c\\\"d,\"}],\"e\":null},"
                       "\"bar_set\":[{\"name\":\"b0\",\"zab_set\":[]},{\"name\":\"b1,\",\"zab_set\":[{\"name\":\"z\","
                       "\"bazs\":[{\"name\":\"q\"},{\"name\":\"r\"}]}]}]}";

QByteArray fooBody(const QByteArray &barName)
{
    return "{\"name\":\"foo-1\",\"bar_set\":[{\"name\":\"" + barName
        + "\",\"zab_set\":[{\"name\":\"zab-1\",\"bazs\":[{\"name\":\"baz-1\"},{\"name\":\"baz-2\"}]}]},"
          "{\"name\":\"bar-2\",\"zab_set\":[]}]}";
}

JsonValue parsed(const QByteArray &bytes)
{
    auto value = parseJson(bytes);
    return value ? *value : JsonValue {};
}

// What DocumentLoader would deliver for these two bodies (cachedBody empty: not cached).
DocumentComparisonPtr comparisonOf(const QByteArray &cachedBody, const QByteArray &liveBody)
{
    auto c = std::make_shared<DocumentComparison>();
    c->pk = 7;
    c->liveBytes = liveBody.size();
    c->liveBody = liveBody;
    if (cachedBody.isEmpty()) {
        c->formatted.after = formatJson(parsed(liveBody));
        c->formatted.afterMarks = QByteArray(c->formatted.after.lineCount(), char(LineMark::None));
        c->formatted.summary = QStringLiteral("not cached");
        return c;
    }
    c->entry = makeEntry(7, cachedBody, EntryMetadata {});
    c->formatted = formatComparison(parsed(cachedBody), parsed(liveBody));
    return c;
}

QByteArray readAll(const QString &fileName)
{
    QFile file(fileName);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray("<unreadable>");
}

} // namespace

class TestComparePanel : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void copyAsJson_data();
    void copyAsJson();
    void copyFollowsTheTreeAndTheFocusedPane();
    void savesExactBytes_data();
    void savesExactBytes();
    void saveErrorsAreReportedAndLoseNothing();
    void nothingToSave();
    void longLineShowsSavePlaceholder();
    void largeBodyShowsSavePlaceholder();
    void findBarCountsStepsAndWraps();
    void f7SaysWhereItIsAndWhenItWraps();
    void focusedPaneHasAFrame();
    void newDocumentKeepsTheCaseOption();
    void tintsFollowWideCharacters();
    void findSearchesTheSideThereIs();

private:
    QTemporaryDir m_dir;
};

void TestComparePanel::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QVERIFY(parseJson(odd));
}

void TestComparePanel::copyAsJson_data()
{
    QTest::addColumn<QString>("needle"); // the first line containing it is the current line
    QTest::addColumn<QByteArray>("expected");
    QTest::addRow("root") << QStringLiteral("{") << odd;
    QTest::addRow("string with a comma") << QStringLiteral("\"foo, the first\"") << QByteArray("\"foo, the first\"");
    QTest::addRow("object under an escaped key")
        << QStringLiteral("\"we\\\"ird\"") << QByteArray("{\"a\":[1,2,{\"b\":\"c\\\"d,\"}],\"e\":null}");
    QTest::addRow("number in an array") << QStringLiteral("  2,") << QByteArray("2");
    QTest::addRow("one-line object ending in an escaped quote and a comma")
        << QStringLiteral("\"c\\\"d,\"") << QByteArray("{\"b\":\"c\\\"d,\"}");
    QTest::addRow("null member") << QStringLiteral("\"e\": null") << QByteArray("null");
    // A one-line object is one node: its members have no line of their own.
    QTest::addRow("one-line object") << QStringLiteral("\"zab_set\": []") << QByteArray("{\"name\":\"b0\",\"zab_set\":[]}");
    QTest::addRow("element of bazs") << QStringLiteral("\"r\"") << QByteArray("{\"name\":\"r\"}");
    // No needle: the closing line of bar_set[1], which belongs to that element.
    QTest::addRow("closing line of an element")
        << QString() << QByteArray("{\"name\":\"b1,\",\"zab_set\":[{\"name\":\"z\",\"bazs\":[{\"name\":\"q\"},{\"name\":\"r\"}]}]}");
}

void TestComparePanel::copyAsJson()
{
    QFETCH(QString, needle);
    QFETCH(QByteArray, expected);
    const FormattedJson document = formatJson(parsed(odd));
    int line = needle.isNull() ? document.rangeOf(QStringLiteral("bar_set[1]")).last : -1;
    for (int i = 0; i < document.lineCount() && line < 0; ++i) {
        if (document.line(i).contains(needle))
            line = i;
    }
    QVERIFY2(line >= 0, qPrintable(document.text));
    const QString json = lineJson(document, line);
    const auto value = parseJson(json.toUtf8());
    QVERIFY2(value, qPrintable(json));
    QCOMPARE(writeCompactJson(*value, false), expected);
}

// Edit → Copy as JSON / Copy JSON Path: the focused pane's line wins, else the tree's selection.
void TestComparePanel::copyFollowsTheTreeAndTheFocusedPane()
{
    ComparePanel panel;
    panel.resize(900, 600);
    panel.show();
    panel.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&panel));
    const QByteArray body = fooBody("bar-1");
    panel.setComparison(comparisonOf(body, body));
    QSignalSpy messages(&panel, &ComparePanel::message);

    panel.showPath(QStringLiteral("bar_set[0].zab_set[0]"));
    QCOMPARE(panel.selectionPath(), QStringLiteral("bar_set[0].zab_set[0]"));
    panel.copySelectionJson();
    QCOMPARE(QApplication::clipboard()->text().toUtf8(), panel.selectionJson().toUtf8());
    QCOMPARE(writeCompactJson(parsed(QApplication::clipboard()->text().toUtf8()), false),
             QByteArray("{\"name\":\"zab-1\",\"bazs\":[{\"name\":\"baz-1\"},{\"name\":\"baz-2\"}]}"));
    QVERIFY(!messages.isEmpty() && messages.last().at(0).toString().contains(QStringLiteral("bar_set[0].zab_set[0]")));

    // The whole document when the tree selects the Foo itself.
    panel.showPath(QString());
    QCOMPARE(writeCompactJson(parsed(panel.selectionJson().toUtf8()), false), body);

    // A line clicked in the Cached pane (which has the focus then).
    JsonView *cached = panel.cachedView();
    cached->setFocus();
    QTRY_VERIFY(cached->hasFocus());
    const int line = cached->document().rangeOf(QStringLiteral("bar_set[1]")).first;
    QVERIFY(line > 0);
    const int y = (line - cached->topLine()) * cached->fontMetrics().lineSpacing() + 2;
    QTest::mouseClick(cached->viewport(), Qt::LeftButton, {}, QPoint(80, y));
    QCOMPARE(cached->currentLine(), line);
    QVERIFY(panel.hasPaneFocus());
    QCOMPARE(panel.selectionPath(), QStringLiteral("bar_set[1]"));
    QCOMPARE(writeCompactJson(parsed(panel.selectionJson().toUtf8()), false),
             QByteArray("{\"name\":\"bar-2\",\"zab_set\":[]}"));
}

void TestComparePanel::savesExactBytes_data()
{
    QTest::addColumn<QByteArray>("cachedBody");
    QTest::addColumn<QByteArray>("liveBody");
    // A store (PostgreSQL jsonb, another writer) may hold the same value with other bytes: the
    // cached file must keep them as they are, not as we would write them.
    QTest::addRow("identical") << fooBody("bar-1") << fooBody("bar-1");
    QTest::addRow("foreign spacing and key order")
        << QByteArray("{\"bar_set\": [], \"name\": \"foo-1\"}") << QByteArray("{\"name\":\"foo-1\",\"bar_set\":[]}");
    QTest::addRow("escapes") << fooBody("caf\xc3\xa9 \\u0001") << fooBody("tab\\t, quote \\\" and \\u2028");
}

void TestComparePanel::savesExactBytes()
{
    QFETCH(QByteArray, cachedBody);
    QFETCH(QByteArray, liveBody);
    ComparePanel panel;
    panel.setComparison(comparisonOf(cachedBody, liveBody));
    QSignalSpy messages(&panel, &ComparePanel::message);
    const QString cachedFile = m_dir.filePath(QStringLiteral("%1-cached.json").arg(QTest::currentDataTag()));
    const QString liveFile = m_dir.filePath(QStringLiteral("%1-live.json").arg(QTest::currentDataTag()));
    const QString prettyFile = m_dir.filePath(QStringLiteral("%1-pretty.json").arg(QTest::currentDataTag()));

    QVERIFY(panel.saveSide(ComparePanel::Side::Cached, cachedFile, ComparePanel::Format::Compact));
    QCOMPARE(readAll(cachedFile), cachedBody);
    QVERIFY(panel.saveSide(ComparePanel::Side::Live, liveFile, ComparePanel::Format::Compact));
    QCOMPARE(readAll(liveFile), liveBody);
    QCOMPARE(messages.size(), 2);
    QCOMPARE(messages.last().at(1).toBool(), false);
    QVERIFY(messages.last().at(0).toString().contains(liveFile));

    // Pretty: the pane's text, which reads back as the same value.
    QVERIFY(panel.saveSide(ComparePanel::Side::Live, prettyFile, ComparePanel::Format::Pretty));
    const QByteArray pretty = readAll(prettyFile);
    QCOMPARE(pretty, panel.liveView()->document().text.toUtf8() + '\n');
    QVERIFY(pretty.count('\n') > 1 || liveBody.size() < 40);
    QCOMPARE(writeCompactJson(parsed(pretty), false), liveBody);
}

void TestComparePanel::saveErrorsAreReportedAndLoseNothing()
{
    ComparePanel panel;
    const QByteArray body = fooBody("bar-1");
    panel.setComparison(comparisonOf(body, body));
    QSignalSpy messages(&panel, &ComparePanel::message);

    const QString missingDirectory = m_dir.filePath(QStringLiteral("no/such/dir/foo.json"));
    QVERIFY(!panel.saveSide(ComparePanel::Side::Live, missingDirectory, ComparePanel::Format::Compact));
    QCOMPARE(messages.size(), 1);
    QCOMPARE(messages.last().at(1).toBool(), true);
    QVERIFY2(messages.last().at(0).toString().contains(missingDirectory), qPrintable(messages.last().at(0).toString()));

    // A directory where the file should go: refused, and the directory is still there.
    const QString directory = m_dir.filePath(QStringLiteral("a-directory"));
    QVERIFY(QDir().mkpath(directory));
    QVERIFY(!panel.saveSide(ComparePanel::Side::Cached, directory, ComparePanel::Format::Compact));
    QCOMPARE(messages.last().at(1).toBool(), true);
    QVERIFY(QFileInfo(directory).isDir());

    // Nothing lost: the panes still hold both sides, and a good path works.
    QVERIFY(panel.liveView()->hasDocument());
    const QString good = m_dir.filePath(QStringLiteral("retry.json"));
    QVERIFY(panel.saveSide(ComparePanel::Side::Cached, good, ComparePanel::Format::Compact));
    QCOMPARE(readAll(good), body);
}

void TestComparePanel::nothingToSave()
{
    ComparePanel panel;
    QSignalSpy messages(&panel, &ComparePanel::message);
    const QString file = m_dir.filePath(QStringLiteral("never.json"));
    QVERIFY(!panel.saveSide(ComparePanel::Side::Live, file, ComparePanel::Format::Compact));
    panel.setComparison(comparisonOf(QByteArray(), fooBody("bar-1"))); // not cached
    QVERIFY(!panel.saveSide(ComparePanel::Side::Cached, file, ComparePanel::Format::Compact));
    QCOMPARE(messages.size(), 2);
    QCOMPARE(messages.last().at(1).toBool(), true);
    QVERIFY(!QFile::exists(file));
    QVERIFY(panel.sideBytes(ComparePanel::Side::Cached, ComparePanel::Format::Compact).isEmpty());
}

// One 200,000-character name: the Live pane offers the file instead of laying out the line; the
// Cached pane, the summary and the list of differences work as usual.
void TestComparePanel::longLineShowsSavePlaceholder()
{
    ComparePanel panel;
    panel.resize(900, 600);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    const QByteArray cachedBody = fooBody("bar-1");
    const QByteArray liveBody = fooBody(QByteArray(200000, 'x'));
    panel.setComparison(comparisonOf(cachedBody, liveBody));

    JsonView *live = panel.liveView();
    QVERIFY(panel.isOversized(ComparePanel::Side::Live));
    QVERIFY(!live->hasDocument());
    QVERIFY(live->saveButton()->isVisibleTo(&panel));
    const int longest = longestLine(formatJson(parsed(liveBody)));
    QVERIFY(longest > 200000);
    QVERIFY2(live->placeholder().contains(QLocale().toString(longest)), qPrintable(live->placeholder()));
    QVERIFY(!panel.isOversized(ComparePanel::Side::Cached));
    QVERIFY(panel.cachedView()->hasDocument());
    QVERIFY(!panel.cachedView()->saveButton()->isVisibleTo(&panel));
    QVERIFY(panel.differenceList()->isVisibleTo(&panel));
    QCOMPARE(panel.differenceList()->count(), 1);
    panel.nextDifference();
    QCOMPARE(panel.differenceList()->currentRow(), 0);
    QVERIFY(panel.summaryText().contains(QStringLiteral("1 change")));

    // The button saves that side, through the file chooser.
    QSignalSpy messages(&panel, &ComparePanel::message);
    const QString file = m_dir.filePath(QStringLiteral("huge-live.json"));
    ComparePanel::Side asked = ComparePanel::Side::Cached;
    panel.setFileChooser([&](ComparePanel::Side side, ComparePanel::Format *format) {
        asked = side;
        *format = ComparePanel::Format::Compact;
        return file;
    });
    QTest::mouseClick(live->saveButton(), Qt::LeftButton);
    QVERIFY(asked == ComparePanel::Side::Live);
    QCOMPARE(readAll(file), liveBody);
    QCOMPARE(messages.size(), 1);
    QCOMPARE(messages.last().at(1).toBool(), false);

    // Within a higher limit the same side is laid out again.
    panel.setLayoutLimits(ComparePanel::defaultMaxLaidOutBytes, 300000);
    QVERIFY(!panel.isOversized(ComparePanel::Side::Live));
    QVERIFY(live->hasDocument());
    QVERIFY(!live->saveButton()->isVisibleTo(&panel));
}

void TestComparePanel::largeBodyShowsSavePlaceholder()
{
    ComparePanel panel;
    const QByteArray cachedBody = fooBody("bar-1");
    const QByteArray liveBody = fooBody("bar-1-but-longer");
    panel.setComparison(comparisonOf(cachedBody, liveBody));
    QVERIFY(!panel.isOversized(ComparePanel::Side::Cached));
    QVERIFY(!panel.isOversized(ComparePanel::Side::Live));
    // A limit between the two sizes: only the larger side is refused.
    panel.setLayoutLimits((cachedBody.size() + liveBody.size()) / 2, ComparePanel::defaultMaxLineLength);
    QVERIFY(!panel.isOversized(ComparePanel::Side::Cached));
    QVERIFY(panel.isOversized(ComparePanel::Side::Live));
    QVERIFY(panel.liveView()->placeholder().contains(QStringLiteral("more than")));
    // Saving does not need the layout.
    const QString file = m_dir.filePath(QStringLiteral("large-live.json"));
    QVERIFY(panel.saveSide(ComparePanel::Side::Live, file, ComparePanel::Format::Compact));
    QCOMPARE(readAll(file), liveBody);
    // A new comparison under the same limits is judged again.
    panel.setComparison(comparisonOf(cachedBody, cachedBody));
    QVERIFY(!panel.isOversized(ComparePanel::Side::Live));
}

// Ctrl+F over the panes: every match counted in the target pane and tinted in both, "2 of 3" as
// Enter walks them, the wrap said aloud, the search kept for the next document, Esc clearing it all.
void TestComparePanel::findBarCountsStepsAndWraps()
{
    ComparePanel panel;
    panel.resize(900, 600);
    panel.show();
    panel.activateWindow(); // focus goes to the active window only
    QVERIFY(QTest::qWaitForWindowActive(&panel));
    panel.setComparison(comparisonOf(fooBody("bar-1"), fooBody("baz-9")));
    FindBar *bar = panel.findBar();
    QVERIFY(bar->isHidden());
    panel.cachedView()->setFocus();
    panel.find();
    QVERIFY(bar->isVisible());
    QCOMPARE(bar->target(), panel.cachedView());
    QTRY_VERIFY(bar->edit()->hasFocus());
    QTest::keyClicks(bar->edit(), QStringLiteral("BAZ-"));
    // Case ignored: the cached body holds baz-1 and baz-2; the live one baz-9 too.
    QCOMPARE(panel.cachedView()->matchCount(), 2);
    QCOMPARE(panel.liveView()->matchCount(), 3);
    QCOMPARE(bar->countText(), QStringLiteral("1 of 2"));
    QTest::keyClick(bar->edit(), Qt::Key_Return);
    QCOMPARE(bar->countText(), QStringLiteral("2 of 2"));
    const int line = panel.cachedView()->document().text.left(
        panel.cachedView()->document().text.indexOf(QLatin1String("baz-2"))).count(QLatin1Char('\n'));
    QVERIFY(line >= panel.cachedView()->topLine()); // on screen
    QTest::keyClick(bar->edit(), Qt::Key_Return);
    QCOMPARE(bar->countText(), QStringLiteral("1 of 2 (wrapped)"));
    QTest::keyClick(bar->edit(), Qt::Key_Return, Qt::ShiftModifier);
    QCOMPARE(bar->countText(), QStringLiteral("2 of 2 (wrapped)"));

    // The live pane as the target.
    panel.liveView()->setFocus();
    QTRY_VERIFY(panel.liveView()->hasFocus());
    panel.find();
    QCOMPARE(bar->target(), panel.liveView());
    panel.findNext();
    QVERIFY2(bar->countText().endsWith(QLatin1String("of 3")), qPrintable(bar->countText()));

    // Another Foo: the search stays and counts again.
    panel.setComparison(comparisonOf(fooBody("bar-1"), fooBody("bar-1")));
    QCOMPARE(panel.liveView()->matchCount(), 2);
    bar->edit()->setText(QStringLiteral("no such text"));
    QCOMPARE(bar->countText(), QStringLiteral("No matches"));
    QTest::keyClick(bar->edit(), Qt::Key_Escape);
    QVERIFY(bar->isHidden());
    QCOMPARE(panel.cachedView()->matchCount(), 0);
    QCOMPARE(panel.liveView()->matchCount(), 0);
}

// "3 of 12" beside the arrows, and a wrap round either end said, never silent.
void TestComparePanel::f7SaysWhereItIsAndWhenItWraps()
{
    ComparePanel panel;
    panel.setComparison(comparisonOf(fooBody("bar-1"), fooBody("bar-X").replace("baz-2", "baz-3")));
    const int count = panel.differenceList()->count();
    QVERIFY(count >= 2);
    QCOMPARE(panel.differencePosition(), QStringLiteral("%1 differences").arg(count));
    QSignalSpy messages(&panel, &ComparePanel::message);
    panel.nextDifference();
    QCOMPARE(panel.differencePosition(), QStringLiteral("1 of %1").arg(count));
    for (int i = 1; i < count; ++i)
        panel.nextDifference();
    QCOMPARE(panel.differencePosition(), QStringLiteral("%1 of %1").arg(count));
    QVERIFY(messages.isEmpty());
    panel.nextDifference();
    QCOMPARE(panel.differencePosition(), QStringLiteral("1 of %1").arg(count));
    QCOMPARE(messages.size(), 1);
    QVERIFY(messages.at(0).at(0).toString().contains(QLatin1String("back at the first")));
    panel.previousDifference();
    QCOMPARE(panel.differencePosition(), QStringLiteral("%1 of %1").arg(count));
    QCOMPARE(messages.size(), 2);
    panel.setComparison(comparisonOf(fooBody("bar-1"), fooBody("bar-1")));
    QCOMPARE(panel.differencePosition(), QString());
}

// The pane with the keyboard focus is framed in the highlight colour; the other is not.
void TestComparePanel::focusedPaneHasAFrame()
{
    ComparePanel panel;
    panel.resize(900, 600);
    panel.show();
    panel.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&panel));
    panel.setComparison(comparisonOf(fooBody("bar-1"), fooBody("baz-9")));
    const QColor highlight = panel.palette().color(QPalette::Highlight);
    const auto framed = [&](JsonView *view) {
        const QImage image = view->viewport()->grab().toImage();
        return QColor(image.pixel(1, image.height() / 2)) == highlight && QColor(image.pixel(image.width() - 2, 1)) == highlight;
    };
    panel.liveView()->setFocus();
    QTRY_VERIFY(panel.liveView()->hasFocus());
    QTRY_VERIFY(framed(panel.liveView()));
    QVERIFY(!framed(panel.cachedView()));
    panel.cachedView()->setFocus();
    QTRY_VERIFY(framed(panel.cachedView()));
    QVERIFY(!framed(panel.liveView()));
}

// Find with Case on, then another Foo: its matches are found with Case still on.
void TestComparePanel::newDocumentKeepsTheCaseOption()
{
    ComparePanel panel;
    panel.resize(900, 600);
    panel.show();
    panel.setComparison(comparisonOf(fooBody("bar-1"), fooBody("baz-9")));
    JsonView *view = panel.cachedView();
    QCOMPARE(view->setFindText(QStringLiteral("BAZ-"), Qt::CaseSensitive), 0);
    QCOMPARE(view->setFindText(QStringLiteral("BAZ-"), Qt::CaseInsensitive), 2);
    view->setFindText(QStringLiteral("BAZ-"), Qt::CaseSensitive);
    panel.setComparison(comparisonOf(fooBody("bar-2"), fooBody("baz-9")));
    QCOMPARE(view->findSensitivity(), Qt::CaseSensitive);
    QCOMPARE(view->matchCount(), 0);
}

// A match after combining accents and wide characters is tinted where its characters are drawn
// (by the font's advances), not a column count of average widths further right.
void TestComparePanel::tintsFollowWideCharacters()
{
    ComparePanel panel;
    panel.resize(900, 600);
    panel.show();
    const QByteArray wide = QString::fromUtf16(u"{\"name\":\"e\u0301e\u0301e\u0301e\u0301e\u0301e\u0301\u5bbd\u5bbd zz\",\"bar_set\":[]}").toUtf8();
    panel.setComparison(comparisonOf(wide, wide));
    JsonView *view = panel.cachedView();
    int line = -1;
    for (int i = 0; i < view->document().lineCount(); ++i) {
        if (view->document().line(i).contains(u"zz"))
            line = i;
    }
    QVERIFY(line >= 0);
    const QStringView text = view->document().line(line);
    const int column = int(text.indexOf(u"zz"));
    const QFontMetrics metrics(view->font());
    const int start = view->xOfColumn(line, 0);
    int spaces = 0;
    while (text.at(spaces) == QLatin1Char(' '))
        ++spaces;
    const int drawn = spaces * metrics.horizontalAdvance(QLatin1Char(' '))
        + metrics.horizontalAdvance(text.mid(spaces, column - spaces).toString());
    QVERIFY(qAbs(drawn - column * metrics.horizontalAdvance(QLatin1Char('0'))) > 8); // wide enough to tell
    QCOMPARE(view->xOfColumn(line, column) - start, drawn);
}

// Not cached: the find bar searches the Live pane, never "No matches" beside a pane full of them.
void TestComparePanel::findSearchesTheSideThereIs()
{
    ComparePanel panel;
    panel.resize(900, 600);
    panel.show();
    panel.setComparison(comparisonOf(QByteArray(), fooBody("baz-9")));
    QVERIFY(!panel.cachedView()->hasDocument());
    panel.find();
    QCOMPARE(panel.findBar()->target(), panel.liveView());
    QTest::keyClicks(panel.findBar()->edit(), QStringLiteral("baz-"));
    QCOMPARE(panel.findBar()->countText(), QStringLiteral("1 of 3"));
}

QTEST_MAIN(TestComparePanel)
#include "tst_comparepanel.moc"
