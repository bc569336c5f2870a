#include "clusterctl/config/hostfile.hpp"

#include <gtest/gtest.h>

using namespace clusterctl;
using config::parse_hostfile;

TEST(Hostfile, ReadsSlotsCommentsBlankLinesAndRanges) {
    auto r = parse_hostfile("# workers\n\nnode-[001-002] slots=8  # gpu\nnode-010\n", "hf");
    ASSERT_TRUE(r.ok()) << r.error().str();
    ASSERT_EQ(r->size(), 3u);
    EXPECT_EQ((*r)[0].name, "node-001");
    EXPECT_EQ((*r)[1].slots, 8);
    EXPECT_EQ((*r)[2].slots, std::nullopt);
    EXPECT_EQ((*r)[2].where.line, 4);
}

TEST(Hostfile, UserAndPortAndIpLiterals) {
    auto r = parse_hostfile("ubuntu@node-1:2222\n10.0.0.5\n[::1]:2200 slots=2\nroot@[fe80::1]\n"
                            "2001:db8::7\n",
                            "hf");
    ASSERT_TRUE(r.ok()) << r.error().str();
    EXPECT_EQ((*r)[0].user, "ubuntu");
    EXPECT_EQ((*r)[0].port, 2222);
    EXPECT_EQ((*r)[1].name, "10.0.0.5");
    EXPECT_EQ((*r)[2].name, "::1");
    EXPECT_EQ((*r)[2].port, 2200);
    EXPECT_EQ((*r)[3].user, "root");
    EXPECT_EQ((*r)[3].name, "fe80::1");
    EXPECT_EQ((*r)[4].name, "2001:db8::7");
    EXPECT_EQ((*r)[4].port, std::nullopt);
}

TEST(Hostfile, MpiMaxSlotsIsAccepted) {
    auto r = parse_hostfile("node-1 slots=8 max_slots=8\n", "hf");
    ASSERT_TRUE(r.ok()) << r.error().str();
    EXPECT_EQ((*r)[0].slots, 8);
}

TEST(Hostfile, DuplicateNamesBothLines) {
    auto r = parse_hostfile("node-[1-3]\nnode-2\n", "hf");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().str(), "hf:2:1: error: duplicate host 'node-2' (first listed at hf:1:1)");
}

TEST(Hostfile, HostExpressionTakesUserAndPortPerItem) {
    auto r = config::parse_host_expression("a@n[1-2]:2200,m", {"<command line>", 1, 15});
    ASSERT_TRUE(r.ok()) << r.error().str();
    ASSERT_EQ(r->size(), 3u);
    EXPECT_EQ((*r)[1].name, "n2");
    EXPECT_EQ((*r)[1].user, "a");
    EXPECT_EQ((*r)[1].port, 2200);
    EXPECT_EQ((*r)[2].port, std::nullopt);
}
