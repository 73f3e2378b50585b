// What FooTreeModel's rows show: names made safe for any view (escaped controls, separators and
// bidirectional controls, elided when long, whole in the tooltip, raw in RawNameRole), and the
// outcome of verify jobs landing row by row from a real CacheService.

#include "cache/cacheservice.h"
#include "items/foofilterproxymodel.h"
#include "items/foorowstate.h"
#include "items/footreemodel.h"
#include "items/itemformat.h"
#include "treefixture.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

#include <algorithm>

namespace {

bool unsafe(QChar c)
{
    const char16_t u = c.unicode();
    return u < 0x20 || (u >= 0x7f && u <= 0x9f) || u == 0x2028 || u == 0x2029 || (u >= 0x202a && u <= 0x202e)
        || (u >= 0x2066 && u <= 0x2069) || u == 0x200e || u == 0x200f || u == 0xfeff;
}

QList<qint64> integers(Database &database, const QString &sql)
{
    QList<qint64> out;
    for (const auto &[id, name] : queryRows(database, sql))
        out << id;
    return out;
}

// A fresh status for every loaded Foo row, each with its own digest.
QList<EntryStatus> freshStatuses(const FooTreeModel &model)
{
    QList<EntryStatus> statuses;
    for (int row = 0; row < model.rowCount(); ++row) {
        EntryStatus status;
        status.pk = model.index(row, 0).data(FooTreeModel::IdRole).toLongLong();
        status.state = EntryState::Fresh;
        status.reason = QStringLiteral("no tracked change");
        status.digest = "digest-" + QByteArray::number(status.pk);
        statuses << status;
    }
    return statuses;
}

} // namespace

class TestFooTreeRows : public QObject {
    Q_OBJECT

private slots:
    void visibleText_data();
    void visibleText();
    void elideText_data();
    void elideText();
    void hardNamesAreSafe();
    void verifyResultsLandPerRow();
    void neverShownFresherThanKnown();
    void statesAreTheLastWholeRead();
    void heldRowsStayUnderTheFilter();
};

void TestFooTreeRows::visibleText_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("shown");
    QTest::addRow("plain") << QStringLiteral("foo-12") << QStringLiteral("foo-12");
    QTest::addRow("newline") << QStringLiteral("new\nline") << QStringLiteral("new\\nline");
    QTest::addRow("cr tab bs ff") << QStringLiteral("a\r\t\b\f") << QStringLiteral("a\\r\\t\\b\\f");
    QTest::addRow("C0") << QStringLiteral("ctl \x01\x1f") << QStringLiteral("ctl \\u0001\\u001f");
    QTest::addRow("DEL and C1") << QString::fromUtf16(u"del\x7f nel\x85") << QStringLiteral("del\\u007f nel\\u0085");
    QTest::addRow("line and paragraph separators") << QString::fromUtf16(u"LS\u2028PS\u2029") << QStringLiteral("LS\\u2028PS\\u2029");
    QTest::addRow("right-to-left override") << QString::fromUtf16(u"abc\u202Etxt.exe") << QStringLiteral("abc\\u202etxt.exe");
    QTest::addRow("isolates and marks") << QString::fromUtf16(u"\u2066x\u2069\u200F") << QStringLiteral("\\u2066x\\u2069\\u200f");
    QTest::addRow("BOM") << QChar(0xfeff) + QStringLiteral("bom") << QStringLiteral("\\ufeffbom");
    QTest::addRow("backslash stays") << QStringLiteral("back\\slash\\") << QStringLiteral("back\\slash\\");
    QTest::addRow("Arabic stays") << QString::fromUtf16(u"\u0627\u0644\u0639\u0631\u0628\u064A\u0629")
                                  << QString::fromUtf16(u"\u0627\u0644\u0639\u0631\u0628\u064A\u0629");
    QTest::addRow("emoji with ZWJ stays") << QString::fromUtf16(u"\U0001F469\u200D\U0001F4BB") << QString::fromUtf16(u"\U0001F469\u200D\U0001F4BB");
    QTest::addRow("no-break space stays") << QString::fromUtf16(u"\u00A0x") << QString::fromUtf16(u"\u00A0x");
}

void TestFooTreeRows::visibleText()
{
    QFETCH(QString, text);
    QFETCH(QString, shown);
    QCOMPARE(::visibleText(text), shown);
}

