#pragma once

#include "cache/entry.h"
#include "http/httpresponses.h"

#include <QHash>

#include <array>
#include <mutex>

// Prebuilt answers for memory-tier hits: per entry one response per variant (body, gzip copy, their 304s),
// built on first use and queued by reference ever after, so a hit copies no body and adds no
// header. A slot belongs to one entry object; a newer entry for the pk replaces it, and sweep()
// drops slots whose entry the memory tier let go. Large bodies are kept as in-memory files for
// sendfile() (HttpResponses::fromEntryFile): that copy is the price of not copying per request,
// bounded by what the memory tier holds, and shown by fileBytes() (/metrics). Thread-safe.
class ResponseCache {
public:
    // 304s differ by the tag they carry (that of the coding the client would get).
    enum Variant { Plain, Gzip, NotModifiedPlain, NotModifiedGzip, VariantCount };

    // The response stored for this very entry (same object), or null.
    ResponsePtr find(const EntryPtr &entry, Variant variant) const;
    // Keeps `response` unless one was stored meanwhile; returns the one kept. `fileBytes`: the size
    // of the in-memory file a file-backed response holds (it keeps no reference to the entry), 0
    // for a response that sends the entry's own buffer.
    ResponsePtr store(const EntryPtr &entry, Variant variant, ResponsePtr response, qint64 fileBytes = 0);
    void remove(qint64 pk);
    void clear();
    // Drops the slots whose entry only this cache still holds; how many were dropped.
    int sweep();
    int size() const;
    // Bytes held in in-memory files by the responses kept here.
    qint64 fileBytes() const;

private:
    struct Slot {
        EntryPtr entry;
        std::array<ResponsePtr, VariantCount> responses;
        std::array<qint64, VariantCount> fileBytes {};
        qint64 totalFileBytes() const;
        // References to `entry` held by the responses (those that send its buffer).
        long entryReferences() const;
    };
    mutable std::mutex m_mutex;
    QHash<qint64, Slot> m_slots;
    qint64 m_fileBytes = 0;
};
