// QAbstractItemModelTester on every item model of the console, filled with the seeded demo data
// (`small` and `medium`, Seeder's sizes), with fetchMore in batches and without: FooTreeModel,
// FooFilterProxyModel (name/id filter, state filter, sorting) and RequestLogModel fed by a real server.

#include "cache/cacheservice.h"
#include "http/httpserver.h"
#include "items/foofilterproxymodel.h"
#include "items/footreemodel.h"
#include "items/requestlogmodel.h"
#include "treefixture.h"

#include <QAbstractItemModelTester>
#include <QLoggingCategory>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QRandomGenerator>
#include <QTest>

#include <algorithm>
#include <functional>
#include <map>

using Tester = QAbstractItemModelTester;

namespace {

// A FooTreeModel under a FooFilterProxyModel, watched by a tester through a gate (which keeps it
// from loading every Foo's children).
struct WatchedProxy {
    WatchedProxy()
    {
        proxy.setSourceModel(&model);
        gate.setSourceModel(&proxy);
    }
    // Opens `database` and loads every Foo.
    bool load(const DatabaseConfig &database)
    {
        model.setDatabase(database);
        while (model.isLoading() || model.canFetchMore({})) {
            if (!waitUntilIdle(model))
                return false;
            model.fetchMore({});
        }
        return true;
    }

    FooTreeModel model;
    FooFilterProxyModel proxy;
    FetchGate gate;
    Tester tester { &gate, Tester::FailureReportingMode::QtTest };
};

} // namespace

class TestItemModelTester : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void bigFooInBatches_data();
    void bigFooInBatches();
    void proxy_data();
    void proxy();
    void proxyKeepsIndexesThroughScatteredChanges();
    void proxyFollowsRandomChanges_data();
    void proxyFollowsRandomChanges();
    void requestLog_data();
    void requestLog();

private:
    DemoDatabase &demo(const QString &scale) { return scale == QLatin1String("small") ? m_small : m_medium; }

    QTemporaryDir m_dir;
    DemoDatabase m_small;
    DemoDatabase m_medium;
    // 300 small Foos, seeded by the first test that needs them.
    bool seedMany()
    {
        return m_many.database || m_many.seed(m_dir, Seeder::Scale { QStringLiteral("many"), 300, 3, 2.0, 1, 1, 1, 1, 0, 0, 50 });
    }
    DemoDatabase m_many;
};

void TestItemModelTester::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QLoggingCategory::setFilterRules(QStringLiteral("preserve.http.info=false"));
    QElapsedTimer timer;
    timer.start();
    QVERIFY(m_small.seed(m_dir, QStringLiteral("small")));
    QVERIFY(m_medium.seed(m_dir, QStringLiteral("medium")));
    qInfo("seeded small and medium in %lld ms", timer.elapsed());
}

void TestItemModelTester::bigFooInBatches_data()
{
    QTest::addColumn<QString>("scale");
    QTest::addColumn<int>("batch");
    QTest::addColumn<bool>("autoFetch");
    QTest::addRow("small, batches of 4, fetchMore per batch") << QStringLiteral("small") << 4 << false;
    QTest::addRow("small, batches of 200") << QStringLiteral("small") << 200 << true;
    QTest::addRow("medium, batches of 60, fetchMore per batch") << QStringLiteral("medium") << 60 << false;
    QTest::addRow("medium, batches of 60, later batches follow") << QStringLiteral("medium") << 60 << true;
    QTest::addRow("medium, batches of 200") << QStringLiteral("medium") << 200 << true;
}