void TestFooTreeRows::elideText_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("maxLength");
    QTest::addColumn<QString>("shown");
    QTest::addRow("short") << QStringLiteral("abc") << 5 << QStringLiteral("abc");
    QTest::addRow("exactly") << QStringLiteral("abcde") << 5 << QStringLiteral("abcde");
    QTest::addRow("cut") << QStringLiteral("abcdef") << 5 << QString::fromUtf16(u"abcd\u2026");
    // 😀 is two UTF-16 units: never half of one.
    QTest::addRow("surrogate pair") << QString::fromUtf16(u"ab\U0001F600\U0001F600") << 4 << QString::fromUtf16(u"ab\u2026");
    QTest::addRow("combining mark") << QString::fromUtf16(u"abce\u0301f") << 5 << QString::fromUtf16(u"abc\u2026");
}

void TestFooTreeRows::elideText()
{
    QFETCH(QString, text);
    QFETCH(int, maxLength);
    QFETCH(QString, shown);
    const QString elided = ::elideText(text, maxLength);
    QCOMPARE(elided, shown);
    QVERIFY(elided.size() <= maxLength);
}

// Every hard name of the demo, a very long one and a spoofing one, at the Foo and the Bar level:
// DisplayRole is one line without controls, at most maxNameLength long; the tooltip (rich text,
// escaped) has the whole name; RawNameRole the stored one.
void TestFooTreeRows::hardNamesAreSafe()
{
    TestSqlite database;
    QList<QByteArray> names = Seeder::hardNames();
    names << QByteArray(300, 'y') << QByteArray("invoice\xE2\x80\xAEgpj.exe") << QByteArray("a\nb").repeated(100);
    for (QByteArray &name : names) {
        if (name.isNull())
            name = QByteArray(""); // empty, not NULL (the column is NOT NULL)
    }
    for (const QByteArray &name : std::as_const(names))
        database.addBar(database.addFoo(name), name);
    FooTreeModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setDatabase(database.config());
    QVERIFY(waitUntilIdle(model));
    QCOMPARE(model.rowCount(), names.size());
    int elided = 0;
    for (int row = 0; row < model.rowCount(); ++row) {
        const QModelIndex foo = model.index(row, 0);
        model.fetchMore(foo);
        QVERIFY(waitUntilIdle(model));
        for (const QModelIndex &index : { foo, model.index(0, 0, foo) }) {
            const QString raw = QString::fromUtf8(names[row]);
            QCOMPARE(index.data(FooTreeModel::RawNameRole).toString(), raw);
            const QString shown = index.data().toString();
            QVERIFY2(std::none_of(shown.cbegin(), shown.cend(), unsafe), qPrintable(shown));
            QVERIFY(shown.size() <= FooTreeModel::maxNameLength);
            const QString whole = ::visibleText(raw);
            if (whole.size() > FooTreeModel::maxNameLength) {
                ++elided;
                QVERIFY(shown.endsWith(QChar(0x2026)));
                QVERIFY(whole.startsWith(shown.chopped(1)));
            } else {
                QCOMPARE(shown, whole);
            }
            const QString tip = index.data(Qt::ToolTipRole).toString();
            if (!raw.isEmpty()) {
                QVERIFY2(tip.startsWith(QLatin1String("<qt>")) && tip.contains(whole.toHtmlEscaped()), qPrintable(tip));
                QVERIFY(!tip.contains(QLatin1String("<b>")));
            }
        }
    }
    QCOMPARE(elided, 2 * 2); // the 300 y and the repeated a\nb, each as Foo and Bar
}

