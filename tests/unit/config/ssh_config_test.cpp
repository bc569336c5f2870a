#include "clusterctl/config/ssh_config.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

using namespace clusterctl;
using config::SshConfig;

namespace {
const util::Environment k_env = test_support::test_environment();

SshConfig parse(const std::string& text) {
    auto r = SshConfig::parse(text, "ssh_config", k_env);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().str());
    return r.ok() ? *r : SshConfig{};
}
} // namespace

TEST(SshConfig, FirstValueWinsAsInOpenSsh) {
    auto c = parse("Host node-*\n  User alice\n  Port 2200\nHost *\n  User bob\n  Port 22\n");
    auto o = c.lookup("node-1", k_env);
    EXPECT_EQ(o.user, "alice");
    EXPECT_EQ(o.port, 2200);
    EXPECT_EQ(c.lookup("other", k_env).user, "bob");
}

TEST(SshConfig, NegatedPatternExcludes) {
    auto c = parse("Host node-* !node-3\n  User alice\n");
    EXPECT_EQ(c.lookup("node-1", k_env).user, "alice");
    EXPECT_EQ(c.lookup("node-3", k_env).user, std::nullopt);
}

TEST(SshConfig, HostNameTokenAndIdentityFilesAccumulate) {
    auto c = parse("Host n?\n  HostName %h.cluster.internal\n  IdentityFile ~/.ssh/a\n"
                   "Host *\n  IdentityFile %d/.ssh/b_%r\n  User u\n");
    auto o = c.lookup("n1", k_env);
    EXPECT_EQ(o.hostname, "n1.cluster.internal");
    EXPECT_EQ(o.identity_files,
              (std::vector<std::string>{"/nonexistent-home/.ssh/a", "/nonexistent-home/.ssh/b_u"}));
}

TEST(SshConfig, EqualsSignQuotesAndCaseInsensitiveKeys) {
    auto c = parse("HOST gpu1\n  hostname=\"10.1.2.3\"\n  PROXYJUMP = admin@head:2222\n");
    auto o = c.lookup("gpu1", k_env);
    EXPECT_EQ(o.hostname, "10.1.2.3");
    EXPECT_EQ(o.proxy_jump, "admin@head:2222");
}

TEST(SshConfig, IncludeReadsOtherFiles) {
    test_support::TempDir dir;
    dir.write("extra.conf", "Host inc\n  User included\n");
    auto c = parse("Include " + dir.file("*.conf") + "\nHost *\n  User fallback\n");
    EXPECT_EQ(c.lookup("inc", k_env).user, "included");
}

TEST(SshConfig, MatchIsRefusedClearly) {
    auto r = SshConfig::parse("Host a\n  User x\nMatch host b\n  User y\n", "cfg", k_env);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().str(),
              "cfg:3:1: error: Match blocks are not supported (rewrite the block as 'Host "
              "PATTERN')");
}

TEST(SshConfig, WildcardMatching) {
    EXPECT_TRUE(config::wildcard_match("node-*", "node-001"));
    EXPECT_TRUE(config::wildcard_match("n?de-*1", "node-001"));
    EXPECT_FALSE(config::wildcard_match("node-?", "node-10"));
    EXPECT_TRUE(config::wildcard_match("*", ""));
}
