#include "clusterctl/exec/hang_watch.hpp"

#include <algorithm>
#include <cctype>

namespace clusterctl::exec {
namespace {

double seconds(HangWatch::Clock::duration d) {
    return std::chrono::duration<double>(d).count();
}

} // namespace

int rank_prefix(std::string_view line) {
    // "[" ROLE DIGITS "]:"; torchrun's role is "default" unless the script names another.
    if (line.size() < 4 || line[0] != '[') return -1;
    auto close = line.find("]:");
    if (close == std::string_view::npos || close > 64) return -1;
    std::size_t digits = close;
    while (digits > 1 && line[digits - 1] >= '0' && line[digits - 1] <= '9')
        --digits;
    if (digits == close || close - digits > 6 || digits == 1) return -1;
    for (std::size_t i = 1; i < digits; ++i) // the role: a word
        if (!std::isalpha(static_cast<unsigned char>(line[i])) && line[i] != '_') return -1;
    int rank = 0;
    for (std::size_t i = digits; i < close; ++i)
        rank = rank * 10 + (line[i] - '0');
    return rank;
}

HangWatch::HangWatch(const plan::HangLimits& limits, std::size_t hosts, Clock::time_point start)
    : m_limits(limits), m_hosts(hosts), m_start(start), m_last_line(start) {}

void HangWatch::on_line(std::size_t host, std::string_view line, Clock::time_point now) {
    int rank = rank_prefix(line);
    if (rank >= 0 || !m_limits.ranks_prefixed) m_started = true;
    m_last_line = now;
    auto it = std::find_if(m_sources.begin(), m_sources.end(),
                           [&](const Source& s) { return s.host == host && s.local_rank == rank; });
    if (it == m_sources.end()) {
        m_sources.push_back({host, rank, now, now, {}});
        return;
    }
    it->longest_gap = std::max(it->longest_gap, now - it->last);
    it->last = now;
}

bool HangWatch::steady(const Source& s) const {
    auto limit = std::chrono::seconds(m_limits.timeout_s);
    return s.local_rank >= 0 && s.last - s.first >= limit && s.longest_gap < limit;
}

std::optional<HangFinding> HangWatch::check(Clock::time_point now) {
    if (m_declared || m_limits.timeout_s <= 0) return std::nullopt;
    HangFinding found;
    auto limit = std::chrono::seconds(m_limits.timeout_s);
    if (!m_started) {
        // Before the ranks' first line only the startup limit counts, from the launch.
        if (m_limits.startup_timeout_s <= 0 ||
            now - m_start < std::chrono::seconds(m_limits.startup_timeout_s))
            return std::nullopt;
        found.kind = report::HangReport::Kind::never_started;
        found.limit_s = m_limits.startup_timeout_s;
        found.silence_s = seconds(now - m_start);
        for (std::size_t host = 0; host < m_hosts; ++host)
            found.silent.push_back({host, -1, seconds(now - m_start)});
    } else if (now - m_last_line >= limit) {
        found.kind = report::HangReport::Kind::all_silent;
        found.limit_s = m_limits.timeout_s;
        found.silence_s = seconds(now - m_last_line);
        for (const auto& s : m_sources)
            if (s.local_rank >= 0 || !m_limits.ranks_prefixed)
                found.silent.push_back({s.host, s.local_rank, seconds(now - s.last)});
    } else {
        found.kind = report::HangReport::Kind::some_silent;
        found.limit_s = m_limits.timeout_s;
        for (const auto& s : m_sources)
            if (steady(s) && now - s.last >= limit)
                found.silent.push_back({s.host, s.local_rank, seconds(now - s.last)});
        if (found.silent.empty()) return std::nullopt;
    }
    std::stable_sort(found.silent.begin(), found.silent.end(),
                     [](const auto& a, const auto& b) { return a.silent_s > b.silent_s; });
    if (found.kind == report::HangReport::Kind::some_silent)
        found.silence_s = found.silent.front().silent_s;
    m_declared = true;
    return found;
}

} // namespace clusterctl::exec
