#pragma once
// Deadlines of many hosts in one min-heap. A host re-arms by pushing a new entry with a
// new generation; stale entries are dropped when they surface, so re-arming is O(log n)
// and nothing is ever searched.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <queue>
#include <vector>

namespace clusterctl::exec {

class TimerHeap {
public:
    using Clock = std::chrono::steady_clock;

    // Sets the one deadline of `owner`, replacing any earlier one. Returns the generation.
    void arm(std::size_t owner, Clock::time_point when) {
        if (owner >= m_generation.size()) m_generation.resize(owner + 1, 0);
        m_heap.push({when, owner, ++m_generation[owner]});
    }
    void disarm(std::size_t owner) {
        if (owner < m_generation.size()) ++m_generation[owner];
    }

    // The earliest live deadline.
    std::optional<Clock::time_point> next() {
        drop_stale();
        if (m_heap.empty()) return std::nullopt;
        return m_heap.top().when;
    }

    // Calls fire(owner) for every deadline at or before `now`, earliest first.
    template <typename Fire> void expire(Clock::time_point now, Fire&& fire) {
        for (;;) {
            drop_stale();
            if (m_heap.empty() || m_heap.top().when > now) return;
            Entry e = m_heap.top();
            m_heap.pop();
            ++m_generation[e.owner]; // fired: it is gone until re-armed
            fire(e.owner);
        }
    }

private:
    struct Entry {
        Clock::time_point when;
        std::size_t owner;
        std::uint64_t generation;
        bool operator>(const Entry& o) const { return when > o.when; }
    };
    void drop_stale() {
        while (!m_heap.empty() && m_heap.top().generation != m_generation[m_heap.top().owner])
            m_heap.pop();
    }

    std::priority_queue<Entry, std::vector<Entry>, std::greater<>> m_heap;
    std::vector<std::uint64_t> m_generation;
};

} // namespace clusterctl::exec
