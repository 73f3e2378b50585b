#pragma once

#include "cache/entry.h"
#include "http/mhdresponse.h"

#include <QHash>

#include <array>
#include <atomic>
#include <functional>
#include <mutex>

// Prebuilt answers for memory-tier hits: per entry and variant, responses built on first use and
// queued by reference ever after, so a hit copies no body and adds no header.
// Lanes (one per serving thread): libmicrohttpd takes a response's own mutex when it queues it,
// when the answer is done and, for a file response, during each sendfile(), so serving threads
// sharing one response took turns on that mutex (README.md in this folder). Each lane has its own table and lock,
// and a lane answers from its own response once the entry is hot there: until a lane has answered
// an entry `ownAfter` times it borrows the response another lane built, so an entry hit now and
// then costs one response, not one per thread.
// A slot belongs to one entry object; a newer entry for the pk replaces it, and sweep() drops the
// slots whose entry only this cache still holds (the memory tier let it go).
// Bodies sent with sendfile() (HttpServerOptions::fileResponseMin/Max) are kept as one in-memory
// file per entry and variant, under the lanes' responses on top of it: the file is the price of
// not copying per request, bounded by what the memory tier holds, and shown by fileBytes()
// (/metrics). Each file and each lane's response on it holds a descriptor; a file reserves one
// for itself and one per lane, and past the budget (configure()) no more files are made: those
// entries are sent from their buffers. (A lane's response on the file of an entry replaced or
// removed keeps its descriptor until the next sweep() after its last request: briefly, a few over.)
// Thread-safe.
class ResponseCache {
public:
    // 304s differ by the tag they carry (that of the coding the client would get).
    enum Variant { Plain, Gzip, NotModifiedPlain, NotModifiedGzip, VariantCount };
    // Lanes beyond this share tables (lane numbers are taken modulo the lanes in use).
    static constexpr int LaneCount = 64;
    static constexpr int ownAfter = 32;
    // Lanes in use (the server's threads, at most LaneCount) and how many descriptors the files and
    // their responses may hold. Call before serving; the default is one lane and no files.
    void configure(int lanes, qint64 descriptorBudget);

    struct Found {
        ResponsePtr response; // null: none for this entry object and variant, or time for the lane's own
        bool fromFile = false;
    };
    // The lane's response for this very entry object: its own, or one another lane built (borrowed
    // until the lane has answered `ownAfter` times with it; then none, so the caller builds one).
    Found find(const EntryPtr &entry, Variant variant, int lane);
    // Keeps `response` as the lane's own unless it has one already; returns the one kept.
    Found store(const EntryPtr &entry, Variant variant, int lane, ResponsePtr response, bool fromFile);
    // The in-memory file of the entry's body (Plain) or gzip copy (Gzip), made by `make` on first
    // use (outside the lock; null when it fails, then nothing is kept).
    std::shared_ptr<const MhdResponse::MemFile> file(const EntryPtr &entry, Variant variant,
                                                       const std::function<std::shared_ptr<const MhdResponse::MemFile>()> &make);
    void remove(qint64 pk);
    void clear();
    // Drops the slots whose entry only this cache still holds; how many entries were dropped.
    // Holds one lock at a time, and frees what it drops after letting go of it.
    int sweep();
    // Pks with a response or a file kept here.
    int size() const;
    // Bytes held in in-memory files by the responses kept here.
    qint64 fileBytes() const;
    // Descriptors held or reserved: per file, itself and one response per lane.
    qint64 descriptors() const;

private:
    struct Held {
        ResponsePtr response;
        bool fromFile = false;
        bool borrowed = false; // another lane built it
        int uses = 0;          // answers given with it, while borrowed
    };
    struct LaneSlot {
        EntryPtr entry;
        std::array<Held, VariantCount> held;
    };
    // Its own cache line, so that two serving threads do not share one.
    struct alignas(64) Lane {
        mutable std::mutex mutex;
        QHash<qint64, LaneSlot> byPk;
    };
    struct FileSlot {
        EntryPtr entry;
        std::array<std::shared_ptr<const MhdResponse::MemFile>, 2> files; // Plain, Gzip
        qint64 totalFileBytes() const;
        int fileCount() const;
    };
    int laneIndex(int lane) const { return lane < 0 ? 0 : lane % m_lanes.load(std::memory_order_relaxed); }
    // Another lane's own response for the entry object and variant (taking its locks one at a time).
    Held borrow(const EntryPtr &entry, Variant variant, int except) const;
    // With the lane's lock held: its slot for this entry object, a fresh one (the old one moved to
    // `gone`, for the caller to free after unlocking) when the pk's slot is another entry's.
    static LaneSlot &laneSlotFor(Lane &lane, const EntryPtr &entry, LaneSlot &gone);
    void forget(const FileSlot &slot); // with m_mutex held: takes the slot's files out of the counts
    FileSlot &fileSlotFor(const EntryPtr &entry); // with m_mutex held: a fresh slot for a new entry object

    std::array<Lane, LaneCount> m_laneTables;
    std::atomic<int> m_lanes { 1 };
    mutable std::mutex m_mutex; // the files and the counts below
    QHash<qint64, FileSlot> m_files;
    qint64 m_fileBytes = 0;
    qint64 m_descriptors = 0;
    qint64 m_descriptorBudget = 0;
};
