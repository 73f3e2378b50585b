// ReconnectGate: every worker opens at once while nothing failed; after a failure one attempt at a
// time, backing off 50 ms, 100 ms, … to at most 1 s, the others told the last error; a success
// ends it.
#include "cache/workerpool.h"

#include <QTest>

using namespace std::chrono_literals;

class TestReconnectGate : public QObject {
    Q_OBJECT

private slots:
    void nothingFailedEveryoneTries()
    {
        ReconnectGate gate;
        QString error;
        QVERIFY(gate.mayTry(&error));
        QVERIFY(gate.mayTry(&error)); // a second worker opening at the same time
    }

    void backsOffToOneSecond()
    {
        ReconnectGate gate;
        const auto start = ReconnectGate::Clock::now();
        QString error;
        QVERIFY(gate.mayTry(&error, start));
        gate.failed(QStringLiteral("connection refused"), start);
        auto now = start;
        std::chrono::milliseconds expected = ReconnectGate::firstDelay;
        for (int attempt = 0; attempt < 8; ++attempt) {
            QVERIFY(!gate.mayTry(&error, now + expected - 1ms));
            QCOMPARE(error, QStringLiteral("connection refused"));
            now += expected;
            QVERIFY(gate.mayTry(&error, now));
            QVERIFY(!gate.mayTry(&error, now + 10s)); // one attempt at a time
            gate.failed(QStringLiteral("connection refused"), now);
            expected = std::min(expected * 2, ReconnectGate::maxDelay);
        }
        QCOMPARE(expected, ReconnectGate::maxDelay);
    }

    void successEndsTheBackoff()
    {
        ReconnectGate gate;
        const auto start = ReconnectGate::Clock::now();
        QString error;
        gate.failed(QStringLiteral("down"), start);
        QVERIFY(gate.mayTry(&error, start + ReconnectGate::firstDelay));
        gate.succeeded();
        QVERIFY(gate.mayTry(&error, start));
        QVERIFY(gate.mayTry(&error, start));
    }
};

QTEST_GUILESS_MAIN(TestReconnectGate)
#include "tst_reconnectgate.moc"
