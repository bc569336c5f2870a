// Hosts behind a jump host (ProxyJump) against real sshd hosts: one session to the jump
// host for all of them, whole output through it, an unreachable jump host.

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

} // namespace
} // namespace clusterctl::test_support
