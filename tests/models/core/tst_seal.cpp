#include "core/seal.h"

#include <QTest>

// seal64 must be XXH64 itself: entries written by one build (or checked by xxhsum) must seal the
// same in the next. The expected values come from the reference implementation (xxhsum -H1).
class TestSeal : public QObject {
    Q_OBJECT

private:
    static QByteArray printable(int size)
    {
        QByteArray bytes;
        for (int i = 0; i < size; ++i)
            bytes += char(32 + i % 95);
        return bytes;
    }

private slots:
    void matchesTheReference_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<quint64>("expected");
        QTest::newRow("empty") << QByteArray() << quint64(0xef46db3751d8e999ULL);
        QTest::newRow("abc, the short tail") << QByteArray("abc") << quint64(0x44bc2cf5ad770999ULL);
        QTest::newRow("37 bytes: one stripe, 8-, 4- and 1-byte tails") << printable(37) << quint64(0x28af446e802799f9ULL);
        QTest::newRow("1000 bytes: many stripes") << printable(1000) << quint64(0xf013e5568570b546ULL);
    }

    void matchesTheReference()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(quint64, expected);
        QCOMPARE(seal64(bytes), expected);
    }

    void tellsAChangedByte()
    {
        QByteArray body = printable(4096);
        const quint64 before = seal64(body);
        body[2048] = char(body[2048] ^ 1);
        QVERIFY(seal64(body) != before);
        QVERIFY(seal64(printable(4096), 1) != before); // the seed takes part
    }
};

QTEST_APPLESS_MAIN(TestSeal)
#include "tst_seal.moc"
