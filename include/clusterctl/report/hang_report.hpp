#pragma once
// A hang as a run reports it: which rule found it (nothing printed before the ranks'
// first line; no rank printed; some ranks fell silent while others print), the silent
// ranks with their nodes, and where every rank was when its stack was taken. The
// summary's text and summary.json's "hang" show it; a detached job's record keeps it.

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace clusterctl::report {

struct SilentRank {
    std::string node;
    int local_rank = -1; // torchrun's "[defaultN]:" prefix; -1: the node's other lines
    double silent_s = 0;
};

struct HangReport {
    enum class Kind { never_started, all_silent, some_silent };
    Kind kind = Kind::all_silent;
    int limit_s = 0;      // the limit that was passed (train.hang_timeout, or the startup one)
    double silence_s = 0; // how long the job (or the silent ranks) had been silent
    std::vector<SilentRank> silent; // longest silent first
    bool stopped = true;            // train.on_hang: stop (else wait)

    // The stacks taken when it was declared (empty when none could be).
    int ranks = 0;                     // stacks taken
    double stacks_s = 0;               // how long taking them took
    std::string stacks_dir;            // one file per rank: rank-R.txt
    std::vector<std::string> places;   // report::summarize_stacks' lines
    std::vector<std::string> suspects; // "rank 3 (node-002)": ranks not where the others are
    std::string suspect_node;          // the node of the first suspect, if any
    std::string stacks_error;          // why no stacks, or not all
};

// "no rank printed for 16 s (train.hang_timeout 15 s)" and the like, one line.
std::string describe(const HangReport& hang);
// "node-002 local rank 1 (silent 16 s)", or "node-002 (silent 16 s)".
std::string describe(const SilentRank& rank);
nlohmann::json hang_json(const HangReport& hang);
// The lines the summary shows under its head.
std::vector<std::string> hang_lines(const HangReport& hang);

} // namespace clusterctl::report
