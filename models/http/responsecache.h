#pragma once

#include "cache/entry.h"
#include "http/httpresponses.h"

#include <QHash>

#include <array>
#include <atomic>
#include <functional>
#include <mutex>

// Prebuilt answers for memory-tier hits: per entry, variant and lane (serving thread) one response,
// built on first use and queued by reference ever after, so a hit copies no body and adds no
// header. Lanes, because libmicrohttpd takes a response's own mutex when it queues it, when the
// answer is done and, for a file response, during each sendfile(): serving threads sharing one
// response took turns on that mutex (a futex sleep on about one hit in fifty at 1 KB x 64
// connections, and the wait for a core after it). Each lane also has its own table and lock, so
// a hit takes no lock another serving thread takes.
// A slot belongs to one entry object; a newer entry for the pk replaces it, and sweep() drops
// byPk whose entry the memory tier let go.
// Bodies sent with sendfile() (HttpServerOptions::fileResponseMin/Max) are kept as one in-memory
// file per entry and variant, shared by the lanes' responses on top of it: the file is the price
// of not copying per request, bounded by what the memory tier holds, and shown by fileBytes()
// (/metrics). Each file and each lane's response on it holds a descriptor: past the budget
// (configure()) no more files are made, and those entries are sent from their buffers. Thread-safe.
class ResponseCache {
public:
    // 304s differ by the tag they carry (that of the coding the client would get).
    enum Variant { Plain, Gzip, NotModifiedPlain, NotModifiedGzip, VariantCount };
    static constexpr int LaneCount = 8;
    // Lanes in use (the server's threads, at most LaneCount; a lane number is taken modulo this)
    // and how many descriptors the files and their responses may hold. Call before serving; the
    // default is one lane and no files.
    void configure(int lanes, qint64 descriptorBudget);

    struct Found {
        ResponsePtr response; // null: none stored for this entry object, variant and lane
        bool fromFile = false;
    };
    Found find(const EntryPtr &entry, Variant variant, int lane) const;
    // Keeps `response` unless one was stored meanwhile; returns the one kept.
    Found store(const EntryPtr &entry, Variant variant, int lane, ResponsePtr response, bool fromFile);
    // The in-memory file of the entry's body (Plain) or gzip copy (Gzip), made by `make` on first
    // use (outside the lock; null when it fails, then nothing is kept).
    std::shared_ptr<const HttpResponses::MemFile> file(const EntryPtr &entry, Variant variant,
                                                       const std::function<std::shared_ptr<const HttpResponses::MemFile>()> &make);
    void remove(qint64 pk);
    void clear();
    // Drops the byPk whose entry only this cache still holds; how many entries were dropped.
    int sweep();
    // Entries with a response or a file kept here.
    int size() const;
    // Bytes held in in-memory files by the responses kept here.
    qint64 fileBytes() const;
    // Descriptors held or reserved: per file, itself and one response per lane.
    qint64 descriptors() const;

private:
    struct LaneSlot {
        EntryPtr entry;
        std::array<ResponsePtr, VariantCount> responses;
        std::array<bool, 2> fromFile {}; // Plain, Gzip
        // References to `entry` held here: the slot's own and those of responses sending its buffer.
        long entryReferences() const;
    };
    // Its own line, so that two serving threads do not share one.
    struct alignas(64) Lane {
        mutable std::mutex mutex;
        QHash<qint64, LaneSlot> byPk;
    };
    struct FileSlot {
        EntryPtr entry;
        std::array<std::shared_ptr<const HttpResponses::MemFile>, 2> files; // Plain, Gzip
        qint64 totalFileBytes() const;
        int fileCount() const;
    };
    const Lane &laneFor(int lane) const { return m_laneTables[size_t(lane < 0 ? 0 : lane % m_lanes.load(std::memory_order_relaxed))]; }
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
