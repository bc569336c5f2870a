// Hosts behind a jump host (ProxyJump) against real sshd hosts: one session to the jump
// host for all of them, whole output through it, an unreachable jump host; chains of jump
// hosts, a jump host's own ProxyJump, ProxyCommand (alone and carrying a chain), a loop.

#include "ssh_suite.hpp"

namespace clusterctl::test_support {
namespace {

TEST(Jump, EightHostsThroughOneSessionToTheJumpHost) {
    Farm farm(9, test_seed());
    std::string config = behind_jump(farm, 8, 9);
    auto p = farm.start({"--ssh-config", config, "--hostfile", farm.file("hostfile.jump"), "exec",
                         "--", "echo \"at ${SSH_CONNECTION#* * }\"; sleep 3016"});
    ASSERT_TRUE(eventually([] { return processes_with("sleep 3016").size() == 8; })) << p->err();
    EXPECT_EQ(tcp_connections_of(p->pid()), 1u) << "one connection, to the jump host";
    p->signal(SIGINT);
    EXPECT_EQ(p->wait(30s), 130) << p->err();
    for (int i = 1; i <= 8; ++i)
        EXPECT_NE(p->out().find(": at " + farm.address(i) + " "), std::string::npos) << i;
    EXPECT_TRUE(eventually([] { return processes_with("sleep 3016").empty(); }));
}

TEST(Jump, ALongHostListIsSpreadOverAFewSessions) {
    // 16 hosts a session before the next one opens: 20 hosts, two sessions (two logins).
    Farm farm(21, test_seed());
    std::string config = behind_jump(farm, 20, 21);
    auto p = farm.start({"--ssh-config", config, "--hostfile", farm.file("hostfile.jump"), "exec",
                         "--", "sleep 3018"});
    ASSERT_TRUE(eventually([] { return processes_with("sleep 3018").size() == 20; })) << p->err();
    EXPECT_EQ(tcp_connections_of(p->pid()), 2u);
    p->signal(SIGINT);
    EXPECT_EQ(p->wait(30s), 130) << p->err();
    EXPECT_TRUE(eventually([] { return processes_with("sleep 3018").empty(); }));
}

TEST(Jump, TwoMegabytesPerHostThroughTheJump) {
    Farm farm(5, test_seed());
    std::string config = behind_jump(farm, 4, 5);
    auto r = farm.run({"--ssh-config", config, "--hostfile", farm.file("hostfile.jump"), "exec",
                       "--", k_two_megabytes});
    ASSERT_EQ(r.code, 0) << r.err;
    expect_two_megabytes_each(r.out, 4);
}

TEST(Jump, UnreachableJumpHostFailsEveryHostBehindIt) {
    Farm farm(2, test_seed());
    std::string config = farm.file("ssh_config.jump");
    write_file(config, "Host h001 h002\n  ProxyJump root@" + farm.address(7) + "\n" +
                           read_file(farm.file("ssh_config")));
    auto r = farm.run({"--ssh-config", config, "exec", "--", "true"});
    EXPECT_EQ(r.code, 1);
    auto h1 = host_in(summary_of(farm), "h001");
    EXPECT_EQ(h1["stage"], "connect");
    EXPECT_NE(h1["message"].get<std::string>().find("jump host root@" + farm.address(7)),
              std::string::npos)
        << h1.dump();
}

// A ProxyCommand as users write them (nc-like, here bash's /dev/tcp), logging each use.
std::string write_proxy(Farm& farm) {
    std::string proxy = farm.file("proxy.sh");
    write_file(proxy, "#!/bin/sh\n"
                      "echo \"$1:$2\" >> " +
                          farm.file("proxy.log") +
                          "\n"
                          "exec bash -c 'exec 3<>/dev/tcp/$0/$1 || exit 1; cat <&3 & cat >&3; "
                          "kill $! 2>/dev/null' \"$1\" \"$2\" # clusterctl-test-proxy\n");
    ::chmod(proxy.c_str(), 0755);
    return proxy;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        out.push_back(line);
    return out;
}

TEST(Jump, ChainOfJumpHostsFirstOneThroughAProxyCommand) {
    // h001..h004 behind "ProxyJump h005,h006"; h005 is reached by its own ProxyCommand.
    Farm farm(6, test_seed());
    std::string proxy = write_proxy(farm);
    std::string config = farm.file("ssh_config.chain");
    write_file(config, "Host h001 h002 h003 h004\n  ProxyJump h005,h006\nHost h005\n"
                       "  ProxyCommand " +
                           proxy + " %h %p\n" + read_file(farm.file("ssh_config")));
    behind_jump(farm, 4, 5); // the hostfile of h001..h004
    auto p = farm.start({"--ssh-config", config, "--hostfile", farm.file("hostfile.jump"), "exec",
                         "--", "echo \"at ${SSH_CONNECTION#* * }\"; sleep 3017"});
    ASSERT_TRUE(eventually([] { return processes_with("sleep 3017").size() == 4; })) << p->err();
    EXPECT_EQ(tcp_connections_of(p->pid()), 0u) << "every byte through the ProxyCommand";
    EXPECT_EQ(lines_of(read_file(farm.file("proxy.log"))),
              std::vector<std::string>{farm.address(5) + ":" + std::to_string(farm.port())})
        << "one ProxyCommand, for the first jump host";
    p->signal(SIGINT);
    EXPECT_EQ(p->wait(30s), 130) << p->err();
    for (int i = 1; i <= 4; ++i)
        EXPECT_NE(p->out().find(": at " + farm.address(i) + " "), std::string::npos) << i;
    EXPECT_TRUE(eventually([] { return processes_with("sleep 3017").empty(); }));
    EXPECT_TRUE(eventually([] { return processes_with("bash -c exec 3<>").empty(); }))
        << "the ProxyCommand is ended with the run";
}

TEST(Jump, SecondHopOfAChainAndAJumpHostsOwnProxyJumpAreTaken) {
    // Through h005 to an address nothing answers: the chain's second hop is really used.
    Farm farm(5, test_seed());
    std::string dead = farm.address(9);
    std::string config = farm.file("ssh_config.chain");
    write_file(config, "Host h001\n  ProxyJump h005,root@" + dead +
                           "\nHost h002\n"
                           "  ProxyJump h004\nHost h004\n  ProxyJump root@" +
                           dead + "\n" + read_file(farm.file("ssh_config")));
    auto r = farm.run({"--ssh-config", config, "-w", "h001,h002", "exec", "--", "true"});
    EXPECT_EQ(r.code, 1) << r.err;
    auto summary = summary_of(farm);
    for (const char* host : {"h001", "h002"}) {
        const auto& h = host_in(summary, host);
        EXPECT_EQ(h["stage"], "connect") << h.dump();
        EXPECT_NE(h["message"].get<std::string>().find(dead), std::string::npos) << h.dump();
    }
}

TEST(Jump, EachHostThroughItsOwnProxyCommandAndAFailingOneExplained) {
    Farm farm(3, test_seed());
    std::string proxy = write_proxy(farm);
    std::string config = farm.file("ssh_config.proxy");
    write_file(config, "Host h001 h002\n  ProxyCommand " + proxy +
                           " %h %p\nHost h003\n"
                           "  ProxyCommand sh -c 'echo no route to %h >&2; exit 3'\n" +
                           read_file(farm.file("ssh_config")));
    auto r = farm.run({"--ssh-config", config, "exec", "--", "echo \"at ${SSH_CONNECTION#* * }\""});
    EXPECT_EQ(r.code, 1) << r.err;
    for (int i = 1; i <= 2; ++i)
        EXPECT_NE(r.out.find(": at " + farm.address(i) + " "), std::string::npos) << i;
    EXPECT_EQ(lines_of(read_file(farm.file("proxy.log"))).size(), 2u);
    auto summary = summary_of(farm);
    const auto& h3 = host_in(summary, "h003");
    // %h is the HostName, as in ssh.
    EXPECT_NE(h3["message"].get<std::string>().find("exited 3: no route to " + farm.address(3)),
              std::string::npos)
        << h3.dump();
    EXPECT_TRUE(processes_with("bash -c exec 3<>").empty());
}

TEST(Jump, ALoopIsAConfigErrorAndNothingRuns) {
    Farm farm(2, test_seed());
    std::string config = farm.file("ssh_config.loop");
    write_file(config, "Host *\n  ProxyJump h002\n" + read_file(farm.file("ssh_config")));
    auto r = farm.run({"--ssh-config", config, "exec", "--", "touch " + farm.file("ran")});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find(config + ":2:13: error: ProxyJump loop: "), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(farm.file("ran")));
}

} // namespace
} // namespace clusterctl::test_support
