#include "telemetry/telemetry.h"

#include <QHash>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QStandardPaths>
#include <QTest>

#include <atomic>
#include <cmath>
#include <limits>
#include <thread>
#include <vector>

namespace {

using Outcome = Telemetry::Outcome;

// The samples of a scrape by their full name with labels: `name{a="b"}` → value.
QHash<QByteArray, QByteArray> samples(const QByteArray &text)
{
    QHash<QByteArray, QByteArray> result;
    for (const QByteArray &line : text.split('\n')) {
        if (line.isEmpty() || line.startsWith('#'))
            continue;
        const qsizetype space = line.lastIndexOf(' ');
        result.insert(line.left(space), line.mid(space + 1));
    }
    return result;
}

QByteArray leText(double bound)
{
    return QByteArray::number(bound, 'f', QLocale::FloatingPointShortest);
}

QByteArray bucketKey(const char *family, const char *store, const QByteArray &le)
{
    return QByteArray(family) + "_bucket{store=\"" + store + "\",le=\"" + le + "\"}";
}

// The family a sample belongs to: histogram samples carry a suffix.
QByteArray familyOf(const QByteArray &name, const QSet<QByteArray> &histograms)
{
    for (const char *suffix : { "_bucket", "_sum", "_count" }) {
        if (name.endsWith(suffix)) {
            const QByteArray base = name.chopped(qsizetype(qstrlen(suffix)));
            if (histograms.contains(base))
                return base;
        }
    }
    return name;
}

// What the exposition format demands of every scrape: sample lines of the right shape, and per
// family one HELP and one TYPE line, both before its samples, with the samples together. Returns
// the first problem, empty when there is none.
QString expositionProblem(const QByteArray &text)
{
    static const QRegularExpression sampleLine(
        QStringLiteral("^[a-zA-Z_:][a-zA-Z0-9_:]*(\\{[^}]*\\})? [0-9.eE+-]+(Inf)?$"));
    if (!text.endsWith('\n'))
        return QStringLiteral("no final line feed");
    QHash<QByteArray, int> help;
    QHash<QByteArray, int> type;
    QSet<QByteArray> histograms;
    QSet<QByteArray> finished;
    QByteArray current;
    int sampleCount = 0;
    for (const QByteArray &line : text.split('\n')) {
        if (line.isEmpty())
            continue;
        const QString problem = QStringLiteral("bad line: ") + QString::fromUtf8(line);
        const QList<QByteArray> words = line.split(' ');
        if (line.startsWith("# HELP ") || line.startsWith("# TYPE ")) {
            if (words.size() < 4 || finished.contains(words[2]) || words[2] == current)
                return problem;
            (words[1] == "HELP" ? help : type)[words[2]]++;
            if (words[1] == "TYPE" && words[3] == "histogram")
                histograms.insert(words[2]);
            continue;
        }
        if (line.startsWith('#') || !sampleLine.match(QString::fromUtf8(line)).hasMatch())
            return problem;
        const QByteArray name = line.left(line.indexOf(line.contains('{') ? '{' : ' '));
        const QByteArray family = familyOf(name, histograms);
        if (help.value(family) != 1 || type.value(family) != 1)
            return QStringLiteral("not one HELP and one TYPE before: ") + QString::fromUtf8(line);
        if (family != current) {
            if (finished.contains(family))
                return QStringLiteral("samples of a family apart: ") + QString::fromUtf8(line);
            if (!current.isEmpty())
                finished.insert(current);
            current = family;
        }
        ++sampleCount;
    }
    if (sampleCount == 0)
        return QStringLiteral("no samples");
    for (auto it = help.cbegin(); it != help.cend(); ++it) {
        if (it.value() != 1 || type.value(it.key()) != 1)
            return QStringLiteral("HELP/TYPE not once for ") + QString::fromUtf8(it.key());
    }
    if (help.size() != type.size())
        return QStringLiteral("a TYPE without HELP");
    return {};
}

} // namespace

class TestTelemetry : public QObject {
    Q_OBJECT

private slots:
    void outcomeNames_data();
    void outcomeNames();
    void countsPerStoreAndOutcome();
    void bucketPlacement_data();
    void bucketPlacement();
    void cumulativeBuckets();
    void refreshesAndErrors();
    void hitRatio_data();
    void hitRatio();
    void memoryGauges();
    void manyStoreKinds_data();
    void manyStoreKinds();
    void concurrentRecording();
    void labelValuesEscaped();
    void expositionFormat();
    void expositionCheckCatches_data();
    void expositionCheckCatches();
    void promtoolAccepts();
};

