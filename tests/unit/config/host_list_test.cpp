#include "clusterctl/config/host_list.hpp"

#include <chrono>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <random>
#include <set>

using namespace clusterctl;
using config::expand_host_list;
using config::fold_host_list;

namespace {
std::vector<std::string> expand(const std::string& e) {
    auto r = expand_host_list(e, {"x", 1, 1});
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().str());
    return r.ok() ? *r : std::vector<std::string>{};
}
} // namespace

TEST(HostList, RangeExpandsWithZeroPadding) {
    EXPECT_EQ(expand("node-[001-003,010]"),
              (std::vector<std::string>{"node-001", "node-002", "node-003", "node-010"}));
}

TEST(HostList, UnpaddedRangeCrossesDigitCount) {
    EXPECT_EQ(expand("n[9-11]"), (std::vector<std::string>{"n9", "n10", "n11"}));
}

TEST(HostList, SeveralBracketGroupsGiveEveryCombination) {
    EXPECT_EQ(expand("r[1-2]-g[01-02]"),
              (std::vector<std::string>{"r1-g01", "r1-g02", "r2-g01", "r2-g02"}));
}

TEST(HostList, TopLevelCommasSeparateItemsButNotInsideBrackets) {
    EXPECT_EQ(expand("a,node-[1,3],b"), (std::vector<std::string>{"a", "node-1", "node-3", "b"}));
}

TEST(HostList, ReversedRangeIsAnErrorAtItsColumn) {
    auto r = expand_host_list("node-[5-1]", {"f", 3, 1});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().str(),
              "f:3:7: error: bad host range '5-1': 5 is greater than 1 (write it as 1-5)");
}

TEST(HostList, HugeRangeIsRefusedNotExpanded) {
    EXPECT_FALSE(expand_host_list("n[0-99999999]", {"f", 1, 1}).ok());
    EXPECT_FALSE(expand_host_list("a[1-1000]b[1-1000]", {"f", 1, 1}).ok());
}

TEST(HostList, FoldIsTheInverseOfExpandInNodesetsOrder) {
    for (std::string e : {"node-[001-008,010]", "gpu[1-3],cpu7", "a,b,c", "n[8-12]"}) {
        auto names = expand(e);
        auto back = expand(fold_host_list(names));
        EXPECT_EQ(std::set<std::string>(back.begin(), back.end()),
                  std::set<std::string>(names.begin(), names.end()))
            << e;
    }
    EXPECT_EQ(fold_host_list(expand("node-[001-008,010]")), "node-[001-008,010]");
    EXPECT_EQ(fold_host_list({"h1", "x", "h2"}), "h[1-2],x");
    EXPECT_EQ(fold_host_list(expand("gpu[1-3],cpu7")), "cpu7,gpu[1-3]"); // sorted, as nodeset -f
}

TEST(HostList, ALargeTwoDimensionalListFoldsQuickly) {
    // 3 x 7,164 names: the greedy passes alone would take minutes.
    auto names = expand("gpu[1-3]x-[8-7171]");
    auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(fold_host_list(names), "gpu[1-3]x-[8-7171]");
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(HostList, StepsAndTwoDimensions) {
    EXPECT_EQ(expand("n[1-9/4]"), (std::vector<std::string>{"n1", "n5", "n9"}));
    EXPECT_EQ(fold_host_list(expand("rack[1-2]-node[01-03]")), "rack[1-2]-node[01-03]");
    EXPECT_EQ(fold_host_list({"a1b1", "a1b2", "a2b1", "a2b2", "a3b1"}), "a[1-2]b[1-2],a3b1");
}

TEST(HostList, FoldsRunsAcrossDigitCountsAndKeepsLongNumbersReadable) {
    EXPECT_EQ(fold_host_list(expand("node[8-12]")), "node[8-12]");
    EXPECT_EQ(fold_host_list(expand("node[1-1500]")), "node[1-1500]");
    EXPECT_EQ(fold_host_list(expand("n[098-100]")), "n[098-100]");
    EXPECT_EQ(fold_host_list({"c1", "c12345678901"}), "c[1,12345678901]");
    EXPECT_EQ(expand("c[1,12345678901]"), (std::vector<std::string>{"c1", "c12345678901"}));
    // Numbers of any length fold and expand again.
    EXPECT_EQ(fold_host_list({"c1", "c1234567890123456789"}), "c[1,1234567890123456789]");
    EXPECT_EQ(expand("c[99999999999999999999-100000000000000000000]"),
              (std::vector<std::string>{"c99999999999999999999", "c100000000000000000000"}));
}

// Property: for any set of names, expand(fold(set)) gives the set back, and folding that
// again gives the same text. Names mix prefixes, suffixes, paddings, long numbers.
TEST(HostList, FoldAndExpandRoundTripOnRandomSets) {
    std::mt19937 rng(20261201);
    const char* prefixes[] = {"node", "n-", "gpu", "rack1-n", "a.b", "x"};
    const char* suffixes[] = {"", "-ib", ".lan", "b"};
    auto number = [&]() -> std::string {
        switch (rng() % 5) {
        case 0:
            return std::to_string(rng() % 20);
        case 1:
            return fmt::format("{:03}", rng() % 1200);
        case 2:
            return std::to_string(9990 + rng() % 20);
        case 3:
            return std::to_string(1000000000000ULL + rng() % 5) + std::to_string(rng() % 10);
        default:
            return fmt::format("{:0{}}", rng() % 100, 1 + rng() % 4);
        }
    };
    for (int round = 0; round < 300; ++round) {
        std::set<std::string> names;
        std::size_t n = 1 + rng() % 40;
        while (names.size() < n) {
            std::string name = prefixes[rng() % 6];
            if (rng() % 8) name += number();
            name += suffixes[rng() % 4];
            names.insert(name);
        }
        std::string folded = fold_host_list({names.begin(), names.end()});
        auto back = expand_host_list(folded, {"x", 1, 1});
        ASSERT_TRUE(back.ok()) << folded << ": " << back.error().str();
        EXPECT_EQ(std::set<std::string>(back->begin(), back->end()), names) << folded;
        EXPECT_EQ(back->size(), names.size()) << folded;
        EXPECT_EQ(fold_host_list(*back), folded);
    }
}
