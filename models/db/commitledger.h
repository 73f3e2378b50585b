#pragma once

#include <QtGlobal>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>

// Which commits to a SQLite file this process made itself, writing only the cache (the Foo's
// pre_serialized column and Preserve's own tables), so that a reader can tell that nothing else
// changed between two of its snapshots.
//
// A rollback-journal file (Django's default) carries a change counter in its header that every
// commit which changes the file raises by exactly one: other connections' page caches depend on
// it. A commit is known here by the counter it started from; a writer notes it after it
// committed, having read that value while it held the write lock, so that no other commit can
// have come between.
//
// Files are told apart by device and inode, and a deleted file's inode can be given to a new
// file, whose counter goes through the same values. So each note is numbered, and a reader asks
// only about notes made after it last looked (notes(), read inside its snapshot): a commit that
// starts from a counter value the reader saw happens after the reader's snapshot, on its file
// (the reader keeps that file, and so its inode, open). Anything not noted that way (another
// process, another connection, a note older than the reader's look) is a change: the answer is
// false, never a guess.
//
// Thread-safe; one ledger per process (instance()).
class CommitLedger {
public:
    struct File {
        quint64 device = 0;
        quint64 inode = 0;
        bool operator<(const File &other) const
        {
            return device != other.device ? device < other.device : inode < other.inode;
        }
        bool operator==(const File &other) const { return device == other.device && inode == other.inode; }
    };

    // Notes kept per file (the oldest go first), and the most commits one question may
    // span: beyond either the answer is false.
    static constexpr size_t keptPerFile = 4096;
    static constexpr quint32 maxSpan = 4096;

    static CommitLedger &instance();

    // The commit that took `file`'s counter from `before` to before + 1 wrote only the cache.
    void note(File file, quint32 before);
    // A writer that holds `file`'s write lock is about to commit from `before`; it calls settle()
    // once its COMMIT returned, with whether to note it. Until then a reader that meets that
    // commit (its counter is past `before`: the commit is done and its locks are released) waits
    // for the answer instead of taking the commit for someone else's (at most settleWait, 20 ms
    // by default: a reader waits with its read lock held, and Django's commits wait for it).
    quint64 expect(File file, quint32 before);
    void settle(quint64 ticket, bool noteIt);
    static constexpr std::chrono::milliseconds defaultSettleWait { 20 };

    explicit CommitLedger(std::chrono::milliseconds settleWait = defaultSettleWait)
        : m_settleWait(settleWait)
    {
    }
    // Readers in onlyNotedBetween() right now (tests: that one waits).
    int waitingReaders() const;
    // How many commits have been noted so far, for any file.
    quint64 notes() const;
    // Whether every commit that took `file`'s counter from `from` to `to` was noted after the
    // first `after` notes. True when from == to (no commit at all); false when `to` is below
    // `from` (the file went back, or the counter wrapped: not worth telling apart).
    bool onlyNotedBetween(File file, quint32 from, quint32 to, quint64 after) const;

private:
    struct Expected {
        File file;
        quint32 before = 0;
    };

    void noteLocked(File file, quint32 before);

    mutable std::mutex m_mutex;
    mutable std::condition_variable m_settled;
    mutable int m_waiting = 0;
    const std::chrono::milliseconds m_settleWait;
    quint64 m_notes = 0;
    quint64 m_tickets = 0;
    std::map<quint64, Expected> m_expected; // by ticket
    // Per file: counter before the commit -> its note's number (1 for the first note).
    std::map<File, std::map<quint32, quint64>> m_noted;
};