void TestTelemetry::outcomeNames_data()
{
    QTest::addColumn<Outcome>("outcome");
    QTest::addColumn<QString>("name");
    QTest::addRow("hit") << Outcome::Hit << "hit";
    QTest::addRow("miss") << Outcome::Miss << "miss";
    QTest::addRow("stale") << Outcome::Stale << "stale";
    QTest::addRow("bypass") << Outcome::Bypass << "bypass";
    QTest::addRow("error") << Outcome::Error << "error";
}

void TestTelemetry::outcomeNames()
{
    QFETCH(Outcome, outcome);
    QFETCH(QString, name);
    QCOMPARE(Telemetry::outcomeName(outcome), name);
}

void TestTelemetry::countsPerStoreAndOutcome()
{
    Telemetry telemetry;
    for (int i = 0; i < 3; ++i)
        telemetry.recordRequest(QStringLiteral("db"), Outcome::Hit, 100, 0.001);
    telemetry.recordRequest(QStringLiteral("db"), Outcome::Miss, 1000, 0.02);
    telemetry.recordRequest(QStringLiteral("redis"), Outcome::Stale, 7, 0.0005);
    telemetry.recordRequest(QStringLiteral("redis"), Outcome::Error, 0, 0.1);
    telemetry.recordRequest(QStringLiteral("custom"), Outcome::Bypass, 5, 0.0);

    const Telemetry::Snapshot snapshot = telemetry.snapshot();
    QVERIFY(snapshot.stores.contains(QStringLiteral("custom")));
    const Telemetry::StoreSnapshot db = snapshot.stores.value(QStringLiteral("db"));
    QCOMPARE(db.requests, (std::array<qint64, Telemetry::outcomeCount> { 3, 1, 0, 0, 0 }));
    QCOMPARE(db.bytesServed, 1300);
    QCOMPARE(db.requestSeconds.count, 4);
    QVERIFY(std::abs(db.requestSeconds.sum - 0.023) < 1e-9);
    const Telemetry::StoreSnapshot redis = snapshot.stores.value(QStringLiteral("redis"));
    QCOMPARE(redis.requests, (std::array<qint64, Telemetry::outcomeCount> { 0, 0, 1, 0, 1 }));
    QCOMPARE(redis.bytesServed, 7);
    QCOMPARE(snapshot.stores.value(QStringLiteral("custom")).requests[size_t(Outcome::Bypass)], 1);
    QCOMPARE(snapshot.stores.value(QStringLiteral("live")).requestSeconds.count, 0);

    const auto scraped = samples(telemetry.prometheus());
    QCOMPARE(scraped.value("preserve_cache_requests_total{store=\"db\",result=\"hit\"}"), "3");
    QCOMPARE(scraped.value("preserve_cache_requests_total{store=\"db\",result=\"miss\"}"), "1");
    QCOMPARE(scraped.value("preserve_cache_requests_total{store=\"db\",result=\"stale\"}"), "0");
    QCOMPARE(scraped.value("preserve_cache_requests_total{store=\"redis\",result=\"error\"}"), "1");
    QCOMPARE(scraped.value("preserve_cache_requests_total{store=\"custom\",result=\"bypass\"}"), "1");
    QCOMPARE(scraped.value("preserve_cache_bytes_served_total{store=\"db\"}"), "1300");
    QCOMPARE(scraped.value("preserve_cache_request_duration_seconds_count{store=\"db\"}"), "4");
    QCOMPARE(scraped.value("preserve_cache_request_duration_seconds_sum{store=\"db\"}").toDouble(), 0.023);
}

