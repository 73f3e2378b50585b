#include "../http/httpfixture.h"
#include "items/requestlogfiltermodel.h"
#include "items/requestlogmodel.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

#include <memory>

namespace {

using StatusClass = RequestLogFilterModel::StatusClass;

// "status target X-Cache", "-" for no X-Cache: one row as the expectations below spell it.
QString describe(const QModelIndex &index)
{
    const auto entry = index.data(RequestLogModel::EntryRole).value<HttpLogEntry>();
    return QStringLiteral("%1 %2 %3")
        .arg(entry.status)
        .arg(QString::fromUtf8(entry.target),
            entry.cache.isEmpty() ? QStringLiteral("-") : QString::fromLatin1(entry.cache));
}

QStringList rows(const QAbstractItemModel &model)
{
    QStringList out;
    for (int row = 0; row < model.rowCount(); ++row)
        out << describe(model.index(row, RequestLogModel::PathColumn));
    return out;
}

HttpLogEntry madeUp(const QByteArray &target, int status, const QByteArray &cache)
{
    HttpLogEntry entry;
    entry.at = QDateTime::currentDateTimeUtc();
    entry.peer = "127.0.0.1";
    entry.method = "GET";
    entry.target = target;
    entry.version = "HTTP/1.1";
    entry.status = status;
    entry.cache = cache;
    return entry;
}

} // namespace

// The request log's filter over entries a real server logged (and two it cannot be made to log:
// a 5xx and a client that left), with a QAbstractItemModelTester watching the proxy throughout.
class TestRequestLogFilter : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void filters_data();
    void filters();
    void newRowsPassTheFilter();

private:
    std::unique_ptr<HttpFixture> m_fixture;
    RequestLogModel m_log;
    RequestLogFilterModel m_filter;
    std::unique_ptr<QAbstractItemModelTester> m_tester;
};

void TestRequestLogFilter::initTestCase()
{
    m_filter.setSourceModel(&m_log);
    m_tester = std::make_unique<QAbstractItemModelTester>(
        &m_filter, QAbstractItemModelTester::FailureReportingMode::QtTest);
    m_fixture = std::make_unique<HttpFixture>();
    QVERIFY(m_fixture->ok);
    connect(m_fixture->server.get(), &HttpServer::requestServed, &m_log, &RequestLogModel::append);
    const char *targets[] = { "/api/foos/1/", "/api/foos/1/", "/api/foos/2/", "/api/foos/1",
        "/api/foos/999999/", "/api/foos/?page=1", "/api/foos/?page=1", "/metrics", "/api/status/" };
    // One at a time: the log's order is the order they were answered.
    for (const char *target : targets)
        QVERIFY(m_fixture->get(QString::fromLatin1(target)).status > 0);
    QCOMPARE(m_fixture->get(QStringLiteral("/api/foos/1/"), {}, "POST").status, 405);
    QTRY_COMPARE_WITH_TIMEOUT(m_log.rowCount(), 10, 10000);
    m_log.append(madeUp("/api/foos/3/", 503, "MISS"));
    m_log.append(madeUp("/api/foos/4/", 0, "HIT"));
    m_log.flush();
    QCOMPARE(rows(m_filter),
        (QStringList { "200 /api/foos/1/ MISS", "200 /api/foos/1/ HIT", "200 /api/foos/2/ MISS",
            "301 /api/foos/1 -", "404 /api/foos/999999/ -", "200 /api/foos/?page=1 MISS",
            "200 /api/foos/?page=1 HIT", "200 /metrics -", "404 /api/status/ -", "405 /api/foos/1/ -",
            "503 /api/foos/3/ MISS", "0 /api/foos/4/ HIT" }));
}

