#pragma once

#include <QtGlobal>

#include <atomic>

// Which background job's answer still counts: a job takes a ticket when it starts, and its answer is
// dropped once a newer generation began, so a slow old load never overwrites a newer one. Owned by
// one thread, which starts and invalidates; isCurrent() and current() may be asked from any thread.
class LatestJob {
public:
    using Ticket = quint64;

    // Begins a new generation: every ticket taken before goes stale.
    [[nodiscard]] Ticket start() { return m_generation.fetch_add(1) + 1; }
    // Makes every ticket taken so far stale (the next current() is a fresh one).
    void invalidate() { m_generation.fetch_add(1); }
    // The current generation's ticket, for several jobs that belong to one generation.
    Ticket current() const { return m_generation.load(); }
    bool isCurrent(Ticket ticket) const { return ticket == m_generation.load(); }

private:
    std::atomic<Ticket> m_generation { 0 };
};