void TestTelemetry::bucketPlacement_data()
{
    QTest::addColumn<double>("seconds");
    QTest::addColumn<int>("bucket"); // index into bucketBounds; bucketBounds.size() is +Inf
    const int inf = int(Telemetry::bucketBounds.size());
    QTest::addRow("zero") << 0.0 << 0;
    QTest::addRow("first bound is inclusive") << 0.0001 << 0;
    QTest::addRow("just past the first bound") << 0.000100001 << 1;
    QTest::addRow("1 ms exactly") << 0.001 << 3;
    QTest::addRow("just past 1 ms") << 0.0010000001 << 4;
    QTest::addRow("just below 5 ms") << 0.0049999 << 5;
    QTest::addRow("1 s exactly") << 1.0 << 12;
    QTest::addRow("last bound exactly") << 2.5 << inf - 1;
    QTest::addRow("just past the last bound") << 2.5000001 << inf;
    QTest::addRow("a minute") << 60.0 << inf;
    QTest::addRow("infinity") << std::numeric_limits<double>::infinity() << inf;
    QTest::addRow("negative counts as zero") << -1.0 << 0;
    QTest::addRow("NaN counts as zero") << std::numeric_limits<double>::quiet_NaN() << 0;
}

void TestTelemetry::bucketPlacement()
{
    QFETCH(double, seconds);
    QFETCH(int, bucket);
    Telemetry telemetry;
    telemetry.recordRequest(QStringLiteral("redis"), Outcome::Hit, 1, seconds);
    const Telemetry::Histogram histogram = telemetry.snapshot().stores.value(QStringLiteral("redis")).requestSeconds;
    for (int i = 0; i < int(histogram.counts.size()); ++i)
        QCOMPARE(histogram.counts[size_t(i)], i == bucket ? 1 : 0);
    QCOMPARE(histogram.count, 1);
    QVERIFY(std::isfinite(histogram.sum) && histogram.sum >= 0);

    // The same placement in the exposition: 0 below the bucket, 1 from it on (cumulative).
    const auto scraped = samples(telemetry.prometheus());
    const char *family = "preserve_cache_request_duration_seconds";
    for (int i = 0; i < int(Telemetry::bucketBounds.size()); ++i) {
        const QByteArray key = bucketKey(family, "redis", leText(Telemetry::bucketBounds[size_t(i)]));
        QVERIFY2(scraped.contains(key), key.constData());
        QCOMPARE(scraped.value(key), i < bucket ? "0" : "1");
    }
    QCOMPARE(scraped.value(bucketKey(family, "redis", "+Inf")), "1");
}

void TestTelemetry::cumulativeBuckets()
{
    Telemetry telemetry;
    QList<double> durations;
    for (int i = 0; i < 500; ++i)
        durations.append(std::pow(10.0, -4.5 + (i % 50) * 0.1)); // 32 µs .. 2.5 s and beyond
    durations += { 0.0001, 0.0025, 0.5, 2.5, 3.0 };
    double sum = 0;
    for (const double seconds : durations) {
        telemetry.recordRequest(QStringLiteral("db"), Outcome::Hit, 0, seconds);
        sum += seconds;
    }

    const auto scraped = samples(telemetry.prometheus());
    const char *family = "preserve_cache_request_duration_seconds";
    qint64 previous = 0;
    for (const double bound : Telemetry::bucketBounds) {
        const qint64 atMost = std::count_if(durations.cbegin(), durations.cend(), [bound](double d) { return d <= bound; });
        const qint64 value = scraped.value(bucketKey(family, "db", leText(bound))).toLongLong();
        QCOMPARE(value, atMost);
        QVERIFY(value >= previous);
        previous = value;
    }
    const QByteArray infinite = scraped.value(bucketKey(family, "db", "+Inf"));
    QCOMPARE(infinite.toLongLong(), qint64(durations.size()));
    QCOMPARE(scraped.value(QByteArray(family) + "_count{store=\"db\"}"), infinite);
    const double scrapedSum = scraped.value(QByteArray(family) + "_sum{store=\"db\"}").toDouble();
    QVERIFY2(std::abs(scrapedSum - sum) < 1e-6, qPrintable(QString::number(scrapedSum - sum)));
}

