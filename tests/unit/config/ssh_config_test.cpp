// ssh_config as ssh reads it. The wide comparison with ssh -G itself is in tests/compat;
// these pin the messages and the cases ssh -G cannot show (warnings, refusals).
#include "clusterctl/config/ssh_config.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

using namespace clusterctl;
using config::SshConfig;

namespace {
const util::Environment k_env = test_support::test_environment();
const config::LocalHost k_local{"tester", "/nonexistent-home", "1000", "laptop.example"};

SshConfig parse(const std::string& text) {
    auto r = SshConfig::parse(text, "ssh_config", k_env);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().str());
    return r.ok() ? *r : SshConfig{};
}

config::SshOptions lookup(const SshConfig& c, const std::string& host) {
    auto r = c.lookup(host, k_local, k_env);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().str());
    return r.ok() ? *r : config::SshOptions{};
}

std::string parse_error(const std::string& text) {
    auto r = SshConfig::parse(text, "cfg", k_env);
    return r.ok() ? "(parsed)" : r.error().str();
}
} // namespace

TEST(SshConfig, FirstValueWinsAsInOpenSsh) {
    auto c = parse("Host node-*\n  User alice\n  Port 2200\nHost *\n  User bob\n  Port 22\n");
    auto o = lookup(c, "node-1");
    EXPECT_EQ(o.user, "alice");
    EXPECT_EQ(o.port, 2200);
    EXPECT_EQ(lookup(c, "other").user, "bob");
}

TEST(SshConfig, NegatedPatternExcludesAndCommaIsPartOfAPattern) {
    auto c = parse("Host node-* !node-3\n  User alice\nHost a,b\n  User comma\n");
    EXPECT_EQ(lookup(c, "node-1").user, "alice");
    EXPECT_EQ(lookup(c, "node-3").user, std::nullopt);
    EXPECT_EQ(lookup(c, "a").user, std::nullopt);
}

TEST(SshConfig, IncludeIsScopedToItsBlock) {
    test_support::TempDir dir;
    dir.write("extra.conf", "Host other\n  User included\n");
    auto c = parse("Host foo\n  Include " + dir.file("*.conf") + "\n  Port 5555\n");
    EXPECT_EQ(lookup(c, "foo").port, 5555);
    EXPECT_EQ(lookup(c, "other").port, std::nullopt);
    EXPECT_EQ(lookup(c, "other").user, std::nullopt); // the Include's block never applies
}

TEST(SshConfig, TrailingCommentsAndBooleans) {
    auto c = parse("Host foo # the foo machine\n  Port 2222 # comment\n  IdentitiesOnly true\n");
    auto o = lookup(c, "foo");
    EXPECT_EQ(o.port, 2222);
    EXPECT_EQ(o.identities_only, true);
}

TEST(SshConfig, TimesTakeUnitsAndZeroMeansNone) {
    auto c = parse("Host a\n  ConnectTimeout 1m30s\nHost b\n  ConnectTimeout 0\n"
                   "Host c\n  ServerAliveInterval 2m\n");
    EXPECT_EQ(lookup(c, "a").connect_timeout, 90);
    EXPECT_EQ(lookup(c, "b").connect_timeout, 0);
    EXPECT_EQ(lookup(c, "c").server_alive_interval, 120);
}

TEST(SshConfig, TokensInPathsAndDuplicatesTriedOnce) {
    auto c = parse("Host n?\n  HostName %h.Cluster.Internal\n  IdentityFile ~/.ssh/a_%h\n"
                   "  IdentityFile ~/.ssh/a_%h\nHost *\n  IdentityFile %d/.ssh/b_%r_%p\n"
                   "  User u\n  UserKnownHostsFile ~/.ssh/kh_%n %d/kh2\n");
    auto o = lookup(c, "n1");
    EXPECT_EQ(o.remote_host, "n1.cluster.internal");
    EXPECT_EQ(o.identity_files,
              (std::vector<std::string>{"/nonexistent-home/.ssh/a_n1.cluster.internal",
                                        "/nonexistent-home/.ssh/b_u_22"}));
    EXPECT_EQ(o.user_known_hosts_files,
              (std::vector<std::string>{"/nonexistent-home/.ssh/kh_n1", "/nonexistent-home/kh2"}));
}

TEST(SshConfig, HostNameAllowsOnlyPercentH) {
    auto c = parse("Host a\n  HostName %r.example\n");
    auto r = c.lookup("a", k_local, k_env);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().str(), "ssh_config:2:12: error: HostName '%r.example': %r is not "
                               "expanded in HostName (ssh expands only %h and %% there)");
}

