#pragma once

#include "cache/entry.h"
#include "http/httpresponses.h"

#include <QHash>

#include <array>
#include <mutex>

// Prebuilt answers for memory-tier hits: per entry one response per variant (body, gzip copy, their 304s),
// built on first use and queued by reference ever after, so a hit copies no body and adds no
// header. A slot belongs to one entry object; a newer entry for the pk replaces it, and sweep()
// drops slots whose entry the memory tier let go. Thread-safe.
class ResponseCache {
public:
    // 304s differ by the tag they carry (that of the coding the client would get).
    enum Variant { Plain, Gzip, NotModifiedPlain, NotModifiedGzip, VariantCount };

    // The response stored for this very entry (same object), or null.
    ResponsePtr find(const EntryPtr &entry, Variant variant) const;
    // Keeps `response` unless one was stored meanwhile; returns the one kept.
    ResponsePtr store(const EntryPtr &entry, Variant variant, ResponsePtr response);
    void remove(qint64 pk);
    void clear();
    // Drops the slots whose entry only this cache still holds; how many were dropped.
    int sweep();
    int size() const;

private:
    struct Slot {
        EntryPtr entry;
        std::array<ResponsePtr, VariantCount> responses;
    };
    mutable std::mutex m_mutex;
    QHash<qint64, Slot> m_slots;
};