void TestTelemetry::refreshesAndErrors()
{
    Telemetry telemetry;
    telemetry.recordRefresh(QStringLiteral("redis"), true, 0.2);
    telemetry.recordRefresh(QStringLiteral("redis"), true, 0.3);
    telemetry.recordRefresh(QStringLiteral("redis"), false, 4.0);
    telemetry.recordError(QStringLiteral("redis"));
    telemetry.recordError(QStringLiteral("redis"));
    telemetry.recordError(QStringLiteral("db"));

    const Telemetry::StoreSnapshot redis = telemetry.snapshot().stores.value(QStringLiteral("redis"));
    QCOMPARE(redis.refreshes, 3);
    QCOMPARE(redis.refreshFailures, 1);
    QCOMPARE(redis.refreshSeconds.count, 3);
    QCOMPARE(redis.refreshSeconds.counts.back(), 1); // 4 s: +Inf only
    QCOMPARE(redis.errors, 2);
    QCOMPARE(redis.requestSeconds.count, 0); // refreshes are not requests

    const auto scraped = samples(telemetry.prometheus());
    QCOMPARE(scraped.value("preserve_refresh_total{store=\"redis\",result=\"ok\"}"), "2");
    QCOMPARE(scraped.value("preserve_refresh_total{store=\"redis\",result=\"error\"}"), "1");
    QCOMPARE(scraped.value("preserve_refresh_total{store=\"db\",result=\"ok\"}"), "0");
    QCOMPARE(scraped.value(bucketKey("preserve_refresh_duration_seconds", "redis", "0.25")), "1");
    QCOMPARE(scraped.value(bucketKey("preserve_refresh_duration_seconds", "redis", "0.5")), "2");
    QCOMPARE(scraped.value(bucketKey("preserve_refresh_duration_seconds", "redis", "+Inf")), "3");
    QCOMPARE(scraped.value("preserve_refresh_duration_seconds_sum{store=\"redis\"}").toDouble(), 4.5);
    QCOMPARE(scraped.value("preserve_cache_errors_total{store=\"redis\"}"), "2");
    QCOMPARE(scraped.value("preserve_cache_errors_total{store=\"db\"}"), "1");
}

void TestTelemetry::hitRatio_data()
{
    QTest::addColumn<QList<int>>("counts"); // per outcome: hit, miss, stale, bypass, error
    QTest::addColumn<double>("ratio");
    QTest::addRow("idle") << QList<int> { 0, 0, 0, 0, 0 } << 0.0;
    QTest::addRow("errors only") << QList<int> { 0, 0, 0, 0, 4 } << 0.0;
    QTest::addRow("all hits") << QList<int> { 7, 0, 0, 0, 0 } << 1.0;
    QTest::addRow("errors do not count") << QList<int> { 3, 1, 0, 0, 9 } << 0.75;
    QTest::addRow("stale and bypass count") << QList<int> { 2, 1, 3, 2, 0 } << 0.25;
}

void TestTelemetry::hitRatio()
{
    QFETCH(QList<int>, counts);
    QFETCH(double, ratio);
    Telemetry telemetry;
    for (int outcome = 0; outcome < Telemetry::outcomeCount; ++outcome) {
        for (int i = 0; i < counts[outcome]; ++i) {
            // Spread over two stores: the ratio is over all of them.
            const QString store = i % 2 ? QStringLiteral("db") : QStringLiteral("redis");
            telemetry.recordRequest(store, Outcome(outcome), 1, 0.001);
        }
    }
    QCOMPARE(telemetry.snapshot().hitRatio(), ratio);
}

void TestTelemetry::memoryGauges()
{
    Telemetry telemetry;
    QCOMPARE(telemetry.snapshot().memoryBytes, 0);
    telemetry.setMemory(3, 1234567, 268435456);
    const Telemetry::Snapshot snapshot = telemetry.snapshot();
    QCOMPARE(snapshot.memoryEntries, 3);
    QCOMPARE(snapshot.memoryBytes, 1234567);
    QCOMPARE(snapshot.memoryCapacity, 268435456);
    telemetry.setMemory(2, 1000, 268435456); // a gauge goes down as well as up
    const auto scraped = samples(telemetry.prometheus());
    QCOMPARE(scraped.value("preserve_memory_entries"), "2");
    QCOMPARE(scraped.value("preserve_memory_bytes"), "1000");
    QCOMPARE(scraped.value("preserve_memory_capacity_bytes"), "268435456");
}

// More store kinds than there are slots: nothing is lost, the surplus is counted as "other", also
// when a caller used "other" itself before.
void TestTelemetry::manyStoreKinds_data()
{
    QTest::addColumn<bool>("otherFirst");
    QTest::addRow("other made at the limit") << false;
    QTest::addRow("other recorded early") << true;
}