TEST(SshConfig, MatchHostUserAndFinal) {
    auto c = parse("Host s*\n  HostName %h.cluster\nMatch host *.cluster user root\n  Port 1\n"
                   "Match originalhost s2\n  User root\nMatch final host s1.cluster\n"
                   "  Port 3\n  ServerAliveCountMax 9\n");
    EXPECT_EQ(lookup(c, "s1").port, 3); // not 1: the user is tester; then the final pass
    EXPECT_EQ(lookup(c, "s1").server_alive_count_max, 9);
    EXPECT_EQ(lookup(c, "s2").port, 1);
}

TEST(SshConfig, MatchExecIsRefusedClearly) {
    EXPECT_EQ(parse_error("Host a\n  User x\nMatch exec \"true\"\n  User y\n"),
              "cfg:3:7: error: Match exec is not supported (clusterctl never runs a command to "
              "read ssh_config; match on host, originalhost, user or localuser instead)");
}

TEST(SshConfig, UnknownKeywordIsAnErrorWithASuggestion) {
    EXPECT_EQ(parse_error("Host x\n  Prot 2222\n"),
              "cfg:2:3: error: unknown ssh_config keyword 'Prot' (did you mean Port?)");
    EXPECT_EQ(parse_error("IgnoreUnknown UseKeychain\nHost *\n  UseKeychain yes\n"), "(parsed)");
}

TEST(SshConfig, ValueErrorsPointAtTheValue) {
    EXPECT_EQ(parse_error("Host x\n  Port 70000\n"),
              "cfg:2:8: error: bad Port '70000' (a port is a number from 1 to 65535)");
    EXPECT_EQ(parse_error("Host x\n  User a b\n"),
              "cfg:2:10: error: User takes one value (quote a value that has spaces)");
    EXPECT_EQ(parse_error("Host x\n  IdentityAgent \"\"\n"),
              "cfg:2:3: error: IdentityAgent needs a value");
    EXPECT_EQ(parse_error("Host x\n  ConnectTimeout 10x\n"),
              "cfg:2:18: error: bad time '10x' for ConnectTimeout (seconds, or with units: 30, "
              "1m, 1m30s, 2h)");
}

TEST(SshConfig, ProxyJumpChainsAndUris) {
    auto c = parse("Host a\n  ProxyJump ssh://admin@b1:2200,c@[10.0.0.1]:22,b3 # head\n"
                   "Host b\n  ProxyCommand nc %h %p\n  ProxyJump ignored\n");
    auto o = lookup(c, "a");
    ASSERT_EQ(o.proxy_jump.size(), 3u);
    EXPECT_EQ(o.proxy_jump[0].user, "admin");
    EXPECT_EQ(o.proxy_jump[0].port, 2200);
    EXPECT_EQ(o.proxy_jump[1].host, "10.0.0.1");
    EXPECT_EQ(o.proxy_jump[2].host, "b3");
    auto b = lookup(c, "b");
    EXPECT_TRUE(b.proxy_jump.empty());
    EXPECT_EQ(b.proxy_command, "nc %h %p");
}

TEST(SshConfig, KeysNotAppliedAreNamed) {
    auto c = parse("Host w\n  CertificateFile ~/.ssh/c.pub\n  ConnectionAttempts 1\n"
                   "  LocalForward 1 x:1\n");
    auto o = lookup(c, "w");
    ASSERT_EQ(o.not_applied.size(), 1u);
    EXPECT_EQ(o.not_applied[0].str("warning"),
              "ssh_config:2:3: warning: CertificateFile is not applied (libssh2 1.10 cannot log "
              "in with a certificate)");
}

TEST(SshConfig, WildcardMatching) {
    EXPECT_TRUE(config::wildcard_match("node-*", "node-001"));
    EXPECT_TRUE(config::wildcard_match("n?de-*1", "node-001"));
    EXPECT_FALSE(config::wildcard_match("node-?", "node-10"));
    EXPECT_TRUE(config::wildcard_match("*", ""));
    EXPECT_TRUE(config::pattern_list_match("A*,!ab", "ac", true));
    EXPECT_FALSE(config::pattern_list_match("a*", "AC", true)); // as ssh: the text keeps its case
    EXPECT_FALSE(config::pattern_list_match("a*,!ab", "ab", true));
}
