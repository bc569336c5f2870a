#pragma once
// What the tiny job's ranks say, read back from a run's output, for the training tests of
// every backend (SSH sandbox, Slurm): which node each rank ran on, its node rank, its loss.

#include "farm.hpp"

#include <chrono>
#include <cstdio>
#include <gtest/gtest.h>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>

namespace clusterctl::test_support {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

// Waits until `what` shows in `text()`; when it was first seen, or nothing within `limit`.
template <typename Text>
inline std::optional<Clock::time_point> when_seen(const Text& text, const std::string& what,
                                                  std::chrono::seconds limit) {
    std::optional<Clock::time_point> at;
    eventually(
        [&] {
            if (text().find(what) == std::string::npos) return false;
            at = Clock::now();
            return true;
        },
        limit);
    return at;
}

// What the ranks of a run said: "node-002: [default1]:rank 3/4 local_rank 1 node_rank 1
// host node-002" and "... rank 3 step 30 loss 0.15".
struct RankReport {
    std::map<int, std::string> host_of;        // rank -> the node prefix it came under
    std::map<int, int> world_of, node_rank_of; // rank -> what it saw
    std::map<int, std::map<int, double>> loss; // rank -> step -> loss
};

// "node-002: [default1]:rank 3/4 ..." -> ("node-002", "rank 3/4 ..."); false otherwise.
inline bool split_rank_line(const std::string& line, std::string& node, std::string& said) {
    auto colon = line.find(": [default");
    if (colon == std::string::npos || line.rfind("node-", 0) != 0) return false;
    auto close = line.find("]:", colon);
    if (close == std::string::npos) return false;
    node = line.substr(0, colon);
    said = line.substr(close + 2);
    return true;
}

inline RankReport ranks_in(const std::string& out) {
    RankReport r;
    std::istringstream in(out);
    std::string line, node, said;
    while (std::getline(in, line)) {
        if (!split_rank_line(line, node, said)) continue;
        int rank = 0, world = 0, local = 0, node_rank = 0, step = 0;
        double loss = 0;
        char host[64] = {};
        if (std::sscanf(said.c_str(), "rank %d/%d local_rank %d node_rank %d host %63s", &rank,
                        &world, &local, &node_rank, host) == 5) {
            EXPECT_EQ(node, host) << "the rank's hostname is its node's: " << line;
            r.host_of[rank] = node;
            r.world_of[rank] = world;
            r.node_rank_of[rank] = node_rank;
        } else if (std::sscanf(said.c_str(), "rank %d step %d loss %lf", &rank, &step, &loss) ==
                   3) {
            r.loss[rank][step] = loss;
        }
    }
    return r;
}

inline void expect_trained(const RankReport& r, int nodes, int per_node, int steps) {
    int world = nodes * per_node;
    ASSERT_EQ(static_cast<int>(r.host_of.size()), world);
    std::map<std::string, std::set<int>> node_ranks; // host -> the node ranks its ranks saw
    for (const auto& [rank, host] : r.host_of) {
        EXPECT_EQ(r.world_of.at(rank), world);
        node_ranks[host].insert(r.node_rank_of.at(rank));
    }
    EXPECT_EQ(static_cast<int>(node_ranks.size()), nodes) << "every node ran ranks";
    std::set<int> distinct;
    for (const auto& [host, ranks] : node_ranks) {
        EXPECT_EQ(ranks.size(), 1u) << host << " saw one node rank";
        distinct.insert(*ranks.begin());
    }
    EXPECT_EQ(static_cast<int>(distinct.size()), nodes) << "node ranks are distinct";
    for (int rank = 0; rank < world; ++rank) {
        ASSERT_TRUE(r.loss.count(rank)) << "rank " << rank << " reported no loss";
        const auto& l = r.loss.at(rank);
        ASSERT_TRUE(l.count(1) && l.count(steps)) << "rank " << rank;
        EXPECT_LT(l.at(steps), l.at(1) / 4) << "rank " << rank << ": the loss falls";
    }
}

} // namespace clusterctl::test_support
