#pragma once

#include <QtGlobal>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

// Numbers distinct ids 0, 1, 2 … in the order they are first seen: an open-addressing table of
// 64-bit keys. The serializer meets each Baz id of a large Foo some twenty times (80,000 links to
// 4,000 Bazs); QHash's node allocations made that lookup cost more than the engine's own work.
class IdOrdinals {
public:
    // The ordinal of `id`, numbering it `size()` when it is new; `*added` tells which.
    int insert(qint64 id, bool *added)
    {
        if ((m_size + 1) * 2 > m_slots.size())
            grow();
        for (size_t i = slotOf(id);; i = (i + 1) & m_mask) {
            Slot &slot = m_slots[i];
            if (slot.generation != m_generation) {
                slot = { id, int(m_size++), m_generation };
                *added = true;
                return slot.ordinal;
            }
            if (slot.id == id) {
                *added = false;
                return slot.ordinal;
            }
        }
    }
    // The ordinal of `id`, or -1.
    int find(qint64 id) const
    {
        if (m_slots.empty())
            return -1;
        for (size_t i = slotOf(id);; i = (i + 1) & m_mask) {
            const Slot &slot = m_slots[i];
            if (slot.generation != m_generation)
                return -1;
            if (slot.id == id)
                return slot.ordinal;
        }
    }
    int size() const { return int(m_size); }
    // Forgets every id, in constant time (a list of 100,000 small Foos clears it once per Foo, and
    // the table keeps the size of the largest Foo seen); keeps the memory, unless the last
    // shrinkWindow uses all fit a table an eighth of its size: then it shrinks to that. A table
    // grown for the largest Foo scattered a small run's ids over megabytes, a cache miss each (the
    // serializer's hottest instructions on a warm of wide).
    void clear()
    {
        if (m_size == 0)
            return;
        m_peak = std::max(m_peak, m_size);
        if (++m_clears == shrinkWindow) {
            const size_t fits = capacityFor(m_peak);
            m_clears = 0;
            m_peak = 0;
            if (fits * 8 <= m_slots.size()) {
                m_size = 0;
                m_generation = 1;
                m_slots = std::vector<Slot>(); // freed, not just emptied
                resize(fits); // nothing to move: every slot is free
                return;
            }
        }
        m_size = 0;
        if (++m_generation == 0) { // wrapped: no stale slot may look current
            for (Slot &slot : m_slots)
                slot.generation = 0;
            m_generation = 1;
        }
    }
    // Slots in the table (tests).
    size_t capacity() const { return m_slots.size(); }
    static constexpr int shrinkWindow = 64;

private:
    // A slot is taken when its generation is the table's; clear() moves the table's on.
    struct Slot {
        qint64 id = 0;
        int ordinal = 0;
        quint32 generation = 0;
    };

    size_t slotOf(qint64 id) const
    {
        return size_t((quint64(id) * 0x9E3779B97F4A7C15ull) >> m_shift) & m_mask;
    }
    // The smallest table that holds `count` ids at most half full.
    static size_t capacityFor(size_t count)
    {
        size_t capacity = 1024;
        while ((count + 1) * 2 > capacity)
            capacity *= 2;
        return capacity;
    }
    void grow() { resize(m_slots.empty() ? 1024 : m_slots.size() * 2); }
    void resize(size_t capacity)
    {
        std::vector<Slot> old;
        old.swap(m_slots);
        m_slots.assign(capacity, Slot {});
        m_mask = capacity - 1;
        m_shift = 64 - unsigned(__builtin_ctzll(capacity));
        for (const Slot &slot : old) {
            if (slot.generation != m_generation)
                continue;
            size_t i = slotOf(slot.id);
            while (m_slots[i].generation == m_generation)
                i = (i + 1) & m_mask;
            m_slots[i] = slot;
        }
    }

    std::vector<Slot> m_slots;
    size_t m_mask = 0;
    unsigned m_shift = 64;
    size_t m_size = 0;
    size_t m_peak = 0; // the most ids held since the last shrink check
    int m_clears = 0;
    quint32 m_generation = 1;
};
