#pragma once

#include <QtGlobal>

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
    // the table keeps the size of the largest Foo seen); keeps the memory.
    void clear()
    {
        if (m_size == 0)
            return;
        m_size = 0;
        if (++m_generation == 0) { // wrapped: no stale slot may look current
            for (Slot &slot : m_slots)
                slot.generation = 0;
            m_generation = 1;
        }
    }

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
    void grow()
    {
        std::vector<Slot> old;
        old.swap(m_slots);
        const size_t capacity = old.empty() ? 1024 : old.size() * 2;
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
    quint32 m_generation = 1;
};
