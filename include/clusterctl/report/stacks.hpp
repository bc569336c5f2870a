#pragma once
// The Python stacks of a job's ranks (faulthandler's dumps, as `clusterctl stacks` gathers
// them), read back: where each rank is, and the ranks grouped by where they are, so that a
// hang's odd rank out stands out ("ranks 0-2, 4-5: in all_reduce (train.py:57); rank 3
// (node-002): in sleep_a_while (train.py:51)").

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace clusterctl::report {

struct RankStack {
    int rank = 0;
    std::string node;
    long pid = 0;
    std::string text; // the dump, as faulthandler wrote it
};

// The stacks in the lines of `stacks`' output: "NODE: === rank R pid P", then that rank's
// dump, each line prefixed "NODE: ".
std::vector<RankStack> parse_rank_stacks(std::string_view prefixed_output);

// The innermost Python frame of the thread that took the signal (the main thread):
// "FUNCTION (FILE:LINE)", FILE without its folder; "" when the dump has none.
std::string innermost_frame(std::string_view dump);

// One line per place, ranks folded: "ranks 0-2, 4-5: in main (train.py:57)", a rank alone
// with its node: "rank 3 (node-002): in sleep_a_while (train.py:51)".
std::vector<std::string> summarize_stacks(const std::vector<RankStack>& stacks);

// The ranks not where the others are, as a hang's suspects: when the ranks are in more
// than one place, those outside the places that look like waiting on a peer (a collective,
// a wait, a host sync such as .item()), or else outside the one largest place. Empty when
// every rank is in the same place or nothing stands out.
std::vector<RankStack> odd_ranks_out(const std::vector<RankStack>& stacks);

} // namespace clusterctl::report