// The testers watch the model (through the gate) and the proxy from before the first row: the Foo
// level in batches, the biggest Foo opened (its Bars in several batches), one Bar and one Zab under
// it. Every level equals the database, and what the rows display is one line of text.
void TestItemModelTester::bigFooInBatches()
{
    QFETCH(QString, scale);
    QFETCH(int, batch);
    QFETCH(bool, autoFetch);
    DemoDatabase &db = demo(scale);
    FooTreeModel model;
    model.setBatchSize(batch);
    model.setAutoFetchChildren(autoFetch);
    FetchGate gate;
    gate.setSourceModel(&model);
    // The proxy works on a FooTreeModel itself; its own gate keeps the tester on it from fetching.
    FooFilterProxyModel proxy;
    proxy.setSourceModel(&model);
    proxy.sort(FooTreeModel::NameColumn, Qt::DescendingOrder);
    FetchGate proxyGate;
    proxyGate.setSourceModel(&proxy);
    Tester gateTester(&gate, Tester::FailureReportingMode::QtTest);
    Tester proxyTester(&proxyGate, Tester::FailureReportingMode::QtTest);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);

    model.setDatabase(db.config);
    // The testers fetch the top level as they walk it; a view scrolled to the end would do the same.
    while (model.isLoading() || model.canFetchMore({})) {
        QVERIFY(waitUntilIdle(model));
        gate.fetchMore({});
    }
    const IdNameRows foos = demoFoos(*db.database);
    QCOMPARE(model.rowCount(), foos.size());
    QCOMPARE(proxy.rowCount(), foos.size());

    int opened = 0;
    std::function<void(const QModelIndex &, int)> open = [&](const QModelIndex &node, int depth) {
        const QModelIndex source = gate.mapToSource(node);
        const auto kind = source.data(FooTreeModel::KindRole).value<FooTreeModel::Kind>();
        const IdNameRows expected = demoChildren(*db.database, kind, source.data(FooTreeModel::IdRole).toLongLong());
        QVERIFY(!expected.isEmpty());
        inserted.clear();
        gate.open(node);
        gate.fetchMore(node);
        while (model.isLoading() || gate.canFetchMore(node)) {
            QVERIFY(waitUntilIdle(model));
            gate.fetchMore(node);
        }
        ++opened;
        QCOMPARE(model.rowCount(source), expected.size());
        const qsizetype batches = std::count_if(inserted.cbegin(), inserted.cend(),
                                                [&](const QList<QVariant> &signal) { return signal.at(0).value<QModelIndex>() == source; });
        // Each batch asks for as many rows as the node holds already (FooTreeModel::setBatchSize).
        qsizetype planned = 0;
        for (qsizetype loaded = 0; loaded < expected.size(); ++planned)
            loaded += std::clamp<qsizetype>(loaded, batch, FooTreeModel::maxBatchSize);
        QCOMPARE(batches, planned);
        for (int row = 0; row < expected.size(); ++row) {
            const QModelIndex child = model.index(row, FooTreeModel::NameColumn, source);
            QCOMPARE(child.data(FooTreeModel::IdRole).toLongLong(), expected[row].first);
            QCOMPARE(child.data(FooTreeModel::RawNameRole).toString(), expected[row].second);
            const QString shown = child.data().toString();
            QVERIFY2(std::none_of(shown.cbegin(), shown.cend(), [](QChar c) { return c.unicode() < 0x20 || c == QChar(0x2028); }),
                     qPrintable(shown));
        }
        if (depth == 2 || kind == FooTreeModel::Kind::Zab)
            return;
        int fullest = 0; // the child with the most children of its own
        for (int row = 1; row < gate.rowCount(node); ++row) {
            if (gate.index(row, FooTreeModel::ChildrenColumn, node).data(FooTreeModel::SortRole).toLongLong()
                > gate.index(fullest, FooTreeModel::ChildrenColumn, node).data(FooTreeModel::SortRole).toLongLong())
                fullest = row;
        }
        open(gate.index(fullest, 0, node), depth + 1);
    };
    const QModelIndex biggest = gate.mapFromSource(model.fooIndex(biggestFoo(*db.database)));
    QVERIFY(biggest.isValid());
    open(biggest, 0);
    QCOMPARE(opened, 3);
    // The proxy shows the same children, in pk order under a sort of the Foos by name.
    const QModelIndex proxyFoo = proxy.mapFromSource(gate.mapToSource(biggest));
    QCOMPARE(proxy.rowCount(proxyFoo), model.rowCount(gate.mapToSource(biggest)));
    for (int row = 1; row < proxy.rowCount(proxyFoo); ++row)
        QVERIFY(proxy.index(row - 1, 0, proxyFoo).data(FooTreeModel::IdRole).toLongLong()
                < proxy.index(row, 0, proxyFoo).data(FooTreeModel::IdRole).toLongLong());
}

