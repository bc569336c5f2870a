#include "clusterctl/config/host_list.hpp"

#include <gtest/gtest.h>

using namespace clusterctl;

TEST(HostList, RangeExpandsWithZeroPadding) {
    auto hosts = config::expand_host_list("node-[001-003,010]", {"x", 1, 1});
    ASSERT_TRUE(hosts.ok());
    EXPECT_EQ(*hosts, (std::vector<std::string>{"node-001", "node-002", "node-003", "node-010"}));
}