// verify() of three Foos (one changed behind the cache, one unchanged, one never cached): each row
// shows its outcome (state column and tooltip) as its result arrives, before the job ends, without a
// reset; a refresh clears the outcome, and so does a status whose entry is no longer the one verified.
void TestFooTreeRows::verifyResultsLandPerRow()
{
    QTemporaryDir dir;
    DemoDatabase demo;
    QVERIFY(demo.seed(dir, QStringLiteral("small")));
    const qint64 changed = integers(*demo.database, QStringLiteral("SELECT b.foo_id, 'x' FROM api_bar b JOIN api_zab z ON z.bar_id = b.id "
                                                                     "JOIN api_zab_bazs l ON l.zab_id = z.id ORDER BY b.foo_id LIMIT 1")).value(0);
    const QList<qint64> empty = integers(*demo.database, QStringLiteral("SELECT id, 'x' FROM api_foo WHERE id NOT IN "
                                                                          "(SELECT foo_id FROM api_bar) ORDER BY id"));
    QVERIFY(changed > 0);
    QVERIFY(empty.size() >= 2);
    const qint64 same = empty[0];
    const qint64 uncached = empty[1];

    CacheConfig config;
    config.database = demo.config;
    config.watch = false;
    CacheService service(config);
    FooTreeModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setService(&service);
    model.setDatabase(demo.config);
    QVERIFY(waitUntilIdle(model));
    QSignalSpy finished(&service, &CacheService::jobFinished);
    service.refresh({ changed, same });
    QVERIFY(finished.wait(10000));
    auto rename = demo.database->prepare(QStringLiteral(
        "UPDATE api_baz SET name = 'renamed behind the cache' WHERE id = (SELECT l.baz_id FROM api_bar b JOIN api_zab z "
        "ON z.bar_id = b.id JOIN api_zab_bazs l ON l.zab_id = z.id WHERE b.foo_id = ? ORDER BY l.baz_id LIMIT 1)"));
    QVERIFY2(rename, qPrintable(why(rename)));
    (*rename)->bind(0, changed);
    QVERIFY((*rename)->exec());

    const auto verdict = [&](qint64 pk) {
        const QVariant value = model.fooIndex(pk).data(FooTreeModel::VerdictRole);
        return value.isValid() ? FooTreeModel::Verdict(value.toInt()) : FooTreeModel::Verdict::None;
    };
    QList<qint64> landed; // the Foos whose verdict was there when the job finished, in order of arrival
    bool jobOver = false;
    QObject context;
    connect(&model, &QAbstractItemModel::dataChanged, &context, [&](const QModelIndex &topLeft) {
        const qint64 pk = topLeft.data(FooTreeModel::IdRole).toLongLong();
        if (!jobOver && verdict(pk) != FooTreeModel::Verdict::None && !landed.contains(pk))
            landed << pk;
    });
    connect(&service, &CacheService::jobFinished, &context, [&] { jobOver = true; });
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    finished.clear();
    service.verify({ changed, same, uncached });
    QVERIFY(finished.wait(10000));
    QCOMPARE(finished.at(0).at(0).value<JobSummary>().failed, 1);
    QCOMPARE(QSet<qint64>(landed.cbegin(), landed.cend()), (QSet<qint64> { changed, same, uncached }));
    QCOMPARE(reset.size(), 0);

    QCOMPARE(verdict(changed), FooTreeModel::Verdict::Differs);
    QCOMPARE(verdict(same), FooTreeModel::Verdict::Identical);
    QCOMPARE(verdict(uncached), FooTreeModel::Verdict::Failed);
    const QString differs = model.fooIndex(changed).data(FooTreeModel::VerdictTextRole).toString();
    QVERIFY2(differs.contains(QLatin1String("differs")) && differs.contains(QLatin1String("renamed behind the cache")), qPrintable(differs));
    QVERIFY(model.fooIndex(changed, FooTreeModel::StateColumn).data().toString().endsWith(QLatin1String("differs")));
    QVERIFY(model.fooIndex(changed, FooTreeModel::StateColumn).data(Qt::ToolTipRole).toString().contains(QLatin1String("renamed behind the cache")));
    const QString failure = model.fooIndex(uncached, FooTreeModel::IdColumn).data(Qt::ToolTipRole).toString();
    QVERIFY2(failure.contains(QLatin1String("no cache entry")), qPrintable(failure));
    QVERIFY(model.fooIndex(same, FooTreeModel::StateColumn).data().toString().contains(QLatin1String("identical")));

    // A status of another entry than the one verified: the verdict says nothing about it any more.
    auto statuses = service.status();
    QVERIFY2(statuses, qPrintable(why(statuses)));
    model.updateStates(*statuses); // the same entries: verdicts stay
    QCOMPARE(verdict(same), FooTreeModel::Verdict::Identical);
    EntryState sameState = EntryState::Unknown;
    for (EntryStatus &status : *statuses) {
        if (status.pk == same) {
            status.digest = "another entry";
            sameState = status.state;
        }
    }
    model.updateStates(*statuses);
    QCOMPARE(verdict(same), FooTreeModel::Verdict::None);
    QCOMPARE(model.fooIndex(same, FooTreeModel::StateColumn).data().toString(), entryStateName(sameState));

    // A refresh that succeeds clears the outcome, row by row.
    QSignalSpy rowChanged(&model, &QAbstractItemModel::dataChanged);
    finished.clear();
    service.refresh({ changed, uncached });
    QVERIFY(finished.wait(10000));
    QTRY_COMPARE(verdict(changed), FooTreeModel::Verdict::None);
    QCOMPARE(verdict(uncached), FooTreeModel::Verdict::None);
    QVERIFY(rowChanged.size() >= 2);

    // Without the service nothing follows it.
    model.setService(nullptr);
    finished.clear();
    service.verify({ same });
    QVERIFY(finished.wait(10000));
    QCOMPARE(verdict(same), FooTreeModel::Verdict::None);
}

