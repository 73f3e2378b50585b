// CommitLedger and what feeds it: the change counter of a SQLite rollback-journal file, as a reader
// sees it in its snapshot, and the commits WriteTransaction notes as cache-only.

#include "db/commitledger.h"
#include "db/database.h"
#include "db/writetransaction.h"
#include "testsupport.h"

#include <QFile>
#include <QScopeGuard>
#include <QTest>

#include <sqlite3.h>

#include <atomic>
#include <thread>

namespace {

std::optional<Database::ChangeMark> markNow(Database &database)
{
    ReadSnapshot snapshot(database);
    return database.snapshotChangeMark();
}

// One write of `sql` in a WriteTransaction, declared cache-only with `rows` rows when rows >= 0.
void write(Database &database, const QString &sql, qint64 rows)
{
    WriteTransaction transaction(database);
    QVERIFY(transaction.begin().ok());
    auto run = database.run(sql);
    QVERIFY2(run.ok(), qPrintable(why(run)));
    (*run)->reset();
    if (rows >= 0)
        transaction.markCacheOnly(rows);
    QVERIFY(transaction.commit().ok());
}

} // namespace

class TestCommitLedger : public QObject {
    Q_OBJECT

private slots:
    void notedCommitsAnswer()
    {
        CommitLedger ledger;
        const CommitLedger::File file { 1, 2 };
        const CommitLedger::File other { 1, 3 };
        QVERIFY(ledger.onlyNotedBetween(file, 7, 7, 0)); // no commit at all
        QVERIFY(!ledger.onlyNotedBetween(file, 7, 8, 0));
        ledger.note(file, 7);
        QCOMPARE(ledger.notes(), quint64(1));
        QVERIFY(ledger.onlyNotedBetween(file, 7, 8, 0));
        QVERIFY(!ledger.onlyNotedBetween(file, 6, 8, 0)); // 6 -> 7 was someone else's
        QVERIFY(!ledger.onlyNotedBetween(file, 7, 9, 0));
        QVERIFY(!ledger.onlyNotedBetween(other, 7, 8, 0)); // another file
        QVERIFY(!ledger.onlyNotedBetween(file, 8, 7, 0));  // backwards
        ledger.note(file, 9);
        QVERIFY(!ledger.onlyNotedBetween(file, 7, 10, 0)); // 8 -> 9 missing
        ledger.note(file, 8);
        QVERIFY(ledger.onlyNotedBetween(file, 7, 10, 0));
        QVERIFY(!ledger.onlyNotedBetween(file, 7, 10 + CommitLedger::maxSpan, 0));
    }

    void notesBeforeTheReadersLookDoNotCount()
    {
        // A file deleted and made again can get the same inode, and its counter goes through the
        // same values: what was noted for the old one must not vouch for the new one's commits.
        CommitLedger ledger;
        const CommitLedger::File file { 1, 2 };
        ledger.note(file, 7);
        ledger.note(file, 8);
        const quint64 look = ledger.notes(); // the reader's snapshot, at counter 7, of the new file
        QVERIFY(!ledger.onlyNotedBetween(file, 7, 9, look));
        ledger.note(file, 7); // the new file's own cache commit, after the look
        QVERIFY(ledger.onlyNotedBetween(file, 7, 8, look));
        QVERIFY(!ledger.onlyNotedBetween(file, 7, 9, look)); // 8 -> 9 only by the old file's note
    }

