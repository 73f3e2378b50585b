#pragma once

#include <QtGlobal>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

// Numbers distinct ids 0, 1, 2 … in the order they are first seen. The serializer meets each Baz
// id of a large Foo some twenty times (80,000 links to 4,000 Bazs); QHash's node allocations made
// that lookup cost more than the engine's own work.
//
// Two layouts. While the ids seen lie close together (a run's Bars and Zabs, numbered by one
// sequence; all of a list's Bazs), a direct array indexed by `id - base` holds each one's ordinal:
// 4 bytes per id in the span, walked in order as the rows come. Else an open-addressing table of
// 64-bit keys, 16 bytes a slot, at most half full, where each new id lands at random: on wide that
// table's cache misses were the serializer's hottest instructions. Every use starts dense, turns
// to the table when an id falls too far out, and back when the table must grow and the ids seen
// fit a span again.
class IdOrdinals {
public:
    // The ordinal of `id`, numbering it `size()` when it is new; `*added` tells which.
    int insert(qint64 id, bool *added)
    {
        if (m_dense) {
            if (const quint64 offset = offsetOf(id); offset < m_span) // below the base: past the span
                return take(m_cells[size_t(offset)], added);
            if (extendSpan(id))
                return take(m_cells[size_t(offsetOf(id))], added);
            toTable();
        }
        if ((m_size + 1) * 2 > m_slots.size()) {
            const qint64 low = std::min(m_low, id);
            const qint64 high = std::max(m_high, id);
            if (quint64(high) - quint64(low) < spanLimit(m_size + 1)) {
                toDense(low, high);
                return take(m_cells[size_t(offsetOf(id))], added);
            }
            grow();
        }
        for (size_t i = slotOf(id);; i = (i + 1) & m_mask) {
            Slot &slot = m_slots[i];
            if (slot.generation != m_generation) {
                slot = { id, int(m_size++), m_generation };
                m_low = std::min(m_low, id);
                m_high = std::max(m_high, id);
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
        if (m_dense) {
            const quint64 offset = offsetOf(id);
            return offset < m_span ? m_cells[size_t(offset)] - 1 : -1;
        }
        for (size_t i = slotOf(id);; i = (i + 1) & m_mask) {
            const Slot &slot = m_slots[i];
            if (slot.generation != m_generation)
                return -1;
            if (slot.id == id)
                return slot.ordinal;
        }
    }
    int size() const { return int(m_size); }
    // Forgets every id: the table in constant time (a list of 100,000 small Foos clears it once per
    // Foo), the array by zeroing the span used. Both keep their memory, unless the last
    // shrinkWindow uses all fit in an eighth of it: then it shrinks to that. Memory grown for the
    // largest Foo scattered a small run's ids over megabytes, a cache miss each.
    void clear()
    {
        if (m_size == 0 && m_dense)
            return;
        if (m_dense) {
            m_spanPeak = std::max(m_spanPeak, m_span);
            if (m_span != 0)
                std::memset(m_cells.data(), 0, m_span * sizeof(int));
        } else {
            m_tablePeak = std::max(m_tablePeak, m_size);
            forgetTable();
        }
        m_size = 0;
        m_span = 0;
        m_dense = true;
        if (++m_clears == shrinkWindow) {
            if (const size_t fits = capacityFor(m_tablePeak); fits * 8 <= m_slots.size()) {
                m_slots = std::vector<Slot>(); // freed, not just emptied; every slot is free
                m_generation = 1;
                resize(fits);
            }
            if (const size_t fits = std::max(m_spanPeak, minCells); fits * 8 <= m_cells.size())
                m_cells = std::vector<int>(fits); // zero, as the cells past the span always are
            m_clears = 0;
            m_tablePeak = 0;
            m_spanPeak = 0;
        }
    }
    // Whether the ids are held in the direct array now (tests).
    bool dense() const { return m_dense; }
    // Slots in the table, and cells in the array (tests).
    size_t capacity() const { return m_slots.size(); }
    size_t cells() const { return m_cells.size(); }
    // Times the array was moved up for an id below its base (tests).
    size_t moves() const { return m_moves; }
    static constexpr int shrinkWindow = 64;

private:
    // A slot is taken when its generation is the table's; forgetTable() moves the table's on.
    struct Slot {
        qint64 id = 0;
        int ordinal = 0;
        quint32 generation = 0;
    };
    static constexpr size_t minCells = 1024;

    // The widest span the array may cover for `count` ids: at 8 spans per id it takes no more
    // memory than the table would, and its ids are walked in order.
    static quint64 spanLimit(size_t count) { return quint64(count) * 8 + minCells; }

    // Where `id` sits in the array, in 64-bit unsigned arithmetic: an id below the base lands far
    // past any span.
    quint64 offsetOf(qint64 id) const { return quint64(id) - quint64(m_base); }
    // A cell holds its id's ordinal + 1; 0 is free.
    int take(int &cell, bool *added)
    {
        *added = cell == 0;
        if (cell == 0)
            cell = int(++m_size);
        return cell - 1;
    }

    // Makes the array cover `id`, if the span stays within the limit. Below the base, it is moved
    // up by at least the span it covers (or to the lowest id there is), so ids that come in
    // descending order move it a logarithmic number of times; where that does not fit, they go to
    // the table.
    bool extendSpan(qint64 id)
    {
        const quint64 limit = spanLimit(m_size + 1);
        if (m_span == 0) {
            m_base = id;
            m_span = 1;
            reserveCells(1);
            return true;
        }
        if (id > m_base) {
            const quint64 offset = offsetOf(id);
            if (offset >= limit)
                return false;
            reserveCells(size_t(offset) + 1);
            m_span = size_t(offset) + 1;
            return true;
        }
        const quint64 below = quint64(m_base) - quint64(id);
        const quint64 room = quint64(m_base) - quint64(std::numeric_limits<qint64>::min()); // >= below
        const quint64 shift = std::min(std::max<quint64>(below, m_span), room);
        if (shift >= limit || m_span > limit - shift) // moving by less would move it once per id
            return false;
        ++m_moves;
        reserveCells(m_span + size_t(shift));
        std::memmove(m_cells.data() + shift, m_cells.data(), m_span * sizeof(int));
        std::memset(m_cells.data(), 0, size_t(shift) * sizeof(int));
        m_base = qint64(quint64(m_base) - shift);
        m_span += size_t(shift);
        return true;
    }
    void reserveCells(size_t span)
    {
        if (span > m_cells.size())
            m_cells.resize(std::max({ span, m_cells.size() * 2, minCells })); // new cells are 0
    }

    // Moves the ids from the array to the table.
    void toTable()
    {
        if (const size_t capacity = capacityFor(m_size + 1); m_slots.size() < capacity)
            resize(capacity); // nothing current in it to move
        m_spanPeak = std::max(m_spanPeak, m_span);
        m_low = m_base;
        m_high = qint64(quint64(m_base) + (m_span - 1));
        for (size_t offset = 0; offset < m_span; ++offset) {
            if (m_cells[offset] != 0)
                place({ qint64(quint64(m_base) + offset), m_cells[offset] - 1, m_generation });
        }
        std::memset(m_cells.data(), 0, m_span * sizeof(int));
        m_span = 0;
        m_dense = false;
    }
    // And from the table to an array over [low, high].
    void toDense(qint64 low, qint64 high)
    {
        m_tablePeak = std::max(m_tablePeak, m_size);
        m_base = low;
        m_span = size_t(quint64(high) - quint64(low)) + 1;
        reserveCells(m_span);
        for (const Slot &slot : m_slots) {
            if (slot.generation == m_generation)
                m_cells[size_t(offsetOf(slot.id))] = slot.ordinal + 1;
        }
        forgetTable();
        m_dense = true;
    }
    void forgetTable()
    {
        m_low = std::numeric_limits<qint64>::max();
        m_high = std::numeric_limits<qint64>::min();
        if (++m_generation == 0) { // wrapped: no stale slot may look current
            for (Slot &slot : m_slots)
                slot.generation = 0;
            m_generation = 1;
        }
    }

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
    void place(const Slot &slot)
    {
        size_t i = slotOf(slot.id);
        while (m_slots[i].generation == m_generation)
            i = (i + 1) & m_mask;
        m_slots[i] = slot;
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
            if (slot.generation == m_generation)
                place(slot);
        }
    }

    // The array: m_cells[offset] for id m_base + offset, offset < m_span; every cell past m_span is 0.
    bool m_dense = true;
    qint64 m_base = 0;
    size_t m_span = 0;
    std::vector<int> m_cells;
    // The table, and the lowest and highest id in it.
    std::vector<Slot> m_slots;
    size_t m_mask = 0;
    unsigned m_shift = 64;
    qint64 m_low = std::numeric_limits<qint64>::max();
    qint64 m_high = std::numeric_limits<qint64>::min();
    size_t m_size = 0;
    size_t m_tablePeak = 0; // the most ids held in the table, and the widest span of the array,
    size_t m_spanPeak = 0;  // since the last shrink check
    size_t m_moves = 0;
    int m_clears = 0;
    quint32 m_generation = 1;
};