// A status that says fresh and a verification of that same entry that says it differs: the row
// shows stale (colour, StateRole for the filter, tooltip). States that cannot be read: unknown for
// every row, with the reason and the last state read, until the next states arrive.
void TestFooTreeRows::neverShownFresherThanKnown()
{
    QTemporaryDir dir;
    DemoDatabase demo;
    QVERIFY(demo.seed(dir, QStringLiteral("small")));
    FooTreeModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setDatabase(demo.config);
    QVERIFY(waitUntilIdle(model));
    QVERIFY(model.rowCount() >= 2);
    QList<EntryStatus> statuses = freshStatuses(model);
    model.updateStates(statuses);
    const qint64 pk = statuses[0].pk;
    const qint64 other = statuses[1].pk;
    const auto state = [&](qint64 foo) { return EntryState(model.fooIndex(foo).data(FooTreeModel::StateRole).toInt()); };
    QCOMPARE(state(pk), EntryState::Fresh);

    Verification verification;
    verification.digest = statuses[0].digest;
    verification.summary = QStringLiteral("2 changes");
    verification.at = QDateTime::currentDateTimeUtc();
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    model.setVerification(pk, verification);
    QVERIFY(!changed.isEmpty());
    QCOMPARE(state(pk), EntryState::Stale);
    const QModelIndex cell = model.fooIndex(pk, FooTreeModel::StateColumn);
    QCOMPARE(cell.data().toString(), QStringLiteral("stale · differs"));
    QCOMPARE(cell.data(Qt::ForegroundRole).value<QColor>(), stateColor(EntryState::Stale));
    QVERIFY2(cell.data(FooTreeModel::ReasonRole).toString().contains(QLatin1String("verified different")),
             qPrintable(cell.data(FooTreeModel::ReasonRole).toString()));
    QCOMPARE(state(other), EntryState::Fresh);
    // Counted as shown, and found by the console's "Foreign / differs" filter.
    int foreignOrDiffering = 0;
    const QHash<EntryState, int> counts = model.stateCounts(&foreignOrDiffering);
    QCOMPARE(counts.value(EntryState::Stale), 1);
    QCOMPARE(counts.value(EntryState::Fresh), int(statuses.size()) - 1);
    QCOMPARE(foreignOrDiffering, 1);
    FooFilterProxyModel proxy;
    proxy.setSourceModel(&model);
    proxy.setStateFilter({ EntryState::Foreign }, true);
    QCOMPARE(proxy.rowCount(), 1);
    QCOMPARE(proxy.index(0, 0).data(FooTreeModel::IdRole).toLongLong(), pk);
    proxy.setStateFilter({ EntryState::Foreign }, false);
    QCOMPARE(proxy.rowCount(), 0);
    model.updateStates(statuses); // the same entry still: still not fresh
    QCOMPARE(state(pk), EntryState::Stale);
    statuses[0].digest = "refreshed"; // another entry now: the verdict no longer speaks of it
    model.updateStates(statuses);
    QCOMPARE(state(pk), EntryState::Fresh);

    changed.clear();
    model.setStatesUnreadable(QStringLiteral("cannot read the cache states: Redis is down"));
    QVERIFY(!model.statesReadable());
    QVERIFY(!changed.isEmpty());
    for (int row = 0; row < model.rowCount(); ++row) {
        const QModelIndex foo = model.index(row, FooTreeModel::StateColumn);
        QCOMPARE(EntryState(foo.data(FooTreeModel::StateRole).toInt()), EntryState::Unknown);
        QCOMPARE(foo.data().toString(), QStringLiteral("unknown"));
        QCOMPARE(foo.data(Qt::ForegroundRole).value<QColor>(), stateColor(EntryState::Unknown));
        QCOMPARE(foo.data(FooTreeModel::ReasonRole).toString(),
                 QStringLiteral("cannot read the cache states: Redis is down (last read as fresh)"));
    }
    model.updateStates(statuses);
    QVERIFY(model.statesReadable());
    QCOMPARE(state(pk), EntryState::Fresh);
}