    void readersWaitForACommitBeingSettled()
    {
        // Between a writer's COMMIT and its settle(), a reader that already sees the new counter
        // waits for the answer: taking the commit for someone else's would only cost a re-read,
        // taking it for the cache's before it is known would be wrong.
        CommitLedger ledger(std::chrono::seconds(60));
        const CommitLedger::File file { 1, 2 };
        const quint64 look = ledger.notes();
        for (const bool cacheOnly : { true, false }) {
            const quint32 before = cacheOnly ? 7 : 8;
            const quint64 ticket = ledger.expect(file, before);
            std::atomic<int> answer { -1 };
            std::thread reader([&] { answer = ledger.onlyNotedBetween(file, before, before + 1, look) ? 1 : 0; });
            QTRY_COMPARE(ledger.waitingReaders(), 1);
            QCOMPARE(answer.load(), -1);
            ledger.settle(ticket, cacheOnly);
            reader.join();
            QCOMPARE(answer.load(), cacheOnly ? 1 : 0);
        }
        QVERIFY(ledger.onlyNotedBetween(file, 7, 8, look));
        // One never settled (a writer gone astray) ends the wait: not noted.
        CommitLedger impatient(std::chrono::milliseconds(1));
        impatient.expect(file, 9);
        QVERIFY(!impatient.onlyNotedBetween(file, 9, 10, 0));
    }

    void oldestNotesGoFirst()
    {
        CommitLedger ledger;
        const CommitLedger::File file { 1, 2 };
        for (quint32 counter = 1000; counter <= 1000 + CommitLedger::keptPerFile; ++counter)
            ledger.note(file, counter);
        QVERIFY(!ledger.onlyNotedBetween(file, 1000, 1002, 0));
        QVERIFY(ledger.onlyNotedBetween(file, 1001, 1003, 0));
        // A new file on the old one's inode starts from low counters: its notes are the newest and
        // stay, whatever their values.
        const quint64 look = ledger.notes();
        ledger.note(file, 5);
        QVERIFY(ledger.onlyNotedBetween(file, 5, 6, look));
    }

    void marksOfOneCounterDifferInTheirHeader()
    {
        // The same counter with another size or freelist: the file was rewritten in place (a
        // backup copied over it), as SQLite's own page cache would tell.
        TestSqlite sqlite;
        auto database = openOrFail(sqlite);
        const auto mark = markNow(*database);
        QVERIFY(mark);
        QVERIFY(database->onlyCacheCommitsBetween(*mark, *mark));
        for (int word = 0; word < 3; ++word) {
            auto rewritten = *mark;
            ++rewritten.header[size_t(word)];
            QVERIFY(!database->onlyCacheCommitsBetween(*mark, rewritten));
        }
    }

    void marksOfTwoFilesNeverCompare()
    {
        // Two files, both new, may stand at the same counter with the same header: a mark taken on
        // a connection to the file a path named before it was replaced says nothing of the new one.
        TestSqlite one;
        TestSqlite other;
        auto first = openOrFail(one);
        auto second = openOrFail(other);
        const auto mark = markNow(*first);
        const auto otherMark = markNow(*second);
        QVERIFY(mark && otherMark);
        QCOMPARE(otherMark->counter, mark->counter);
        QCOMPARE(otherMark->header, mark->header);
        QVERIFY(second->onlyCacheCommitsBetween(*otherMark, *otherMark));
        QVERIFY(!second->onlyCacheCommitsBetween(*mark, *otherMark));
        QVERIFY(!first->onlyCacheCommitsBetween(*otherMark, *otherMark)); // not this connection's file
    }

    void marksDoNotOutliveTheFilesConnections()
    {
        // While a connection holds the file, another one's marks compare with its; once every
        // connection closed, the inode may go to a new file, and older marks say nothing of it.
        TestSqlite sqlite;
        auto first = openOrFail(sqlite);
        const auto before = markNow(*first);
        auto second = openOrFail(sqlite);
        const auto meanwhile = markNow(*second);
        QVERIFY(before && meanwhile);
        QVERIFY(second->onlyCacheCommitsBetween(*before, *meanwhile));
        first.reset();
        second.reset();
        auto third = openOrFail(sqlite);
        const auto after = markNow(*third);
        QVERIFY(after);
        QCOMPARE(after->counter, before->counter); // the same file, as it was
        QVERIFY(third->onlyCacheCommitsBetween(*after, *after));
        QVERIFY(!third->onlyCacheCommitsBetween(*before, *after));
    }