void TestTelemetry::manyStoreKinds()
{
    QFETCH(bool, otherFirst);
    Telemetry telemetry;
    constexpr int kinds = 40;
    if (otherFirst)
        telemetry.recordRequest(QStringLiteral("other"), Outcome::Hit, 1, 0.001);
    else
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("store kinds: counting .* as \"other\"")));
    for (int i = 0; i < kinds; ++i)
        telemetry.recordRequest(QStringLiteral("kind%1").arg(i), Outcome::Hit, 1, 0.001);
    const Telemetry::Snapshot snapshot = telemetry.snapshot();
    QVERIFY(snapshot.stores.size() < kinds);
    QVERIFY(snapshot.stores.contains(QStringLiteral("other")));
    QVERIFY(snapshot.stores.contains(QStringLiteral("kind0")));
    qint64 hits = 0;
    for (const Telemetry::StoreSnapshot &store : snapshot.stores)
        hits += store.requests[size_t(Outcome::Hit)];
    QCOMPARE(hits, kinds + (otherFirst ? 1 : 0));
    const QByteArray text = telemetry.prometheus();
    QCOMPARE(text.count("preserve_cache_errors_total{store=\"other\"}"), 1);
    const QString problem = expositionProblem(text);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
}

// Four writers (on known kinds and on one they add at the same moment) and a reader: the totals
// are exact, and every snapshot taken meanwhile is consistent (+Inf == count).
void TestTelemetry::concurrentRecording()
{
    Telemetry telemetry;
    constexpr int threads = 4;
    constexpr int perThread = 100000;
    const QStringList stores { QStringLiteral("db"), QStringLiteral("redis"), QStringLiteral("live"),
                               QStringLiteral("burst") };
    std::atomic<bool> writing { true };
    std::atomic<int> inconsistent { 0 };
    std::thread reader([&] {
        while (writing.load()) {
            for (const Telemetry::StoreSnapshot &store : telemetry.snapshot().stores) {
                qint64 buckets = 0;
                for (const qint64 count : store.requestSeconds.counts)
                    buckets += count;
                if (buckets != store.requestSeconds.count)
                    ++inconsistent;
            }
        }
    });
    std::vector<std::thread> writers;
    for (int t = 0; t < threads; ++t) {
        writers.emplace_back([&telemetry, &stores] {
            for (int i = 0; i < perThread; ++i)
                telemetry.recordRequest(stores[i % 4], Outcome(i % Telemetry::outcomeCount), i % 3, (i % 7) * 0.001);
        });
    }
    for (std::thread &writer : writers)
        writer.join();
    writing = false;
    reader.join();

    QCOMPARE(inconsistent.load(), 0);
    const Telemetry::Snapshot snapshot = telemetry.snapshot();
    for (int s = 0; s < stores.size(); ++s) {
        // What the loop above recorded for this store, counted the slow way.
        std::array<qint64, Telemetry::outcomeCount> requests {};
        qint64 bytes = 0;
        qint64 sumMicros = 0;
        for (int i = s; i < perThread; i += 4) {
            requests[size_t(i % Telemetry::outcomeCount)] += threads;
            bytes += (i % 3) * threads;
            sumMicros += (i % 7) * 1000 * threads;
        }
        QVERIFY2(snapshot.stores.contains(stores[s]), qPrintable(stores[s]));
        const Telemetry::StoreSnapshot store = snapshot.stores.value(stores[s]);
        QCOMPARE(store.requests, requests);
        QCOMPARE(store.bytesServed, bytes);
        QCOMPARE(store.requestSeconds.count, qint64(threads) * perThread / 4);
        QVERIFY(std::abs(store.requestSeconds.sum - double(sumMicros) / 1e6) < 1e-3);
    }
    QCOMPARE(snapshot.stores.size(), 4);
}

void TestTelemetry::labelValuesEscaped()
{
    Telemetry telemetry;
    telemetry.recordError(QStringLiteral("we\"ird\\st\nore"));
    const QByteArray text = telemetry.prometheus();
    QVERIFY(text.contains("preserve_cache_errors_total{store=\"we\\\"ird\\\\st\\nore\"} 1\n"));
    const QString problem = expositionProblem(text);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
}

