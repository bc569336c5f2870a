#pragma once
// Is a training job hung? Its ranks' lines are its only sign of life (clusterctl asks
// nothing of the user's script): torchrun's --tee prefixes each rank's line "[defaultN]:"
// (N its local rank), so each rank's silence is known. Three rules (docs/CONFIG.md):
//   never started  no rank's first line within the startup limit (loading 800 GB of
//                  weights can take half an hour in silence);
//   all silent     no line at all for hang_timeout;
//   some silent    a rank that had printed steadily (for hang_timeout at least, never
//                  silent that long) is silent for hang_timeout while others print.
// Ranks that print once and then leave the printing to rank 0 (most jobs) are not steady,
// so a healthy job is never called hung for them. Passive and clock-free: the caller
// feeds lines and asks at times of its choosing.

#include "clusterctl/plan/launch_plan.hpp"
#include "clusterctl/report/hang_report.hpp"

#include <chrono>
#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

namespace clusterctl::exec {

// torchrun's "[default3]:..." -> 3; -1 when the line has no such prefix.
int rank_prefix(std::string_view line);

struct HangFinding {
    report::HangReport::Kind kind = report::HangReport::Kind::all_silent;
    int limit_s = 0;
    double silence_s = 0;
    struct Silent {
        std::size_t host = 0;
        int local_rank = -1;
        double silent_s = 0;
    };
    std::vector<Silent> silent; // longest silent first
};

class HangWatch {
public:
    using Clock = std::chrono::steady_clock;

    HangWatch(const plan::HangLimits& limits, std::size_t hosts, Clock::time_point start);

    void on_line(std::size_t host, std::string_view line, Clock::time_point now);
    // A hang, the first time one is found (then never again).
    std::optional<HangFinding> check(Clock::time_point now);

private:
    struct Source { // a rank (host, local rank), or a host's unprefixed lines
        std::size_t host = 0;
        int local_rank = -1;
        Clock::time_point first{}, last{};
        Clock::duration longest_gap{};
    };
    bool steady(const Source& s) const;

    plan::HangLimits m_limits;
    std::size_t m_hosts;
    Clock::time_point m_start, m_last_line;
    bool m_started = false, m_declared = false;
    std::vector<Source> m_sources;
};

} // namespace clusterctl::exec
