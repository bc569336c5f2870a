#include "clusterctl/report/stacks.hpp"

#include <algorithm>
#include <cstdlib>
#include <fmt/format.h>

namespace clusterctl::report {
namespace {

constexpr std::string_view k_header = "=== rank ";

std::string fold_ranks(std::vector<int> ranks) {
    std::sort(ranks.begin(), ranks.end());
    std::string out;
    for (std::size_t i = 0; i < ranks.size();) {
        std::size_t j = i;
        while (j + 1 < ranks.size() && ranks[j + 1] == ranks[j] + 1)
            ++j;
        if (!out.empty()) out += ", ";
        out += j == i ? std::to_string(ranks[i]) : fmt::format("{}-{}", ranks[i], ranks[j]);
        i = j + 1;
    }
    return out;
}

} // namespace

std::vector<RankStack> parse_rank_stacks(std::string_view output) {
    std::vector<RankStack> stacks;
    std::map<std::string, std::size_t> current; // node -> index of its rank being read
    while (!output.empty()) {
        auto nl = output.find('\n');
        std::string_view line = output.substr(0, nl);
        output.remove_prefix(nl == std::string_view::npos ? output.size() : nl + 1);
        auto colon = line.find(": ");
        if (colon == std::string_view::npos) continue;
        std::string node(line.substr(0, colon));
        std::string_view said = line.substr(colon + 2);
        if (said.substr(0, k_header.size()) == k_header) {
            RankStack s;
            s.node = node;
            std::string rest(said.substr(k_header.size()));
            s.rank = std::atoi(rest.c_str());
            if (auto pid = rest.find(" pid "); pid != std::string::npos)
                s.pid = std::atol(rest.c_str() + pid + 5);
            current[node] = stacks.size();
            stacks.push_back(std::move(s));
        } else if (auto it = current.find(node); it != current.end()) {
            stacks[it->second].text.append(said).append("\n");
        }
    }
    return stacks;
}

std::string innermost_frame(std::string_view dump) {
    // The thread that took the signal is "Current thread"; without it, the first thread.
    auto at = dump.find("Current thread");
    if (at == std::string_view::npos) at = 0;
    auto file = dump.find("File \"", at);
    if (file == std::string_view::npos) return "";
    auto end = dump.find('\n', file);
    std::string_view line = dump.substr(file, end == std::string_view::npos ? end : end - file);
    // File "/path/train.py", line 57 in main
    auto quote = line.find('"', 6);
    if (quote == std::string_view::npos) return "";
    std::string_view path = line.substr(6, quote - 6);
    if (auto slash = path.rfind('/'); slash != std::string_view::npos)
        path.remove_prefix(slash + 1);
    std::string_view rest = line.substr(quote + 1);
    auto number = rest.find("line ");
    auto in = rest.find(" in ");
    if (number == std::string_view::npos || in == std::string_view::npos || in < number) return "";
    std::string_view line_no = rest.substr(number + 5, in - number - 5);
    std::string_view function = rest.substr(in + 4);
    return fmt::format("{} ({}:{})", function, path, line_no);
}

namespace {

// A place where a rank waits on its peers: torch.distributed's collectives and waits, and
// the host syncs where a rank waiting on a hung NCCL peer shows (gpu-hang notes).
bool waits_on_peers(std::string_view place) {
    static constexpr std::string_view k_waits[] = {
        "all_reduce",  "all_gather", "reduce_scatter", "broadcast",    "barrier", "all_to_all",
        "reduce ",     "gather ",    "scatter ",       "send ",        "recv ",   "wait",
        "synchronize", "item ",      "backward ",      "_run_backward"};
    auto function = place.substr(0, place.find(' ') + 1);
    return std::any_of(std::begin(k_waits), std::end(k_waits), [&](std::string_view w) {
        return function.find(w) != std::string_view::npos;
    });
}

std::vector<RankStack> by_rank(const std::vector<const RankStack*>& ranks) {
    std::vector<RankStack> sorted;
    for (const auto* r : ranks)
        sorted.push_back(*r);
    std::sort(sorted.begin(), sorted.end(),
              [](const auto& a, const auto& b) { return a.rank < b.rank; });
    return sorted;
}

} // namespace

std::vector<RankStack> odd_ranks_out(const std::vector<RankStack>& stacks) {
    std::map<std::string, std::vector<const RankStack*>> places;
    for (const auto& s : stacks) {
        std::string where = innermost_frame(s.text);
        places[where.empty() ? "no Python frame" : where].push_back(&s);
    }
    std::vector<const RankStack*> odd;
    if (places.size() < 2) return {};
    bool some_wait = std::any_of(places.begin(), places.end(),
                                 [](const auto& p) { return waits_on_peers(p.first); });
    if (some_wait) {
        for (const auto& [where, ranks] : places)
            if (!waits_on_peers(where)) odd.insert(odd.end(), ranks.begin(), ranks.end());
        if (!odd.empty() && odd.size() < stacks.size()) return by_rank(odd);
        odd.clear();
    }
    auto largest = std::max_element(places.begin(), places.end(), [](const auto& a, const auto& b) {
        return a.second.size() < b.second.size();
    });
    std::size_t ties = std::count_if(places.begin(), places.end(), [&](const auto& p) {
        return p.second.size() == largest->second.size();
    });
    if (ties > 1) return {};
    for (auto it = places.begin(); it != places.end(); ++it)
        if (it != largest) odd.insert(odd.end(), it->second.begin(), it->second.end());
    return by_rank(odd);
}

std::vector<std::string> summarize_stacks(const std::vector<RankStack>& stacks) {
    std::vector<std::pair<std::string, std::vector<const RankStack*>>> places; // in order
    for (const auto& s : stacks) {
        std::string where = innermost_frame(s.text);
        if (where.empty()) where = "no Python frame";
        auto it = std::find_if(places.begin(), places.end(),
                               [&](const auto& p) { return p.first == where; });
        if (it == places.end()) it = places.insert(places.end(), {where, {}});
        it->second.push_back(&s);
    }
    std::vector<std::string> lines;
    for (const auto& [where, ranks] : places) {
        if (ranks.size() == 1) {
            lines.push_back(
                fmt::format("rank {} ({}): in {}", ranks[0]->rank, ranks[0]->node, where));
            continue;
        }
        std::vector<int> numbers;
        for (const auto* r : ranks)
            numbers.push_back(r->rank);
        lines.push_back(fmt::format("ranks {}: in {}", fold_ranks(numbers), where));
    }
    return lines;
}

} // namespace clusterctl::report
