#include "commitledger.h"

#include <algorithm>
#include <chrono>

CommitLedger &CommitLedger::instance()
{
    static CommitLedger ledger;
    return ledger;
}

void CommitLedger::note(File file, quint32 before)
{
    std::lock_guard lock(m_mutex);
    noteLocked(file, before);
}

void CommitLedger::noteLocked(File file, quint32 before)
{
    auto &noted = m_noted[file];
    noted[before] = ++m_notes;
    if (noted.size() > keptPerFile) // the oldest note goes (not the lowest counter: see the header)
        noted.erase(std::min_element(noted.begin(), noted.end(),
                                     [](const auto &a, const auto &b) { return a.second < b.second; }));
}

quint64 CommitLedger::expect(File file, quint32 before)
{
    std::lock_guard lock(m_mutex);
    m_expected.emplace(++m_tickets, Expected { file, before });
    return m_tickets;
}

void CommitLedger::settle(quint64 ticket, bool noteIt)
{
    {
        std::lock_guard lock(m_mutex);
        const auto found = m_expected.find(ticket);
        if (found == m_expected.end())
            return;
        const Expected expected = found->second;
        m_expected.erase(found);
        if (noteIt)
            noteLocked(expected.file, expected.before);
    }
    m_settled.notify_all();
}

quint64 CommitLedger::notes() const
{
    std::lock_guard lock(m_mutex);
    return m_notes;
}

bool CommitLedger::onlyNotedBetween(File file, quint32 from, quint32 to, quint64 after) const
{
    if (from == to)
        return true;
    if (to < from || to - from > maxSpan)
        return false;
    std::unique_lock lock(m_mutex);
    const auto expected = [&](quint32 counter) {
        return std::any_of(m_expected.cbegin(), m_expected.cend(), [&](const auto &entry) {
            return entry.second.file == file && entry.second.before == counter;
        });
    };
    const auto deadline = std::chrono::steady_clock::now() + m_settleWait;
    for (quint32 counter = from; counter != to; ++counter) {
        // A commit that is done but not settled yet: its writer is between its COMMIT and settle().
        ++m_waiting;
        const bool settled = m_settled.wait_until(lock, deadline, [&] { return !expected(counter); });
        --m_waiting;
        if (!settled)
            return false;
        const auto found = m_noted.find(file);
        if (found == m_noted.end())
            return false;
        const auto commit = found->second.find(counter);
        if (commit == found->second.end() || commit->second <= after)
            return false;
    }
    return true;
}

int CommitLedger::waitingReaders() const
{
    std::lock_guard lock(m_mutex);
    return m_waiting;
}
