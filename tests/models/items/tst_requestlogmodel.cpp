#include "../http/httpfixture.h"
#include "items/requestlogmodel.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

namespace {

HttpLogEntry entry(int number, int status = 200)
{
    HttpLogEntry e;
    e.at = QDateTime::fromMSecsSinceEpoch(1700000000000LL + number, Qt::UTC);
    e.peer = "127.0.0.1";
    e.method = "GET";
    e.target = "/api/foos/" + QByteArray::number(number) + "/";
    e.version = "HTTP/1.1";
    e.status = status;
    e.bytes = 1000 + number;
    e.milliseconds = 0.25 * number;
    e.cache = "HIT";
    return e;
}

QStringList paths(const RequestLogModel &model)
{
    QStringList out;
    for (int row = 0; row < model.rowCount(); ++row)
        out << model.index(row, RequestLogModel::PathColumn).data().toString();
    return out;
}

QStringList expectedPaths(int from, int to)
{
    QStringList out;
    for (int number = from; number <= to; ++number)
        out << QStringLiteral("/api/foos/%1/").arg(number);
    return out;
}

} // namespace

class TestRequestLogModel : public QObject {
    Q_OBJECT

private slots:
    void appendsInBatches();
    void boundedFromTheTop_data();
    void boundedFromTheTop();
    void columns();
    void liveServer();
};

// Many appends between two flushes are one insert.
void TestRequestLogModel::appendsInBatches()
{
    RequestLogModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    for (int number = 1; number <= 50; ++number)
        model.append(entry(number));
    QCOMPARE(model.rowCount(), 0); // not yet: batched
    QVERIFY(inserted.wait(5000));
    QCOMPARE(inserted.size(), 1);
    QCOMPARE(model.rowCount(), 50);
    QCOMPARE(paths(model), expectedPaths(1, 50));
    model.append(entry(51));
    model.flush();
    QCOMPARE(inserted.size(), 2);
    QCOMPARE(inserted.at(1).at(1).toInt(), 50);
    model.flush(); // nothing queued: no signal
    QCOMPARE(inserted.size(), 2);
    model.clear();
    QCOMPARE(model.rowCount(), 0);
}

void TestRequestLogModel::boundedFromTheTop_data()
{
    QTest::addColumn<int>("capacity");
    QTest::addColumn<QList<int>>("bursts");
    QTest::addRow("one at a time") << 10 << QList<int> { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 };
    QTest::addRow("bursts") << 10 << QList<int> { 4, 7, 3, 9 };
    QTest::addRow("burst above capacity") << 10 << QList<int> { 5, 25 };
    QTest::addRow("capacity of one") << 1 << QList<int> { 3, 1 };
}

// The newest `capacity` requests, oldest on top; what leaves, leaves from row 0.
void TestRequestLogModel::boundedFromTheTop()
{
    QFETCH(int, capacity);
    QFETCH(QList<int>, bursts);
    RequestLogModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setCapacity(capacity);
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
    int number = 0;
    for (int burst : std::as_const(bursts)) {
        for (int i = 0; i < burst; ++i)
            model.append(entry(++number));
        model.flush();
        QVERIFY(model.rowCount() <= capacity);
        QCOMPARE(paths(model), expectedPaths(std::max(1, number - capacity + 1), number));
    }
    QVERIFY(!removed.isEmpty());
    for (const QList<QVariant> &signal : std::as_const(removed))
        QCOMPARE(signal.at(1).toInt(), 0);
    const int before = model.rowCount();
    model.setCapacity(2);
    QCOMPARE(paths(model), expectedPaths(number - std::min(before, 2) + 1, number));
}

void TestRequestLogModel::columns()
{
    RequestLogModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.append(entry(4, 404));
    model.append(entry(5, 0));
    model.flush();
    const auto at = [&](int row, int column, int role = Qt::DisplayRole) { return model.index(row, column).data(role); };
    QCOMPARE(at(0, RequestLogModel::MethodColumn).toString(), QStringLiteral("GET"));
    QCOMPARE(at(0, RequestLogModel::StatusColumn).toInt(), 404);
    QCOMPARE(at(1, RequestLogModel::StatusColumn).toString(), RequestLogModel::tr("gone"));
    QCOMPARE(at(0, RequestLogModel::CacheColumn).toString(), QStringLiteral("HIT"));
    QCOMPARE(at(0, RequestLogModel::MillisecondsColumn).toString(), QStringLiteral("1.00"));
    QCOMPARE(at(0, RequestLogModel::BytesColumn, RequestLogModel::SortRole).toLongLong(), 1004);
    QCOMPARE(at(0, RequestLogModel::TimeColumn, RequestLogModel::SortRole).toLongLong(), 1700000000004LL);
    QVERIFY(at(0, RequestLogModel::StatusColumn, Qt::ForegroundRole).isValid());
    QCOMPARE(at(0, RequestLogModel::PathColumn, Qt::ToolTipRole).toString(), formatLogLine(entry(4, 404)));
    QCOMPARE(at(1, 0, RequestLogModel::EntryRole).value<HttpLogEntry>().target, entry(5).target);
    QCOMPARE(model.headerData(RequestLogModel::CacheColumn, Qt::Horizontal).toString(), RequestLogModel::tr("Cache"));
}

// Fed by a real server's requestServed.
void TestRequestLogModel::liveServer()
{
    HttpFixture fixture;
    QVERIFY(fixture.ok);
    RequestLogModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QObject::connect(fixture.server.get(), &HttpServer::requestServed, &model, &RequestLogModel::append);
    QCOMPARE(fixture.get(QStringLiteral("/api/foos/1/")).status, 200);
    QCOMPARE(fixture.get(QStringLiteral("/api/foos/1/")).status, 200);
    QCOMPARE(fixture.get(QStringLiteral("/api/foos/999999/")).status, 404);
    QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 3, 10000);
    QCOMPARE(model.index(0, RequestLogModel::PathColumn).data().toString(), QStringLiteral("/api/foos/1/"));
    QCOMPARE(model.index(0, RequestLogModel::CacheColumn).data().toString(), QStringLiteral("MISS"));
    QCOMPARE(model.index(1, RequestLogModel::CacheColumn).data().toString(), QStringLiteral("HIT"));
    QCOMPARE(model.index(2, RequestLogModel::StatusColumn).data().toInt(), 404);
    QVERIFY(model.index(0, RequestLogModel::BytesColumn).data(RequestLogModel::SortRole).toLongLong() > 0);
}

QTEST_GUILESS_MAIN(TestRequestLogModel)
#include "tst_requestlogmodel.moc"
