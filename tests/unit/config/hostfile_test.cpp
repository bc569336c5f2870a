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

TEST(Hostfile, MpiMaxSlotsIsAcceptedAndNeverBelowSlots) {
    auto r = parse_hostfile("node-1 slots=8 max_slots=8\n", "hf");
    ASSERT_TRUE(r.ok()) << r.error().str();
    EXPECT_EQ((*r)[0].slots, 8);
    auto bad = parse_hostfile("node-1 max_slots=4 slots=8\n", "hf");
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().str(), "hf:1:18: error: max_slots=4 is less than slots=8 (max_slots is "
                                 "the most processes the host takes: at least slots)");
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

TEST(Hostfile, ALineEndingInCrLfReadsAsItsLfTwin) {
    auto crlf = parse_hostfile("# saved on Windows\r\nnode-[1-2] slots=8\r\nnode-9\r\n", "hf");
    auto lf = parse_hostfile("# saved on Windows\nnode-[1-2] slots=8\nnode-9\n", "hf");
    ASSERT_TRUE(crlf.ok()) << crlf.error().str();
    ASSERT_EQ(crlf->size(), lf->size());
    for (std::size_t i = 0; i < lf->size(); ++i) {
        EXPECT_EQ((*crlf)[i].name, (*lf)[i].name);
        EXPECT_EQ((*crlf)[i].slots, (*lf)[i].slots);
    }
}

TEST(Hostfile, NamesFollowDnsLimitsAndAddressesInetPton) {
    std::string label63(63, 'a');
    EXPECT_TRUE(parse_hostfile(label63 + ".b\n", "hf").ok());
    EXPECT_FALSE(parse_hostfile(label63 + "a.b\n", "hf").ok());
    std::string name253;
    while (name253.size() < 252)
        name253 += "a.";
    name253 += "a";
    EXPECT_TRUE(parse_hostfile(name253.substr(0, 253) + "\n", "hf").ok());
    EXPECT_FALSE(parse_hostfile(name253 + "bb\n", "hf").ok());
    for (const char* good : {"[::1]", "[fd00::7]:22", "::ffff:10.0.0.1", "10.0.0.255"})
        EXPECT_TRUE(parse_hostfile(std::string(good) + "\n", "hf").ok()) << good;
    for (const char* bad : {"[:]", "[:.1]", "[::::::::::]", "1.2.3.4.5", "300.1.1.1"})
        EXPECT_FALSE(parse_hostfile(std::string(bad) + "\n", "hf").ok()) << bad;
}

TEST(Hostfile, AMessageShowsControlBytesEscaped) {
    auto r = parse_hostfile(std::string("node\x1b\x07x\n", 8), "hf");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().str().find('\x1b'), std::string::npos) << r.error().str();
    EXPECT_NE(r.error().str().find("\\x1b"), std::string::npos) << r.error().str();
    auto nul = parse_hostfile(std::string("no\0de\n", 6), "hf");
    ASSERT_FALSE(nul.ok());
    EXPECT_NE(nul.error().str().find("\\x00"), std::string::npos) << nul.error().str();
}

TEST(Hostfile, SpareIsAWordOfItsOwnLine) {
    auto hosts = config::parse_hostfile("node-[1-2] slots=8\nnode-3 slots=8 spare\n", "hf");
    ASSERT_TRUE(hosts.ok()) << hosts.error().str();
    ASSERT_EQ(hosts->size(), 3u);
    EXPECT_FALSE((*hosts)[0].spare);
    EXPECT_TRUE((*hosts)[2].spare);
    EXPECT_EQ((*hosts)[2].slots, 8);
    auto typo = config::parse_hostfile("node-1 spares\n", "hf");
    ASSERT_FALSE(typo.ok());
    EXPECT_NE(typo.error().str().find("did you mean 'spare'"), std::string::npos)
        << typo.error().str();
}
