#include "core/spillfile.h"

#include <QDir>
#include <QTemporaryDir>
#include <QTest>

#include <unistd.h>

class TestSpillFile : public QObject {
    Q_OBJECT

private slots:
    // Small and large pieces, across the 1 MiB buffer's edge: read back as written, whole, at an
    // offset and through the map.
    void readsBackWhatWasAppended()
    {
        auto file = SpillFile::create();
        QVERIFY2(file, qPrintable(file ? QString() : file.error().message));
        QByteArray expected;
        for (int i = 0; i < 3000; ++i) {
            const QByteArray piece = QByteArray::number(i).repeated(1 + i % 200);
            expected += piece;
            QVERIFY((*file)->append(piece));
        }
        const QByteArray big(3 * 1024 * 1024 + 17, 'x'); // larger than the buffer: written straight
        expected += big;
        QVERIFY((*file)->append(big));
        expected += "]";
        QVERIFY((*file)->append("]"));
        QVERIFY((*file)->finish());
        QCOMPARE((*file)->size(), expected.size());
        QCOMPARE((*file)->readAll().value(), expected);
        QCOMPARE((*file)->read(1000, 5000).value(), expected.mid(1000, 5000));
        QCOMPARE((*file)->read(expected.size() - 3, 100).value(), expected.right(3)); // fewer at the end
        QCOMPARE((*file)->mapped(), QByteArrayView(expected));
        QCOMPARE(::lseek((*file)->fd(), 0, SEEK_END), off_t(expected.size()));
    }

    // The file has no name: nothing is left behind in the directory, whatever happens after.
    void leavesNothingBehind()
    {
        QTemporaryDir dir;
        const QByteArray before = qgetenv("TMPDIR");
        qputenv("TMPDIR", QFile::encodeName(dir.path()));
        auto file = SpillFile::create();
        qputenv("TMPDIR", before);
        QVERIFY(file);
        QVERIFY((*file)->append("[1]"));
        QVERIFY((*file)->finish());
        QVERIFY(QDir(dir.path()).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden).isEmpty());
        QCOMPARE((*file)->readAll().value(), QByteArray("[1]"));
    }

    // A directory that cannot take the file: an error that says where and why.
    void aMissingDirectoryIsAClearError()
    {
        const QByteArray before = qgetenv("TMPDIR");
        qputenv("TMPDIR", "/nonexistent-preserve-dir");
        auto file = SpillFile::create();
        qputenv("TMPDIR", before);
        QVERIFY(!file);
        QVERIFY2(file.error().message.contains(QStringLiteral("/nonexistent-preserve-dir")), qPrintable(file.error().message));
    }
};

QTEST_GUILESS_MAIN(TestSpillFile)
#include "tst_spillfile.moc"