void TestItemModelTester::proxy_data()
{
    QTest::addColumn<QString>("scale");
    QTest::addColumn<QString>("filter");
    QTest::addColumn<QList<int>>("states"); // EntryState values of the state filter
    QTest::addColumn<int>("sortColumn");
    QTest::addColumn<bool>("ascending");
    const QList<int> attention { int(EntryState::Stale), int(EntryState::Missing), int(EntryState::Corrupt) };
    for (const QString &scale : { QStringLiteral("small"), QStringLiteral("medium") }) {
        const auto row = [&](const char *name) -> QTestData & { return QTest::addRow("%s, %s", qPrintable(scale), name) << scale; };
        row("everything by id") << QString() << QList<int>() << int(FooTreeModel::IdColumn) << true;
        row("name filter, by name") << QStringLiteral("foo-1") << QList<int>() << int(FooTreeModel::NameColumn) << true;
        row("id filter") << QStringLiteral("28") << QList<int>() << int(FooTreeModel::IdColumn) << true;
        row("only stale") << QString() << QList<int> { int(EntryState::Stale) } << int(FooTreeModel::IdColumn) << true;
        row("only missing") << QString() << QList<int> { int(EntryState::Missing) } << int(FooTreeModel::IdColumn) << false;
        row("only corrupt") << QString() << QList<int> { int(EntryState::Corrupt) } << int(FooTreeModel::IdColumn) << true;
        row("attention, by state") << QString() << attention << int(FooTreeModel::StateColumn) << true;
        row("everything by state, descending") << QString() << QList<int>() << int(FooTreeModel::StateColumn) << false;
        row("everything by age") << QString() << QList<int>() << int(FooTreeModel::AgeColumn) << true;
        row("everything by size, descending") << QString() << QList<int>() << int(FooTreeModel::SizeColumn) << false;
        row("name filter, stale or missing, by size") << QStringLiteral("o") << QList<int> { int(EntryState::Stale), int(EntryState::Missing) }
                                                      << int(FooTreeModel::SizeColumn) << true;
    }
}