void TestTelemetry::expositionFormat()
{
    Telemetry telemetry;
    const QString idle = expositionProblem(telemetry.prometheus()); // all families, all zero
    QVERIFY2(idle.isEmpty(), qPrintable(idle));
    telemetry.recordRequest(QStringLiteral("db"), Outcome::Hit, 1850000, 0.000004);
    telemetry.recordRequest(QStringLiteral("custom"), Outcome::Miss, 10, 0.3);
    telemetry.recordRefresh(QStringLiteral("redis"), false, 0.02);
    telemetry.recordError(QStringLiteral("redis"));
    telemetry.setMemory(1, 2000000, 268435456);
    const QByteArray text = telemetry.prometheus();
    const QString problem = expositionProblem(text);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    for (const char *family : { "preserve_cache_requests_total", "preserve_cache_request_duration_seconds",
                                "preserve_cache_bytes_served_total", "preserve_refresh_total",
                                "preserve_refresh_duration_seconds", "preserve_cache_errors_total",
                                "preserve_memory_entries", "preserve_memory_bytes",
                                "preserve_memory_capacity_bytes" })
        QVERIFY2(text.contains(QByteArray("\n# TYPE ") + family + ' ') || text.startsWith(QByteArray("# HELP ") + family),
                 family);
    // Bounds written as other clients write them: label values are compared as strings.
    for (const char *le : { "0.0001", "0.00025", "0.0005", "0.001", "0.1", "1", "2.5", "+Inf" })
        QVERIFY2(text.contains(QByteArray("preserve_cache_request_duration_seconds_bucket{store=\"db\",le=\"") + le + "\"} 1\n"), le);
}

// The checker above must reject what it is there to reject, or expositionFormat proves nothing.
void TestTelemetry::expositionCheckCatches_data()
{
    QTest::addColumn<QByteArray>("text");
    const QByteArray head = "# HELP a_total A.\n# TYPE a_total counter\n";
    QTest::addRow("valid") << QByteArray(head + "a_total{x=\"1\"} 3\n");
    QTest::addRow("no TYPE") << QByteArray("# HELP a_total A.\na_total 3\n");
    QTest::addRow("HELP twice") << QByteArray(head + "# HELP a_total A.\na_total 3\n");
    QTest::addRow("bad value") << QByteArray(head + "a_total three\n");
    QTest::addRow("bad name") << QByteArray(head + "# HELP 1a A.\n# TYPE 1a gauge\n1a 3\n");
    QTest::addRow("no final newline") << QByteArray(head + "a_total 3");
    QTest::addRow("family split") << QByteArray(head + "a_total{x=\"1\"} 3\n# HELP b B.\n# TYPE b gauge\nb 1\n"
                                                       "a_total{x=\"2\"} 4\n");
    QTest::addRow("histogram without TYPE") << QByteArray("# HELP h H.\n# TYPE h_bucket counter\nh_sum 1\n");
}

void TestTelemetry::expositionCheckCatches()
{
    QFETCH(QByteArray, text);
    const bool valid = QByteArray(QTest::currentDataTag()) == "valid";
    QCOMPARE(expositionProblem(text).isEmpty(), valid);
}

// Prometheus' own linter, when Debian's prometheus package is installed.
void TestTelemetry::promtoolAccepts()
{
    const QString promtool = QStandardPaths::findExecutable(QStringLiteral("promtool"));
    if (promtool.isEmpty())
        QSKIP("promtool not installed (Debian package prometheus); the regex check in expositionFormat still ran");
    Telemetry telemetry;
    telemetry.recordRequest(QStringLiteral("db"), Outcome::Hit, 100, 0.0003);
    telemetry.recordRequest(QStringLiteral("redis"), Outcome::Miss, 100, 0.003);
    telemetry.recordRefresh(QStringLiteral("db"), true, 0.04);
    telemetry.recordError(QStringLiteral("odd \"store\""));
    telemetry.setMemory(1, 100, 1000);

    QProcess process;
    process.start(promtool, { QStringLiteral("check"), QStringLiteral("metrics") });
    QVERIFY2(process.waitForStarted(), qPrintable(process.errorString()));
    process.write(telemetry.prometheus());
    process.closeWriteChannel();
    QVERIFY2(process.waitForFinished(20000), qPrintable(process.errorString()));
    const QByteArray output = process.readAllStandardOutput() + process.readAllStandardError();
    QVERIFY2(process.exitStatus() == QProcess::NormalExit && process.exitCode() == 0, output.constData());
    QVERIFY2(output.trimmed().isEmpty(), output.constData()); // no lint findings either
}

QTEST_GUILESS_MAIN(TestTelemetry)
#include "tst_telemetry.moc"