    void aWriterThatIgnoresLocksSpoilsTheNote()
    {
        // A connection without locks (nolock=1, or a network file system without them) commits
        // while the store's transaction is open; the store's commit then raises the counter from
        // its own start, and the file shows one commit where there were two.
        TestSqlite sqlite;
        const qint64 foo = sqlite.addFoo("foo");
        const qint64 baz = sqlite.addBaz("baz");
        auto reader = openOrFail(sqlite);
        auto writer = openOrFail(sqlite);
        sqlite3 *lockless = nullptr;
        const QByteArray uri = "file:" + QFile::encodeName(sqlite.path()) + "?nolock=1";
        QCOMPARE(sqlite3_open_v2(uri.constData(), &lockless, SQLITE_OPEN_READWRITE | SQLITE_OPEN_URI, nullptr), SQLITE_OK);
        const auto guard = qScopeGuard([lockless] { sqlite3_close(lockless); });
        QCOMPARE(sqlite3_exec(lockless, "PRAGMA journal_mode = MEMORY", nullptr, nullptr, nullptr), SQLITE_OK);
        const auto before = markNow(*reader);
        {
            WriteTransaction transaction(*writer);
            QVERIFY(transaction.begin().ok());
            const QByteArray rename = "UPDATE api_baz SET name = 'renamed' WHERE id = " + QByteArray::number(baz);
            QCOMPARE(sqlite3_exec(lockless, rename.constData(), nullptr, nullptr, nullptr), SQLITE_OK);
            auto run = writer->run(QStringLiteral("UPDATE api_foo SET pre_serialized = '[1]' WHERE id = %1").arg(foo));
            QVERIFY(run.ok());
            (*run)->reset();
            transaction.markCacheOnly(1);
            QVERIFY(transaction.commit().ok());
        }
        const auto after = markNow(*reader);
        QCOMPARE(after->counter, before->counter + 1);
        QVERIFY(!reader->onlyCacheCommitsBetween(*before, *after));
    }

    void exclusiveLockingNotesNothing()
    {
        // In EXCLUSIVE locking mode the counter rises once per lock, not once per commit.
        TestSqlite sqlite;
        const qint64 foo = sqlite.addFoo("foo");
        auto writer = openOrFail(sqlite);
        {
            auto pragma = writer->run(QStringLiteral("PRAGMA locking_mode = EXCLUSIVE"));
            QVERIFY(pragma.ok());
        }
        const quint64 notes = CommitLedger::instance().notes();
        for (int value = 1; value <= 2; ++value)
            write(*writer, QStringLiteral("UPDATE api_foo SET pre_serialized = '[%1]' WHERE id = %2").arg(value).arg(foo), 1);
        QCOMPARE(CommitLedger::instance().notes(), notes);
        writer.reset(); // it keeps its lock until it closes
        auto normal = openOrFail(sqlite); // the same writes on a connection in normal mode are noted
        write(*normal, QStringLiteral("UPDATE api_foo SET pre_serialized = '[3]' WHERE id = %1").arg(foo), 1);
        QCOMPARE(CommitLedger::instance().notes(), notes + 1);
    }

    void counterCountsCommitsInTheSnapshot()
    {
        TestSqlite sqlite;
        const qint64 baz = sqlite.addBaz("one");
        auto database = openOrFail(sqlite);
        QVERIFY(!database->snapshotChangeMark()); // no transaction: no snapshot to speak of
        const auto before = markNow(*database);
        QVERIFY(before);
        sqlite.exec(QStringLiteral("UPDATE api_baz SET name = 'two' WHERE id = %1").arg(baz));
        QCOMPARE(markNow(*database)->counter, before->counter + 1);
        sqlite.exec(QStringLiteral("UPDATE api_baz SET name = 'three' WHERE id = %1").arg(baz));
        sqlite.exec(QStringLiteral("UPDATE api_baz SET name = 'four' WHERE id = %1").arg(baz));
        const auto after = markNow(*database);
        QCOMPARE(after->counter, before->counter + 3);
        {
            // Inside one snapshot the answer holds still: no commit gets in while it reads.
            ReadSnapshot snapshot(*database);
            const auto inside = database->snapshotChangeMark();
            QVERIFY(inside == after);
        }
        // Someone else's commits are never taken for the cache's.
        QVERIFY(!database->onlyCacheCommitsBetween(*before, *after));
        QVERIFY(database->onlyCacheCommitsBetween(*after, *after));
    }

