#include "clusterctl/report/stacks.hpp"

#include <gtest/gtest.h>

namespace clusterctl {
namespace {

// As faulthandler writes it (all threads), each line as `stacks` shows it: "NODE: ...".
constexpr std::string_view k_output =
    "node-001: === rank 0 pid 101\n"
    "node-002: === rank 3 pid 202\n"
    "node-001: Thread 0x00007f0000000001 (most recent call first):\n"
    "node-002: Current thread 0x00007f0000000002 (most recent call first):\n"
    "node-001:   File \"/usr/lib/python3/threading.py\", line 320 in wait\n"
    "node-002:   File \"/work/train.py\", line 51 in sleep_a_while\n"
    "node-001: \n"
    "node-002:   File \"/work/train.py\", line 80 in <module>\n"
    "node-001: Current thread 0x00007f0000000003 (most recent call first):\n"
    "node-001:   File \"/work/train.py\", line 57 in main\n"
    "node-001: === rank 1 pid 102\n"
    "node-001: Current thread 0x00007f0000000004 (most recent call first):\n"
    "node-001:   File \"/work/train.py\", line 57 in main\n";

TEST(Stacks, ParsedPerRankFromInterleavedNodes) {
    auto stacks = report::parse_rank_stacks(k_output);
    ASSERT_EQ(stacks.size(), 3u);
    EXPECT_EQ(stacks[0].rank, 0);
    EXPECT_EQ(stacks[0].node, "node-001");
    EXPECT_EQ(stacks[0].pid, 101);
    EXPECT_EQ(stacks[1].rank, 3);
    EXPECT_EQ(stacks[1].node, "node-002");
    EXPECT_NE(stacks[1].text.find("sleep_a_while"), std::string::npos);
    EXPECT_EQ(stacks[1].text.find("threading.py"), std::string::npos) << "node-001's line";
}

TEST(Stacks, TheInnermostFrameIsTheSignalledThreads) {
    auto stacks = report::parse_rank_stacks(k_output);
    EXPECT_EQ(report::innermost_frame(stacks[0].text), "main (train.py:57)")
        << "not the other thread's wait";
    EXPECT_EQ(report::innermost_frame(stacks[1].text), "sleep_a_while (train.py:51)");
    EXPECT_EQ(report::innermost_frame("Current thread 0x1 (most recent call first):\n"
                                      "  <no Python frame>\n"),
              "");
}

TEST(Stacks, RanksInOnePlaceAreFoldedTheOddOneNamedWithItsNode) {
    std::vector<report::RankStack> stacks;
    for (int r : {0, 1, 2, 4, 5, 3}) {
        report::RankStack s;
        s.rank = r;
        s.node = r < 2 ? "node-001" : r < 4 ? "node-002" : "node-003";
        s.text = r == 3 ? "Current thread 0x1:\n  File \"/w/train.py\", line 51 in sleep_a_while\n"
                        : "Current thread 0x1:\n  File \"/w/train.py\", line 57 in all_reduce\n";
        stacks.push_back(s);
    }
    EXPECT_EQ(report::summarize_stacks(stacks),
              (std::vector<std::string>{"ranks 0-2, 4-5: in all_reduce (train.py:57)",
                                        "rank 3 (node-002): in sleep_a_while (train.py:51)"}));
    auto odd = report::odd_ranks_out(stacks);
    ASSERT_EQ(odd.size(), 1u);
    EXPECT_EQ(odd[0].rank, 3);
}

report::RankStack rank_in(int rank, const std::string& function) {
    report::RankStack s;
    s.rank = rank;
    s.node = "node-00" + std::to_string(rank + 1);
    s.text = "Current thread 0x1:\n  File \"/w/t.py\", line 9 in " + function + "\n";
    return s;
}

TEST(Stacks, TheOddRankOutIsTheOneNotWaitingOnItsPeers) {
    // Two ranks: one waits in the collective, one is elsewhere: no majority, yet it stands out.
    auto odd = report::odd_ranks_out({rank_in(0, "all_reduce"), rank_in(1, "load_batch")});
    ASSERT_EQ(odd.size(), 1u);
    EXPECT_EQ(odd[0].rank, 1);
    // A rank behind a hung NCCL peer shows its next host sync, .item(): waiting, too.
    odd = report::odd_ranks_out({rank_in(0, "item"), rank_in(1, "item"), rank_in(2, "stall")});
    ASSERT_EQ(odd.size(), 1u);
    EXPECT_EQ(odd[0].rank, 2);
    // Everyone in the same place, or two places of one rank each that say nothing: nobody.
    EXPECT_TRUE(
        report::odd_ranks_out({rank_in(0, "all_reduce"), rank_in(1, "all_reduce")}).empty());
    EXPECT_TRUE(report::odd_ranks_out({rank_in(0, "f"), rank_in(1, "g")}).empty());
    // No collective in sight: the ranks outside the largest place.
    odd = report::odd_ranks_out({rank_in(0, "f"), rank_in(1, "f"), rank_in(2, "g")});
    ASSERT_EQ(odd.size(), 1u);
    EXPECT_EQ(odd[0].rank, 2);
}

} // namespace
} // namespace clusterctl