// Each read of the states replaces the last: a Foo it does not list (created since, or the read
// came from another connection) shows unknown and is found by the "Not fresh" and "Unknown"
// filters; another connection starts with no states at all, not the old one's.
void TestFooTreeRows::statesAreTheLastWholeRead()
{
    QTemporaryDir dir;
    DemoDatabase demo;
    QVERIFY(demo.seed(dir, QStringLiteral("small")));
    FooTreeModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setDatabase(demo.config);
    QVERIFY(waitUntilIdle(model));
    QVERIFY(model.rowCount() >= 3);
    const QModelIndex firstState = model.index(0, FooTreeModel::StateColumn);
    QVERIFY(!firstState.data(FooTreeModel::StateRole).isValid()); // not read yet: no state shown
    QList<EntryStatus> statuses = freshStatuses(model);
    model.updateStates(statuses);
    const auto state = [&](qint64 foo) { return model.fooIndex(foo).data(FooTreeModel::StateRole); };
    const qint64 gone = statuses.takeLast().pk;
    QCOMPARE(state(gone).toInt(), int(EntryState::Fresh));
    model.updateStates(statuses);
    QCOMPARE(state(gone).toInt(), int(EntryState::Unknown));
    const QModelIndex cell = model.fooIndex(gone, FooTreeModel::StateColumn);
    QCOMPARE(cell.data().toString(), QStringLiteral("unknown"));
    QCOMPARE(cell.data(Qt::ForegroundRole).value<QColor>(), stateColor(EntryState::Unknown));
    QVERIFY2(cell.data(FooTreeModel::ReasonRole).toString().contains(QLatin1String("not among the states last read")),
             qPrintable(cell.data(FooTreeModel::ReasonRole).toString()));
    QCOMPARE(model.stateCounts().value(EntryState::Fresh), int(statuses.size()));
    FooFilterProxyModel proxy;
    proxy.setSourceModel(&model);
    QSet<EntryState> notFresh { EntryState::Stale, EntryState::Missing, EntryState::Corrupt, EntryState::Foreign,
                                EntryState::Unknown };
    proxy.setStateFilter(notFresh, false);
    QCOMPARE(proxy.rowCount(), 1);
    QCOMPARE(proxy.index(0, 0).data(FooTreeModel::IdRole).toLongLong(), gone);
    proxy.setStateFilter({ EntryState::Fresh }, false);
    QCOMPARE(proxy.rowCount(), int(statuses.size()));

    Verification verification;
    verification.digest = statuses[0].digest;
    verification.summary = QStringLiteral("2 changes");
    verification.at = QDateTime::currentDateTimeUtc();
    model.setVerification(statuses[0].pk, verification);
    QCOMPARE(state(statuses[0].pk).toInt(), int(EntryState::Stale));
    model.setDatabase(demo.config); // another connection (here the same file): nothing carried over
    QVERIFY(model.stateCounts().isEmpty());
    QVERIFY(waitUntilIdle(model));
    QVERIFY(!state(statuses[0].pk).isValid());
    QVERIFY(model.fooIndex(statuses[0].pk, FooTreeModel::StateColumn).data().toString().isEmpty());
}

// While held (a job runs), a Foo shown under the Stale filter stays when it turns fresh, a Foo that
// turns stale joins; released, the filter applies again.
void TestFooTreeRows::heldRowsStayUnderTheFilter()
{
    QTemporaryDir dir;
    DemoDatabase demo;
    QVERIFY(demo.seed(dir, QStringLiteral("small")));
    FooTreeModel model;
    model.setDatabase(demo.config);
    QVERIFY(waitUntilIdle(model));
    FooFilterProxyModel proxy;
    QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    proxy.setSourceModel(&model);
    QList<EntryStatus> statuses = freshStatuses(model);
    for (int row = 0; row < 3; ++row)
        statuses[row].state = EntryState::Stale;
    model.updateStates(statuses);
    proxy.setStateFilter({ EntryState::Stale });
    QCOMPARE(proxy.rowCount(), 3);
    proxy.setHeld(true);
    statuses[0].state = EntryState::Fresh; // refreshed by the job
    statuses[1].state = EntryState::Fresh;
    statuses[5].state = EntryState::Stale; // changed meanwhile
    model.updateStates(statuses);
    QCOMPARE(proxy.rowCount(), 4);
    QList<qint64> shown;
    for (int row = 0; row < proxy.rowCount(); ++row)
        shown << proxy.index(row, 0).data(FooTreeModel::IdRole).toLongLong();
    QVERIFY(shown.contains(statuses[0].pk) && shown.contains(statuses[1].pk) && shown.contains(statuses[5].pk));
    proxy.setHeld(false);
    QCOMPARE(proxy.rowCount(), 2);
    QCOMPARE(proxy.index(0, 0).data(FooTreeModel::IdRole).toLongLong(), statuses[2].pk);
    QCOMPARE(proxy.index(1, 0).data(FooTreeModel::IdRole).toLongLong(), statuses[5].pk);
}

QTEST_GUILESS_MAIN(TestFooTreeRows)
#include "tst_footreerows.moc"