// FooFilterProxyModel over the demo's Foos with states in every variety (set per pk, so expected
// values are computed here independently): the rows shown are exactly those the filters let through,
// in the order of the sort key, and they follow a state change without a reload.
void TestItemModelTester::proxy()
{
    QFETCH(QString, scale);
    QFETCH(QString, filter);
    QFETCH(QList<int>, states);
    QFETCH(int, sortColumn);
    QFETCH(bool, ascending);
    DemoDatabase &db = demo(scale);
    const QList<EntryState> all { EntryState::Fresh,   EntryState::Stale,      EntryState::Missing, EntryState::Corrupt,
                                  EntryState::Foreign, EntryState::Refreshing, EntryState::Unknown };
    const QDateTime now = QDateTime::currentDateTimeUtc();
    // Deterministic, not monotonic in pk: sizes and ages order the Foos differently from their ids.
    const auto statusOf = [&](qint64 pk, int shift = 0) {
        EntryStatus status;
        status.pk = pk;
        status.state = all[(pk * 3 + shift) % all.size()];
        status.reason = QStringLiteral("reason of %1").arg(pk);
        status.size = (pk * 7919) % 1000 + 1;
        status.cachedAt = now.addSecs(-((pk * 104729) % 5000));
        return status;
    };

    FooTreeModel model;
    FetchGate gate;
    gate.setSourceModel(&model);
    FooFilterProxyModel proxy;
    proxy.setSourceModel(&model);
    FetchGate proxyGate;
    proxyGate.setSourceModel(&proxy);
    Tester gateTester(&gate, Tester::FailureReportingMode::QtTest);
    Tester proxyTester(&proxyGate, Tester::FailureReportingMode::QtTest);
    QSet<EntryState> wanted;
    for (int state : std::as_const(states))
        wanted.insert(EntryState(state));
    proxy.setStateFilter(wanted);
    proxy.sort(sortColumn, ascending ? Qt::AscendingOrder : Qt::DescendingOrder);
    model.setBatchSize(40);
    model.setDatabase(db.config);
    model.setFilter(filter);
    while (model.isLoading() || model.canFetchMore({})) {
        QVERIFY(waitUntilIdle(model));
        gate.fetchMore({});
    }
    QList<EntryStatus> statuses;
    for (const auto &[pk, name] : demoFoos(*db.database))
        statuses << statusOf(pk);
    model.updateStates(statuses);

    const auto check = [&](int shift) {
        const QString text = filter.trimmed();
        bool isNumber = false;
        const qint64 id = text.toLongLong(&isNumber);
        QList<EntryStatus> expected;
        for (const auto &[pk, name] : demoFoos(*db.database)) {
            const bool named = name.contains(text, Qt::CaseInsensitive) || (isNumber && pk == id);
            const EntryStatus status = statusOf(pk, shift);
            if ((text.isEmpty() || named) && (wanted.isEmpty() || wanted.contains(status.state)))
                expected << status;
        }
        QCOMPARE(proxy.rowCount(), expected.size());
        QSet<qint64> shown;
        for (int row = 0; row < proxy.rowCount(); ++row)
            shown.insert(proxy.index(row, 0).data(FooTreeModel::IdRole).toLongLong());
        QSet<qint64> expectedIds;
        for (const EntryStatus &status : std::as_const(expected))
            expectedIds.insert(status.pk);
        QCOMPARE(shown, expectedIds);
        for (int row = 1; row < proxy.rowCount(); ++row) {
            const QVariant before = proxy.index(row - 1, sortColumn).data(FooTreeModel::SortRole);
            const QVariant after = proxy.index(row, sortColumn).data(FooTreeModel::SortRole);
            const QPartialOrdering order = ascending ? QVariant::compare(before, after) : QVariant::compare(after, before);
            QVERIFY2(order == QPartialOrdering::Less || order == QPartialOrdering::Equivalent,
                     qPrintable(QStringLiteral("row %1: %2 then %3").arg(row).arg(before.toString(), after.toString())));
        }
    };
    check(0);
    if (QTest::currentTestFailed() || filter == QLatin1String("28"))
        return;
    // Every Foo moves on to the next state: the filter and the order follow, no reset.
    QSignalSpy reset(&proxy, &QAbstractItemModel::modelReset);
    statuses.clear();
    for (const auto &[pk, name] : demoFoos(*db.database))
        statuses << statusOf(pk, 1);
    model.updateStates(statuses);
    check(1);
    QCOMPARE(reset.size(), 0);
}

