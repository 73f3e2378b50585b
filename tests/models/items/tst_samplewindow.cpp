#include "items/samplewindow.h"

#include <QTest>

namespace {

using Segments = QList<QList<QPointF>>;

} // namespace

class TestSampleWindow : public QObject {
    Q_OBJECT

private slots:
    void idleSecondsAreGaps();
    void oldSecondsLeave();
    void roundCeiling_data();
    void roundCeiling();
    void axisFollowsTheWindowDown();
    void clearEmpties();
};

// Seconds without a value split the line: two segments, and nothing at 0 for the idle seconds.
void TestSampleWindow::idleSecondsAreGaps()
{
    SampleWindow window(60);
    for (const std::optional<double> value : { std::optional<double>(80), std::optional<double>(90),
             std::optional<double>(), std::optional<double>(), std::optional<double>(100) })
        window.advance(value);
    const Segments segments = window.segments();
    QCOMPARE(segments.size(), 2);
    QCOMPARE(segments.at(0), (QList<QPointF> { { -4, 80 }, { -3, 90 } }));
    QCOMPARE(segments.at(1), (QList<QPointF> { { 0, 100 } }));
    // A measured 0 is a point, unlike a second without a value.
    window.advance(0.0);
    QCOMPARE(window.segments().size(), 2);
    QCOMPARE(window.segments().at(1).last(), QPointF(0, 0));
    // Idle at the start and the end: no empty segments.
    SampleWindow idle(60);
    idle.advance(std::nullopt);
    idle.advance(5.0);
    idle.advance(std::nullopt);
    QCOMPARE(idle.segments(), (Segments { { { -1, 5 } } }));
}

// The window holds ages 0 … seconds: the oldest point sits on the chart's left edge, then leaves.
void TestSampleWindow::oldSecondsLeave()
{
    SampleWindow window(60);
    for (int second = 0; second <= 60; ++second)
        window.advance(double(second));
    QCOMPARE(window.segments().size(), 1);
    QCOMPARE(window.segments().constFirst().size(), 61);
    QCOMPARE(window.segments().constFirst().constFirst(), QPointF(-60, 0));
    window.advance(61.0);
    QCOMPARE(window.segments().constFirst().size(), 61);
    QCOMPARE(window.segments().constFirst().constFirst(), QPointF(-60, 1));
    QCOMPARE(window.segments().constFirst().constLast(), QPointF(0, 61));
}

void TestSampleWindow::roundCeiling_data()
{
    QTest::addColumn<double>("peak");
    QTest::addColumn<double>("ceiling");
    QTest::addRow("empty") << 0.0 << 10.0;
    QTest::addRow("at the floor") << 10.0 << 10.0;
    QTest::addRow("just above") << 10.5 << 20.0;
    QTest::addRow("to five") << 37.0 << 50.0;
    QTest::addRow("next decade") << 51.0 << 100.0;
    QTest::addRow("thousands") << 1200.0 << 2000.0;
}

void TestSampleWindow::roundCeiling()
{
    QFETCH(double, peak);
    QFETCH(double, ceiling);
    SampleWindow window(60);
    window.advance(peak);
    QCOMPARE(window.peak(), peak);
    QCOMPARE(window.roundCeiling(10), ceiling);
}

// A burst sets the scale while it is in the window and takes it along when it leaves.
void TestSampleWindow::axisFollowsTheWindowDown()
{
    SampleWindow requests(60);
    SampleWindow latency(60);
    requests.advance(4200.0);
    latency.advance(120.0);
    QCOMPARE(requests.roundCeiling(10), 5000.0);
    QCOMPARE(latency.decadeCeiling(10), 1000.0);
    for (int second = 1; second <= 60; ++second) {
        requests.advance(std::nullopt); // stopped a while, then quiet traffic
        latency.advance(std::nullopt);
    }
    QCOMPARE(requests.roundCeiling(10), 5000.0); // the burst is on the left edge
    QCOMPARE(latency.decadeCeiling(10), 1000.0);
    requests.advance(12.0);
    latency.advance(0.4);
    QCOMPARE(requests.roundCeiling(10), 20.0);
    QCOMPARE(latency.decadeCeiling(10), 10.0);
    QCOMPARE(requests.segments(), (Segments { { { 0, 12 } } }));
}

void TestSampleWindow::clearEmpties()
{
    SampleWindow window(60);
    window.advance(3.0);
    window.clear();
    QVERIFY(window.segments().isEmpty());
    QCOMPARE(window.peak(), 0.0);
    QCOMPARE(window.roundCeiling(10), 10.0);
}

QTEST_GUILESS_MAIN(TestSampleWindow)
#include "tst_samplewindow.moc"