    void cacheOnlyCommitsAreNoted()
    {
        TestSqlite sqlite;
        const qint64 foo = sqlite.addFoo("foo");
        auto reader = openOrFail(sqlite);
        auto writer = openOrFail(sqlite);
        const auto column = [foo](int value) {
            return QStringLiteral("UPDATE api_foo SET pre_serialized = '[%1]' WHERE id = %2").arg(value).arg(foo);
        };
        const auto first = markNow(*reader);
        QVERIFY(first);
        write(*writer, column(1), 1);
        write(*writer, column(2), 1);
        const auto second = markNow(*reader);
        QCOMPARE(second->counter, first->counter + 2);
        QVERIFY(reader->onlyCacheCommitsBetween(*first, *second));
        // Not declared cache-only, or declared with another row count than the file saw: not noted.
        write(*writer, column(3), -1);
        const auto third = markNow(*reader);
        write(*writer, column(4), 2);
        const auto fourth = markNow(*reader);
        QCOMPARE(fourth->counter, second->counter + 2);
        QVERIFY(!reader->onlyCacheCommitsBetween(*second, *third));
        QVERIFY(!reader->onlyCacheCommitsBetween(*third, *fourth));
        QVERIFY(!reader->onlyCacheCommitsBetween(*first, *fourth));
    }

    void rowsChangedByATriggerAreNotTheCaches()
    {
        TestSqlite sqlite;
        const qint64 foo = sqlite.addFoo("foo");
        const qint64 baz = sqlite.addBaz("baz");
        sqlite.exec(QStringLiteral("CREATE TRIGGER rename_baz AFTER UPDATE OF pre_serialized ON api_foo BEGIN "
                                   "UPDATE api_baz SET name = 'by trigger' WHERE id = %1; END")
                        .arg(baz));
        auto reader = openOrFail(sqlite);
        auto writer = openOrFail(sqlite);
        const auto before = markNow(*reader);
        write(*writer, QStringLiteral("UPDATE api_foo SET pre_serialized = '{}' WHERE id = %1").arg(foo), 1);
        const auto after = markNow(*reader);
        QCOMPARE(after->counter, before->counter + 1);
        QVERIFY(!reader->onlyCacheCommitsBetween(*before, *after));
    }

    void aCommitThatWritesNoPageIsNotNoted()
    {
        // A row written back with the bytes it had changes a row and no page: the counter stays,
        // and the next commit, someone else's, starts from the same value.
        TestSqlite sqlite;
        const qint64 foo = sqlite.addFoo("foo");
        const qint64 baz = sqlite.addBaz("baz");
        auto reader = openOrFail(sqlite);
        auto writer = openOrFail(sqlite);
        const auto before = markNow(*reader);
        write(*writer, QStringLiteral("UPDATE api_foo SET name = name WHERE id = %1").arg(foo), 1);
        QCOMPARE(markNow(*reader)->counter, before->counter);
        sqlite.exec(QStringLiteral("UPDATE api_baz SET name = 'renamed' WHERE id = %1").arg(baz));
        const auto after = markNow(*reader);
        QCOMPARE(after->counter, before->counter + 1);
        QVERIFY(!reader->onlyCacheCommitsBetween(*before, *after));
    }

    void walFilesTellNothing()
    {
        TestSqlite sqlite;
        sqlite.addFoo("foo");
        sqlite.exec(QStringLiteral("PRAGMA journal_mode = WAL"));
        auto database = openOrFail(sqlite);
        QVERIFY(!markNow(*database));
    }
};

QTEST_GUILESS_MAIN(TestCommitLedger)
#include "tst_commitledger.moc"