// FooFilterProxyModel maps the Foo level only: a Foo's children keep their indexes while the Foo
// moves, and persistent indexes follow the Foos when a filter lets half of 300 Foos back in, one
// between each two shown (in at the end in one insertion, then sorted into place by one layout
// change), and when a sort moves every Foo.
void TestItemModelTester::proxyKeepsIndexesThroughScatteredChanges()
{
    QVERIFY(seedMany());
    WatchedProxy watched;
    FooTreeModel &model = watched.model;
    FooFilterProxyModel &proxy = watched.proxy;
    QVERIFY(watched.load(m_many.config));
    QCOMPARE(model.rowCount(), 300);
    QList<EntryStatus> statuses;
    for (const auto &[pk, name] : demoFoos(*m_many.database)) {
        EntryStatus status;
        status.pk = pk;
        status.state = pk % 2 ? EntryState::Stale : EntryState::Fresh;
        statuses << status;
    }
    model.updateStates(statuses);
    const QPersistentModelIndex leaving = proxy.index(1, 0); // a fresh Foo, filtered away below
    QCOMPARE(leaving.data(FooTreeModel::IdRole).toLongLong() % 2, 0);
    const QPersistentModelIndex staying = proxy.index(2, 0);
    const qint64 stayingId = staying.data(FooTreeModel::IdRole).toLongLong();
    QSignalSpy removed(&proxy, &QAbstractItemModel::rowsRemoved);
    QSignalSpy moved(&proxy, &QAbstractItemModel::layoutChanged);
    proxy.setStateFilter({ EntryState::Stale });
    QCOMPARE(proxy.rowCount(), 150);
    QCOMPARE(removed.size(), 1); // the 150 leaving rows, gathered at the end by one layout change
    QCOMPARE(moved.size(), 1);
    QVERIFY(!leaving.isValid());
    QCOMPARE(staying.row(), 1);
    QCOMPARE(staying.data(FooTreeModel::IdRole).toLongLong(), stayingId);

    int withBars = 0;
    while (withBars < proxy.rowCount() && proxy.index(withBars, FooTreeModel::ChildrenColumn).data(FooTreeModel::SortRole).toLongLong() == 0)
        ++withBars;
    const QPersistentModelIndex foo = proxy.index(withBars, 0);
    const qint64 fooId = foo.data(FooTreeModel::IdRole).toLongLong();
    QCOMPARE(fooId % 2, 1);
    proxy.fetchMore(foo);
    QVERIFY(waitUntilIdle(model));
    QVERIFY(proxy.rowCount(foo) > 0);
    const QPersistentModelIndex bar = proxy.index(0, 0, foo);
    const qint64 barId = bar.data(FooTreeModel::IdRole).toLongLong();

    QPersistentModelIndex joined; // the first Foo let back in, taken as it arrives
    qint64 joinedId = 0;
    connect(&proxy, &QAbstractItemModel::rowsInserted, this, [&](const QModelIndex &parent, int first) {
        if (!parent.isValid() && !joined.isValid()) {
            joined = proxy.index(first, 0);
            joinedId = joined.data(FooTreeModel::IdRole).toLongLong();
        }
    });
    QSignalSpy inserted(&proxy, &QAbstractItemModel::rowsInserted);
    QSignalSpy layout(&proxy, &QAbstractItemModel::layoutChanged);
    QSignalSpy reset(&proxy, &QAbstractItemModel::modelReset);
    proxy.setStateFilter({});
    QCOMPARE(proxy.rowCount(), 300);
    QCOMPARE(inserted.size(), 1);
    QCOMPARE(layout.size(), 1);
    QCOMPARE(reset.size(), 0);
    QList<qint64> ids;
    for (int row = 0; row < proxy.rowCount(); ++row)
        ids << proxy.index(row, 0).data(FooTreeModel::IdRole).toLongLong();
    QVERIFY(std::is_sorted(ids.cbegin(), ids.cend()));
    QCOMPARE(joinedId % 2, 0);
    QVERIFY(joined.isValid());
    QCOMPARE(joined.data(FooTreeModel::IdRole).toLongLong(), joinedId);
    QCOMPARE(joined.row(), int(ids.indexOf(joinedId)));
    QCOMPARE(foo.data(FooTreeModel::IdRole).toLongLong(), fooId);
    QCOMPARE(foo.row(), int(ids.indexOf(fooId)));
    QCOMPARE(bar.data(FooTreeModel::IdRole).toLongLong(), barId);
    QCOMPARE(bar.parent(), QModelIndex(foo));

    const int barRow = bar.row();
    proxy.sort(FooTreeModel::NameColumn, Qt::DescendingOrder);
    QCOMPARE(layout.size(), 2);
    for (int row = 1; row < proxy.rowCount(); ++row)
        QVERIFY(proxy.index(row - 1, FooTreeModel::NameColumn).data(FooTreeModel::SortRole).toString()
                >= proxy.index(row, FooTreeModel::NameColumn).data(FooTreeModel::SortRole).toString());
    QCOMPARE(foo.data(FooTreeModel::IdRole).toLongLong(), fooId);
    QCOMPARE(proxy.index(foo.row(), 0).data(FooTreeModel::IdRole).toLongLong(), fooId);
    QCOMPARE(bar.row(), barRow);
    QCOMPARE(bar.parent(), QModelIndex(foo));
    QCOMPARE(proxy.mapToSource(bar).data(FooTreeModel::IdRole).toLongLong(), barId);
    QCOMPARE(proxy.mapFromSource(proxy.mapToSource(foo)), QModelIndex(foo));
}

void TestItemModelTester::proxyFollowsRandomChanges_data()
{
    QTest::addColumn<quint32>("seed");
    for (quint32 seed = 1; seed <= 8; ++seed)
        QTest::addRow("seed %u", seed) << seed;
}

