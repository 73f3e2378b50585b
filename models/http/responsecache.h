#pragma once

#include "cache/entry.h"
#include "http/httpresponses.h"

#include <QHash>

#include <array>
#include <functional>
#include <mutex>

// Prebuilt answers for memory-tier hits: per entry one response per variant (body, gzip copy, their 304s),
// built on first use and queued by reference ever after, so a hit copies no body and adds no
// header. A slot belongs to one entry object; a newer entry for the pk replaces it, and sweep()
// drops slots whose entry the memory tier let go.
// Bodies sent with sendfile() (HttpServerOptions::fileResponseMin/Max) are kept as one in-memory
// file per entry and variant, with one response per lane on top of it (libmicrohttpd locks a file
// response while it sends from it, so threads sharing one would take turns): the file is the
// price of not copying per request, bounded by what the memory tier holds, and shown by
// fileBytes() (/metrics). Each file and each lane's response holds a descriptor: past the budget
// (configure()) no more files are made, and those entries are sent from their buffers. Thread-safe.
class ResponseCache {
public:
    // 304s differ by the tag they carry (that of the coding the client would get).
    enum Variant { Plain, Gzip, NotModifiedPlain, NotModifiedGzip, VariantCount };
    static constexpr int LaneCount = 8;
    // Lanes in use (the server's threads, at most LaneCount) and how many descriptors the files and
    // their responses may hold. Call before the first file(); the default makes no files.
    void configure(int lanes, qint64 descriptorBudget);

    // The response stored for this very entry (same object), or null. `lane`: only for file responses.
    ResponsePtr find(const EntryPtr &entry, Variant variant, int lane = -1) const;
    // Keeps `response` unless one was stored meanwhile; returns the one kept. `lane` as for find().
    ResponsePtr store(const EntryPtr &entry, Variant variant, ResponsePtr response, int lane = -1);
    // The in-memory file of the entry's body (Plain) or gzip copy (Gzip), made by `make` on first
    // use (outside the lock; null when it fails, then nothing is kept).
    std::shared_ptr<const HttpResponses::MemFile> file(const EntryPtr &entry, Variant variant,
                                                       const std::function<std::shared_ptr<const HttpResponses::MemFile>()> &make);
    void remove(qint64 pk);
    void clear();
    // Drops the slots whose entry only this cache still holds; how many were dropped.
    int sweep();
    int size() const;
    // Bytes held in in-memory files by the responses kept here.
    qint64 fileBytes() const;
    // Descriptors held or reserved: per file, itself and one response per lane.
    qint64 descriptors() const;

private:
    struct Slot {
        EntryPtr entry;
        std::array<ResponsePtr, VariantCount> responses;
        std::array<std::shared_ptr<const HttpResponses::MemFile>, 2> files; // Plain, Gzip
        std::array<std::array<ResponsePtr, LaneCount>, 2> fileResponses;
        qint64 totalFileBytes() const;
        // References to `entry` held by the responses (those that send its buffer).
        long entryReferences() const;
        int fileCount() const;
    };
    void forget(const Slot &slot); // with m_mutex held: takes the slot's files out of the counts
    Slot &slotFor(const EntryPtr &entry); // with m_mutex held: a fresh slot for a new entry object
    mutable std::mutex m_mutex;
    QHash<qint64, Slot> m_slots;
    qint64 m_fileBytes = 0;
    qint64 m_descriptors = 0;
    int m_lanes = 1;
    qint64 m_descriptorBudget = 0;
};
