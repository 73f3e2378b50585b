#pragma once

#include "core/result.h"
#include "db/databaseconfig.h"

#include <QByteArray>
#include <QDeadlineTimer>
#include <QString>
#include <QStringList>
#include <QTemporaryDir>
#include <QTest>

#include <memory>
#include <utility>

class Database;
struct sqlite3;

// Opens a SQLite file or a postgresql:// URL for `appLabel`; nullptr, after a warning that says why.
std::unique_ptr<Database> openDatabaseOrWarn(const QString &spec, const QString &appLabel = QStringLiteral("api"));
class TestSqlite;
// A connection to the fixture's file; aborts the test program when it cannot be opened.
std::unique_ptr<Database> openOrFail(const TestSqlite &sqlite);

// A SQLite file with exactly Django's schema for one app label (Seeder::sqliteSchema), in a
// temporary folder removed with the object, filled row by row by the test. Inserts go through the
// engine's API so that a test can store what Django never would (NUL, invalid UTF-8, NULL names).
// Failures abort the test program with the SQLite message: a broken fixture is not a result.
class TestSqlite {
public:
    explicit TestSqlite(const QString &appLabel = QStringLiteral("api"));
    ~TestSqlite();
    TestSqlite(const TestSqlite &) = delete;
    TestSqlite &operator=(const TestSqlite &) = delete;

    QString path() const { return m_path; }
    QString appLabel() const { return m_label; }
    DatabaseConfig config(bool readOnly = false) const;

    void exec(const QString &sql);
    // `id` 0 lets SQLite choose; returns the row's id.
    qint64 addFoo(const QByteArray &name, qint64 id = 0);
    qint64 addBar(qint64 foo, const QByteArray &name, qint64 id = 0);
    qint64 addZab(qint64 bar, const QByteArray &name, qint64 id = 0);
    qint64 addBaz(const QByteArray &name, qint64 id = 0);
    qint64 link(qint64 zab, qint64 baz);

private:
    qint64 insert(const char *table, const char *parentColumn, qint64 parent, const QByteArray &name, qint64 id);

    QTemporaryDir m_dir;
    QString m_label;
    QString m_path;
    sqlite3 *m_db = nullptr;
};

struct ProcessResult {
    int exitCode = -1;
    bool finished = false;
    QByteArray out;
    QByteArray err;
};
// Runs a program to its end (at most `timeoutMs`), capturing both streams.
ProcessResult runProcess(const QString &program, const QStringList &arguments, int timeoutMs = 120000);

// The `preserve` executable of this build.
QString preserveBinary();
// tests/drf/drf_reference.py: the real Django ORM and DRF, run by Debian's python3.
QString drfReferenceScript();
QString systemPython();
// Runs the reference script; fails the calling test (returns an empty result) when it cannot run.
ProcessResult runReference(const QStringList &arguments, int timeoutMs = 300000);

// Runs programs side by side, a few more than there are cores at a time; results in input order.
QList<ProcessResult> runInParallel(const QList<std::pair<QString, QStringList>> &commands);
// The reference script as a command for runInParallel, and several of them at once.
std::pair<QString, QStringList> referenceCommand(const QStringList &arguments);
QList<ProcessResult> runReferences(const QList<QStringList> &argumentLists);
QString describe(const ProcessResult &result);

// Printable ASCII as it is, every other byte as \xNN: a raw control character or UTF-8 sequence
// stays distinguishable from its JSON escape.
QByteArray visible(const QByteArray &bytes);
// Where two bodies part, with 80 bytes of each around that offset.
QString firstDifference(const QByteArray &ours, const QByteArray &theirs);

#define COMPARE_BODIES(ours, theirs)                                                                       \
    do {                                                                                                   \
        const QByteArray ours_ = (ours);                                                                   \
        const QByteArray theirs_ = (theirs);                                                               \
        if (ours_ != theirs_)                                                                              \
            QFAIL(qPrintable(firstDifference(ours_, theirs_)));                                            \
    } while (false)

// Asks `probe` every 50 ms until it says yes or `timeoutMs` pass; true when it said yes. For probes
// with effects, such as a request that may land on another worker each time: QTRY_* evaluates its
// expression again after it held, and once more for its failure report, so a probe that held once
// can read as failed.
template <typename Probe>
bool eventually(Probe probe, int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    while (!probe()) {
        if (deadline.hasExpired())
            return false;
        QTest::qWait(50);
    }
    return true;
}

// For QVERIFY2 messages: Qt 6.4 evaluates the message even when the check passes.
template <typename T>
QString why(const Result<T> &result)
{
    return result ? QString() : result.error().message;
}