// The proxy against a reference computed from the model's own roles, over random steps: state reads
// that change scattered Foos (each signalled as many runs of rows), verdicts and failures one Foo at
// a time, state filters (with and without "also differing"), holds, and sorts by every column but
// the age (which moves with the clock), both ways. After every step the proxy shows exactly the
// Foos the filter lets through, in the sort's order with ties in the source's; the tester sees
// consistent signals; and every persistent index, of a Foo or of a Bar under one, still names it.
void TestItemModelTester::proxyFollowsRandomChanges()
{
    QFETCH(quint32, seed);
    const int foos = 300;
    QVERIFY(seedMany());
    WatchedProxy watched;
    FooTreeModel &model = watched.model;
    FooFilterProxyModel &proxy = watched.proxy;
    QVERIFY(watched.load(m_many.config));
    QCOMPARE(model.rowCount(), foos);
    // The Bars of a few Foos, to follow through the moves.
    QList<qint64> withBars;
    for (int row = 0; row < foos && withBars.size() < 6; row += 37) {
        const QModelIndex foo = proxy.index(row, 0);
        if (!proxy.canFetchMore(foo))
            continue;
        proxy.fetchMore(foo);
        QVERIFY(waitUntilIdle(model));
        if (proxy.rowCount(foo) > 0)
            withBars << foo.data(FooTreeModel::IdRole).toLongLong();
    }
    QVERIFY(!withBars.isEmpty());

    QRandomGenerator random(seed);
    QHash<qint64, EntryStatus> statuses;
    for (int row = 0; row < foos; ++row) {
        EntryStatus status;
        status.pk = model.index(row, 0).data(FooTreeModel::IdRole).toLongLong();
        statuses.insert(status.pk, status);
    }
    const QList<EntryState> states { EntryState::Fresh, EntryState::Stale, EntryState::Missing, EntryState::Corrupt,
                                     EntryState::Unknown };
    QSet<EntryState> filter;
    bool alsoDiffering = false;
    bool holding = false;
    QSet<qint64> held;
    int sortColumn = -1;
    Qt::SortOrder sortOrder = Qt::AscendingOrder;

    const auto accepted = [&](int row, const QSet<qint64> &heldNow) {
        const QModelIndex foo = model.index(row, 0);
        if (filter.isEmpty() || heldNow.contains(foo.data(FooTreeModel::IdRole).toLongLong()))
            return true;
        if (alsoDiffering && foo.data(FooTreeModel::VerdictRole).toInt() == int(FooTreeModel::Verdict::Differs))
            return true;
        const QVariant state = foo.data(FooTreeModel::StateRole);
        return state.isValid() && filter.contains(EntryState(state.toInt()));
    };
    const auto expected = [&](const QSet<qint64> &heldNow) {
        std::vector<int> rows;
        for (int row = 0; row < foos; ++row) {
            if (accepted(row, heldNow))
                rows.push_back(row);
        }
        const bool sourceOrder = sortColumn < 0 || (sortColumn == FooTreeModel::IdColumn && sortOrder == Qt::AscendingOrder);
        if (!sourceOrder) {
            std::stable_sort(rows.begin(), rows.end(), [&](int a, int b) {
                const auto order = QVariant::compare(model.index(a, sortColumn).data(FooTreeModel::SortRole),
                                                     model.index(b, sortColumn).data(FooTreeModel::SortRole));
                return sortOrder == Qt::AscendingOrder ? order == QPartialOrdering::Less : order == QPartialOrdering::Greater;
            });
        }
        QList<qint64> ids;
        for (int row : rows)
            ids << model.index(row, 0).data(FooTreeModel::IdRole).toLongLong();
        return ids;
    };
    const auto shown = [&] {
        QList<qint64> ids;
        for (int row = 0; row < proxy.rowCount(); ++row)
            ids << proxy.index(row, 0).data(FooTreeModel::IdRole).toLongLong();
        return ids;
    };
    const auto randomFoo = [&] { return model.index(int(random.bounded(foos)), 0).data(FooTreeModel::IdRole).toLongLong(); };
    const auto randomStates = [&](quint32 oneIn) { // each state with a chance of one in `oneIn`
        QSet<EntryState> chosen;
        for (EntryState state : states) {
            if (random.bounded(oneIn) == 0)
                chosen.insert(state);
        }
        return chosen;
    };

    for (int step = 0; step < 200; ++step) {
        std::map<qint64, QPersistentModelIndex> before;
        for (int row = 0; row < proxy.rowCount(); ++row)
            before.emplace(proxy.index(row, 0).data(FooTreeModel::IdRole).toLongLong(), QPersistentModelIndex(proxy.index(row, 0)));
        std::map<qint64, std::pair<QPersistentModelIndex, qint64>> bars; // Foo pk -> its first Bar, the Bar's pk
        for (qint64 pk : std::as_const(withBars)) {
            if (const auto foo = before.find(pk); foo != before.end()) {
                const QModelIndex bar = proxy.index(0, 0, foo->second);
                bars.emplace(pk, std::make_pair(QPersistentModelIndex(bar), bar.data(FooTreeModel::IdRole).toLongLong()));
            }
        }
        const quint32 op = random.bounded(10u);
        QString what;
        if (op < 4) { // a state read: new states and sizes (few, so there are ties) for scattered Foos
            const int changes = 1 + int(random.bounded(60));
            for (int i = 0; i < changes; ++i) {
                EntryStatus &status = statuses[randomFoo()];
                status.state = states[int(random.bounded(int(states.size())))];
                status.size = qint64(random.bounded(6)) * 100;
            }
            // Now and then a filter is chosen from a slot while the read signals its rows, before
            // the proxy has re-placed them (not while held: it would hold what shows mid-read).
            QMetaObject::Connection midRead;
            if (!holding && random.bounded(4u) == 0) {
                const QSet<EntryState> chosen = randomStates(2);
                const bool chosenAlsoDiffering = random.bounded(2u) == 1;
                midRead = connect(&model, &QAbstractItemModel::dataChanged, this, [&, chosen, chosenAlsoDiffering] {
                    disconnect(midRead);
                    proxy.setStateFilter(chosen, chosenAlsoDiffering);
                    filter = chosen;
                    alsoDiffering = chosenAlsoDiffering;
                });
            }
            const bool filterMidRead = bool(midRead);
            model.updateStates(statuses.values());
            disconnect(midRead);
            what = QStringLiteral("a read changing %1 Foos%2").arg(changes).arg(filterMidRead ? ", a filter chosen mid-read" : "");
        } else if (op == 4) { // a verdict or a failure
            const qint64 pk = randomFoo();
            const quint32 kind = random.bounded(4u);
            if (kind == 3) {
                model.setFailure(pk, QStringLiteral("failed"));
            } else if (kind == 2) {
                model.clearOutcome(pk);
            } else {
                Verification verification;
                verification.identical = kind == 0;
                verification.summary = QStringLiteral("verified");
                model.setVerification(pk, verification);
            }
            what = QStringLiteral("outcome %1 for Foo %2").arg(kind).arg(pk);
        } else if (op < 7) { // a filter
            const QSet<EntryState> previous = std::exchange(filter, randomStates(3));
            const bool previousAlsoDiffering = alsoDiffering;
            alsoDiffering = random.bounded(2u) == 1;
            proxy.setStateFilter(filter, alsoDiffering);
            if (holding && (filter != previous || alsoDiffering != previousAlsoDiffering)) { // the same one changes nothing
                const QList<qint64> ids = expected({});
                held = QSet<qint64>(ids.cbegin(), ids.cend());
            }
            what = QStringLiteral("filter of %1 states%2").arg(filter.size()).arg(alsoDiffering ? ", also differing" : "");
        } else if (op == 7) { // a hold begins or ends
            holding = !holding;
            if (holding) {
                const QList<qint64> ids = expected(held);
                held = QSet<qint64>(ids.cbegin(), ids.cend());
            } else {
                held.clear();
            }
            proxy.setHeld(holding);
            what = holding ? QStringLiteral("hold") : QStringLiteral("release");
        } else { // a sort
            const int columns[] = { -1, FooTreeModel::NameColumn, FooTreeModel::IdColumn, FooTreeModel::ChildrenColumn,
                                    FooTreeModel::StateColumn, FooTreeModel::SizeColumn };
            sortColumn = columns[random.bounded(6u)];
            sortOrder = random.bounded(2u) ? Qt::DescendingOrder : Qt::AscendingOrder;
            proxy.sort(sortColumn, sortOrder);
            what = QStringLiteral("sort by %1, %2").arg(sortColumn).arg(sortOrder == Qt::AscendingOrder ? "ascending" : "descending");
        }
        const QByteArray context = QStringLiteral("seed %1, step %2: %3").arg(seed).arg(step).arg(what).toUtf8();
        const QList<qint64> ids = expected(held);
        QVERIFY2(shown() == ids, context.constData());
        for (const auto &[pk, index] : before) {
            const qsizetype row = ids.indexOf(pk);
            QVERIFY2(index.isValid() == (row >= 0), context.constData());
            if (row >= 0) {
                QVERIFY2(index.row() == int(row), context.constData());
                QVERIFY2(index.data(FooTreeModel::IdRole).toLongLong() == pk, context.constData());
            }
        }
        for (const auto &[pk, bar] : bars) {
            const bool fooShown = ids.contains(pk); // a Foo's rows go with it
            QVERIFY2(bar.first.isValid() == fooShown, context.constData());
            if (fooShown) {
                QVERIFY2(bar.first.data(FooTreeModel::IdRole).toLongLong() == bar.second, context.constData());
                QVERIFY2(bar.first.parent().data(FooTreeModel::IdRole).toLongLong() == pk, context.constData());
            }
        }
    }
}

