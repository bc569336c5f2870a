#include "clusterctl/config/host_list.hpp"

#include <gtest/gtest.h>

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

TEST(HostList, FoldIsTheInverseOfExpand) {
    for (std::string e : {"node-[001-008,010]", "gpu[1-3],cpu7", "a,b,c", "n[8-12]"})
        EXPECT_EQ(expand(fold_host_list(expand(e))), expand(e)) << e;
    EXPECT_EQ(fold_host_list(expand("node-[001-008,010]")), "node-[001-008,010]");
    EXPECT_EQ(fold_host_list({"h1", "x", "h2"}), "h[1-2],x");
}