void TestRequestLogFilter::filters_data()
{
    QTest::addColumn<StatusClass>("status");
    QTest::addColumn<QString>("path");
    QTest::addColumn<std::optional<QByteArray>>("cache");
    QTest::addColumn<QStringList>("expected");
    const std::optional<QByteArray> any;
    QTest::addRow("2xx") << StatusClass::Success << QString() << any
                         << QStringList { "200 /api/foos/1/ MISS", "200 /api/foos/1/ HIT",
                                "200 /api/foos/2/ MISS", "200 /api/foos/?page=1 MISS",
                                "200 /api/foos/?page=1 HIT", "200 /metrics -" };
    QTest::addRow("3xx") << StatusClass::Redirection << QString() << any
                         << QStringList { "301 /api/foos/1 -" };
    QTest::addRow("4xx") << StatusClass::ClientError << QString() << any
                         << QStringList { "404 /api/foos/999999/ -", "404 /api/status/ -",
                                "405 /api/foos/1/ -" };
    QTest::addRow("5xx") << StatusClass::ServerError << QString() << any
                         << QStringList { "503 /api/foos/3/ MISS" };
    QTest::addRow("errors, gone included")
        << StatusClass::Errors << QString() << any
        << QStringList { "404 /api/foos/999999/ -", "404 /api/status/ -", "405 /api/foos/1/ -",
               "503 /api/foos/3/ MISS", "0 /api/foos/4/ HIT" };
    QTest::addRow("path") << StatusClass::Any << QStringLiteral("foos/1") << any
                          << QStringList { "200 /api/foos/1/ MISS", "200 /api/foos/1/ HIT",
                                 "301 /api/foos/1 -", "405 /api/foos/1/ -" };
    QTest::addRow("path in any case")
        << StatusClass::Any << QStringLiteral("METRICS") << any << QStringList { "200 /metrics -" };
    QTest::addRow("query") << StatusClass::Any << QStringLiteral("?page=") << any
                           << QStringList { "200 /api/foos/?page=1 MISS", "200 /api/foos/?page=1 HIT" };
    QTest::addRow("HIT") << StatusClass::Any << QString() << std::optional<QByteArray>("HIT")
                         << QStringList { "200 /api/foos/1/ HIT", "200 /api/foos/?page=1 HIT",
                                "0 /api/foos/4/ HIT" };
    QTest::addRow("no X-Cache") << StatusClass::Any << QString() << std::optional<QByteArray>("")
                                << QStringList { "301 /api/foos/1 -", "404 /api/foos/999999/ -",
                                       "200 /metrics -", "404 /api/status/ -", "405 /api/foos/1/ -" };
    QTest::addRow("2xx and HIT") << StatusClass::Success << QString() << std::optional<QByteArray>("HIT")
                                 << QStringList { "200 /api/foos/1/ HIT", "200 /api/foos/?page=1 HIT" };
    QTest::addRow("errors, path and MISS")
        << StatusClass::Errors << QStringLiteral("/api/foos/") << std::optional<QByteArray>("MISS")
        << QStringList { "503 /api/foos/3/ MISS" };
    QTest::addRow("path and no X-Cache")
        << StatusClass::Any << QStringLiteral("foos/1") << std::optional<QByteArray>("")
        << QStringList { "301 /api/foos/1 -", "405 /api/foos/1/ -" };
    QTest::addRow("4xx and HIT: none")
        << StatusClass::ClientError << QString() << std::optional<QByteArray>("HIT") << QStringList {};
}

// Each filter narrows to exactly its rows, in the log's order; set together they AND. Setting them
// back shows every row again.
void TestRequestLogFilter::filters()
{
    QFETCH(StatusClass, status);
    QFETCH(QString, path);
    QFETCH(std::optional<QByteArray>, cache);
    QFETCH(QStringList, expected);
    m_filter.setStatusClass(status);
    m_filter.setPathFilter(path);
    m_filter.setCacheFilter(cache);
    QCOMPARE(rows(m_filter), expected);
    m_filter.setStatusClass(StatusClass::Any);
    m_filter.setPathFilter(QString());
    m_filter.setCacheFilter(std::nullopt);
    QCOMPARE(m_filter.rowCount(), m_log.rowCount());
}

// Rows the log gains later are filtered as they arrive: only those that pass insert into the proxy.
void TestRequestLogFilter::newRowsPassTheFilter()
{
    m_filter.setStatusClass(StatusClass::Errors);
    const int before = m_filter.rowCount();
    QSignalSpy inserted(&m_filter, &QAbstractItemModel::rowsInserted);
    QCOMPARE(m_fixture->get(QStringLiteral("/api/foos/3/")).status, 200);
    QCOMPARE(m_fixture->get(QStringLiteral("/api/foos/888888/")).status, 404);
    QVERIFY(inserted.wait(10000));
    QTRY_COMPARE_WITH_TIMEOUT(m_filter.rowCount(), before + 1, 10000);
    QCOMPARE(rows(m_filter).constLast(), QStringLiteral("404 /api/foos/888888/ -"));
    QCOMPARE(m_log.rowCount(), 14);
    m_filter.setStatusClass(StatusClass::Any);
}

QTEST_GUILESS_MAIN(TestRequestLogFilter)
#include "tst_requestlogfilter.moc"