void TestItemModelTester::requestLog_data()
{
    QTest::addColumn<QString>("scale");
    QTest::addColumn<int>("capacity");
    QTest::addRow("small") << QStringLiteral("small") << 10000;
    QTest::addRow("medium") << QStringLiteral("medium") << 10000;
    QTest::addRow("medium, capacity 50") << QStringLiteral("medium") << 50;
}

// A real server over the demo database answers every Foo, the list and a miss; the log model, with
// the tester on it, shows each request once, in order, within its capacity.
void TestItemModelTester::requestLog()
{
    QFETCH(QString, scale);
    QFETCH(int, capacity);
    DemoDatabase &db = demo(scale);
    CacheConfig config;
    config.database = db.config;
    config.watch = false;
    CacheService service(config);
    HttpServer server(service);
    const auto port = server.start({});
    QVERIFY2(port, qPrintable(why(port)));
    RequestLogModel model;
    Tester tester(&model, Tester::FailureReportingMode::QtTest);
    model.setCapacity(capacity);
    connect(&server, &HttpServer::requestServed, &model, &RequestLogModel::append);

    QStringList targets;
    for (const auto &[pk, name] : demoFoos(*db.database))
        targets << QStringLiteral("/api/foos/%1/").arg(pk);
    targets << QStringLiteral("/api/foos/") << QStringLiteral("/api/foos/999999/");
    QNetworkAccessManager manager;
    QList<int> statuses;
    for (const QString &target : std::as_const(targets)) {
        // One at a time, so the log's order is the order of the requests.
        QNetworkReply *reply = manager.get(QNetworkRequest(server.url().resolved(QUrl(target))));
        QSignalSpy finished(reply, &QNetworkReply::finished);
        QVERIFY(reply->isFinished() || finished.wait(20000));
        statuses << reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        reply->deleteLater();
    }
    QCOMPARE(statuses.last(), 404);
    QCOMPARE(statuses.count(200), targets.size() - 1);
    const int expectedRows = int(std::min<qsizetype>(capacity, targets.size()));
    // The log line of a request may follow its answer: wait for the last one (the 404).
    const auto lastStatus = [&] {
        return model.rowCount() == 0 ? 0 : model.index(model.rowCount() - 1, RequestLogModel::StatusColumn).data().toInt();
    };
    QTRY_COMPARE_WITH_TIMEOUT(lastStatus(), 404, 10000);
    QCOMPARE(model.rowCount(), expectedRows);
    const QStringList shownTargets = targets.mid(targets.size() - expectedRows);
    for (int row = 0; row < expectedRows; ++row) {
        QCOMPARE(model.index(row, RequestLogModel::PathColumn).data().toString(), shownTargets[row]);
        QCOMPARE(model.index(row, RequestLogModel::StatusColumn).data().toInt(), row == expectedRows - 1 ? 404 : 200);
    }
    server.stop();
}

QTEST_GUILESS_MAIN(TestItemModelTester)
#include "tst_itemmodeltester.moc"
