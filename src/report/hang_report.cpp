#include "clusterctl/report/hang_report.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace clusterctl::report {

std::string describe(const SilentRank& rank) {
    if (rank.local_rank < 0) return fmt::format("{} (silent {:.0f} s)", rank.node, rank.silent_s);
    return fmt::format("{} local rank {} (silent {:.0f} s)", rank.node, rank.local_rank,
                       rank.silent_s);
}

std::string describe(const HangReport& hang) {
    switch (hang.kind) {
    case HangReport::Kind::never_started:
        return fmt::format("no rank printed a first line within {} s "
                           "(train.hang_startup_timeout)",
                           hang.limit_s);
    case HangReport::Kind::all_silent:
        return fmt::format("no rank printed for {:.0f} s (train.hang_timeout {} s)", hang.silence_s,
                           hang.limit_s);
    case HangReport::Kind::some_silent:
        break;
    }
    return fmt::format("{} rank{} fell silent for {:.0f} s while the others print "
                       "(train.hang_timeout {} s)",
                       hang.silent.size(), hang.silent.size() == 1 ? "" : "s", hang.silence_s,
                       hang.limit_s);
}

std::vector<std::string> hang_lines(const HangReport& hang) {
    std::vector<std::string> lines{"hang: " + describe(hang)};
    if (!hang.suspects.empty()) {
        std::string who;
        for (const auto& s : hang.suspects)
            who += (who.empty() ? "" : ", ") + s;
        lines.push_back(fmt::format("  not where the others are: {}", who));
    }
    constexpr std::size_t k_shown = 8;
    if (hang.kind == HangReport::Kind::some_silent || hang.suspects.empty()) {
        std::string silent;
        for (std::size_t i = 0; i < hang.silent.size() && i < k_shown; ++i)
            silent += (silent.empty() ? "" : ", ") + describe(hang.silent[i]);
        if (hang.silent.size() > k_shown)
            silent += fmt::format(" and {} more", hang.silent.size() - k_shown);
        if (!silent.empty()) lines.push_back("  silent: " + silent);
    }
    if (hang.ranks > 0) {
        lines.push_back(fmt::format("  stacks of {} rank{} taken in {:.1f} s{}:", hang.ranks,
                                    hang.ranks == 1 ? "" : "s", hang.stacks_s,
                                    hang.stacks_dir.empty()
                                        ? std::string()
                                        : fmt::format(" (one file each in {})", hang.stacks_dir)));
        for (const auto& place : hang.places)
            lines.push_back("    " + place);
    }
    if (!hang.stacks_error.empty()) lines.push_back("  stacks: " + hang.stacks_error);
    lines.push_back(hang.stopped ? "  the job was torn down (train.on_hang: stop)"
                                 : "  the job was left running (train.on_hang: wait)");
    return lines;
}

nlohmann::json hang_json(const HangReport& hang) {
    constexpr const char* k_kinds[] = {"never_started", "all_silent", "some_silent"};
    nlohmann::json silent = nlohmann::json::array();
    for (const auto& s : hang.silent)
        silent.push_back(
            {{"node", s.node},
             {"local_rank", s.local_rank < 0 ? nlohmann::json() : nlohmann::json(s.local_rank)},
             {"silent_s", s.silent_s}});
    return {{"kind", k_kinds[static_cast<int>(hang.kind)]},
            {"limit_s", hang.limit_s},
            {"silence_s", hang.silence_s},
            {"silent", std::move(silent)},
            {"stopped", hang.stopped},
            {"suspects", hang.suspects},
            {"suspect_node", hang.suspect_node},
            {"stacks",
             {{"ranks", hang.ranks},
              {"seconds", hang.stacks_s},
              {"dir", hang.stacks_dir},
              {"places", hang.places},
              {"error", hang.stacks_error}}}};
}

} // namespace clusterctl::report
