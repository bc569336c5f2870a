// The SSH engine against real sshd hosts on loopback addresses (scripts/sshd-farm): what
// runs, what comes back, what fails and how it is reported, and that nothing is left
// running on a host afterwards. No mock: every test talks to Debian's OpenSSH.

#include "ssh_suite.hpp"

#include <thread>

namespace clusterctl::test_support {
namespace {

TEST(Engine, SixtyFourHostsEachAnswerOnce) {
    Farm farm(64, test_seed());
    auto r = farm.run({"exec", "--", "echo \"at ${SSH_CONNECTION#* * }\""});
    ASSERT_EQ(r.code, 0) << r.err;
    for (int i = 1; i <= 64; ++i) {
        char name[8];
        std::snprintf(name, sizeof name, "h%03d", i);
        std::string line = std::string(name) + ": at " + farm.address(i) + " " +
                           std::to_string(farm.port()) + "\n";
        EXPECT_EQ(count(r.out, line), 1u) << line;
    }
    EXPECT_EQ(count(r.out, "\n"), 64u);
    auto summary = summary_of(farm);
    EXPECT_EQ(summary["counts"]["done"], 64);
    EXPECT_EQ(summary["exit_code"], 0);
}

TEST(Engine, TwoMegabytesPerHostArriveWholeAndInOrder) {
    Farm farm(16, test_seed());
    auto r = farm.run({"exec", "--", k_two_megabytes});
    ASSERT_EQ(r.code, 0) << r.err;
    expect_two_megabytes_each(r.out, 16);
    EXPECT_EQ(host_in(summary_of(farm), "h001")["bytes"]["stdout"], 2000000);
}

TEST(Engine, ClosedPortIsAConnectFailureAndTheOthersSucceed) {
    Farm farm(4, test_seed());
    write_file(farm.file("hostfile"), read_file(farm.file("hostfile")) + "h005\n");
    write_file(farm.file("ssh_config"), read_file(farm.file("ssh_config")) +
                                            "Host h005\n  HostName " + farm.address(5) + "\n");
    auto r = farm.run({"exec", "--", "echo ok"});
    EXPECT_EQ(r.code, 1);
    for (const char* h : {"h001", "h002", "h003", "h004"})
        EXPECT_NE(r.out.find(std::string(h) + ": ok"), std::string::npos) << h;
    auto h5 = host_in(summary_of(farm), "h005");
    EXPECT_EQ(h5["state"], "failed");
    EXPECT_EQ(h5["stage"], "connect");
    EXPECT_NE(r.err.find("h005 connect: connect to"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("Connection refused"), std::string::npos) << r.err;
}

// A listener the kernel accepts for (into the backlog) and that never says a word: the
// host has not answered (connect); one that sends an SSH banner and then nothing fails in
// the handshake. Both at the connect timeout.
TEST(Engine, SilentListenerIsAConnectFailureAndAStalledServerAHandshakeOne) {
    Farm farm(2, test_seed());
    auto listen_on = [&](int host) {
        int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<uint16_t>(farm.port()));
        ::inet_pton(AF_INET, farm.address(host).c_str(), &addr.sin_addr);
        EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
        EXPECT_EQ(::listen(fd, 16), 0);
        write_file(farm.file("hostfile"),
                   read_file(farm.file("hostfile")) + "h00" + std::to_string(host) + "\n");
        write_file(farm.file("ssh_config"), read_file(farm.file("ssh_config")) + "Host h00" +
                                                std::to_string(host) + "\n  HostName " +
                                                farm.address(host) + "\n");
        return fd;
    };
    int silent = listen_on(3), stalled = listen_on(4);
    std::thread banner([stalled] {
        int client = ::accept(stalled, nullptr, nullptr);
        if (client < 0) return;
        const char text[] = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n";
        EXPECT_EQ(::write(client, text, sizeof text - 1), static_cast<ssize_t>(sizeof text - 1));
        char buffer[4096];
        while (::read(client, buffer, sizeof buffer) > 0) {
        }
        ::close(client);
    });
    auto r = farm.run({"--connect-timeout", "2", "exec", "--", "true"}, {}, 30s);
    ::shutdown(stalled, SHUT_RDWR);
    ::close(silent);
    banner.join();
    ::close(stalled);
    EXPECT_EQ(r.code, 1) << r.err;
    auto h3 = host_in(summary_of(farm), "h003");
    EXPECT_EQ(h3["stage"], "connect");
    EXPECT_GE(h3["duration_s"].get<double>(), 2.0);
    EXPECT_LE(h3["duration_s"].get<double>(), 3.0);
    EXPECT_NE(r.err.find("h003 connect: no answer within 2 s"), std::string::npos) << r.err;
    EXPECT_EQ(host_in(summary_of(farm), "h004")["stage"], "handshake") << r.err;
    EXPECT_EQ(host_in(summary_of(farm), "h001")["state"], "done");
}

TEST(Engine, TimeoutKillsTheRemoteCommand) {
    Farm farm(2, test_seed());
    auto r = farm.run({"--timeout", "1", "exec", "--", "sleep 3010"}, {}, 60s);
    EXPECT_EQ(r.code, 1);
    auto h1 = host_in(summary_of(farm), "h001");
    EXPECT_EQ(h1["stage"], "timeout");
    EXPECT_LT(h1["duration_s"].get<double>(), 10.0);
    EXPECT_TRUE(eventually([] { return processes_with("sleep 3010").empty(); }));
}

TEST(Engine, ExitCodesAndSignalsAreReported) {
    Farm farm(3, test_seed());
    auto r = farm.run({"exec", "--",
                       k_host_number + "case $n in 1) exit 0;; 2) exit 7;; "
                                       "*) kill -TERM $$;; esac"});
    EXPECT_EQ(r.code, 143) << "exec: the largest remote exit code, as pdsh -S and clush";
    auto s = summary_of(farm);
    EXPECT_EQ(host_in(s, "h001")["exit_code"], 0);
    EXPECT_EQ(host_in(s, "h001")["state"], "done");
    EXPECT_EQ(host_in(s, "h002")["exit_code"], 7);
    EXPECT_EQ(host_in(s, "h002")["stage"], "exec");
    EXPECT_EQ(host_in(s, "h003")["exit_code"], 128 + SIGTERM);
    EXPECT_EQ(host_in(s, "h003")["signal"], "TERM");
    EXPECT_NE(r.err.find("h003 exit 143 (SIGTERM)"), std::string::npos) << r.err;
}

// summary.json names the process group each command ran in, as the host saw it.
TEST(Engine, SummaryNamesEachCommandsProcessGroup) {
    Farm farm(2, test_seed());
    auto r =
        farm.run({"exec", "--", "read -r s </proc/$$/stat; set -- ${s##*) }; echo \"group $3\""});
    ASSERT_EQ(r.code, 0) << r.err;
    auto s = summary_of(farm);
    for (std::string host : {"h001", "h002"}) {
        auto group = host_in(s, host)["steps"][0]["process_group"];
        ASSERT_TRUE(group.is_number()) << s.dump();
        EXPECT_NE(r.out.find(host + ": group " + std::to_string(group.get<long>()) + "\n"),
                  std::string::npos)
            << r.out;
    }
    EXPECT_EQ(r.out.find("pgid"), std::string::npos) << r.out;
    EXPECT_EQ(r.err.find("pgid"), std::string::npos) << r.err;
}

// --log-dir on a 1 MB tmpfs, 3 MB from each host: the run's result stands (exit 0), each
// host log is named as incomplete with the reason, and summary.json, whose room was taken
// before the logs filled the disk, is whole and says the same; so does --json.
TEST(Engine, AFullLogDiskIsNamedFileByFileAndTheSummaryIsStillWritten) {
    Farm farm(2, test_seed());
    std::string logs = farm.file("logs");
    std::filesystem::create_directories(logs);
    ASSERT_EQ(::mount("tmpfs", logs.c_str(), "tmpfs", 0, "size=1m"), 0) << std::strerror(errno);
    auto r =
        farm.run({"--json", "exec", "--", "head -c 3000000 /dev/zero | tr '\\0' x | fold -w 99"});
    std::string text = read_file(logs + "/summary.json");
    ::umount2(logs.c_str(), MNT_DETACH);
    EXPECT_EQ(r.code, 0) << r.err;
    auto s = json::parse(text);
    std::string last = r.out.substr(r.out.rfind('\n', r.out.size() - 2) + 1);
    auto printed = json::parse(last);
    for (std::string host : {"h001", "h002"}) {
        std::string lost = logs + "/" + host + ".log: No space left on device";
        EXPECT_NE(r.err.find("clusterctl: warning: incomplete record: " + lost), std::string::npos)
            << r.err;
        EXPECT_NE(std::find(s["logs_incomplete"].begin(), s["logs_incomplete"].end(), lost),
                  s["logs_incomplete"].end())
            << s["logs_incomplete"];
        EXPECT_EQ(host_in(s, host)["state"], "done");
    }
    EXPECT_EQ(printed["logs_incomplete"], s["logs_incomplete"]);
}

TEST(Engine, StderrIsKeptApartFromStdout) {
    Farm farm(2, test_seed());
    auto r =
        farm.run({"exec", "--",
                  "echo to-out; echo to-err >&2; printf '\\036clusterctl:note hidden\\n' >&2"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("h001: to-out"), std::string::npos);
    EXPECT_EQ(r.out.find("to-err"), std::string::npos) << r.out;
    EXPECT_NE(r.err.find("h001: to-err"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("to-out"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("clusterctl:note"), std::string::npos) << r.err; // control lines hidden
}

TEST(Engine, FailFastCancelsTheOthers) {
    Farm farm(6, test_seed());
    auto r = farm.run({"exec", "--fail-fast", "--",
                       k_host_number + "if [ $n = 1 ]; then sleep 0.5; exit 3; fi; sleep 3011"},
                      {}, 60s);
    EXPECT_EQ(r.code, 3);
    auto s = summary_of(farm);
    EXPECT_EQ(host_in(s, "h001")["exit_code"], 3);
    for (const char* h : {"h002", "h003", "h004", "h005", "h006"})
        EXPECT_EQ(host_in(s, h)["state"], "cancelled") << h;
    EXPECT_LT(s["duration_s"].get<double>(), 15.0);
    EXPECT_TRUE(eventually([] { return processes_with("sleep 3011").empty(); }));
}

TEST(Engine, CtrlCStopsSixteenHostsAndLeavesNothingRunning) {
    Farm farm(16, test_seed());
    auto p = farm.start({"exec", "--", "sleep 3012"});
    ASSERT_TRUE(eventually([] { return processes_with("sleep 3012").size() == 16; }))
        << processes_with("sleep 3012").size();
    p->signal(SIGINT);
    EXPECT_EQ(p->wait(30s), 130) << p->err();
    EXPECT_TRUE(eventually([] { return processes_with("sleep 3012").empty(); }, 5s));
    EXPECT_NE(p->err().find("16 cancelled"), std::string::npos) << p->err();
}

TEST(Engine, SecondCtrlCAbortsAtOnceAndStillLeavesNothing) {
    Farm farm(4, test_seed());
    // A command that ignores TERM: only the KILL after the grace period would stop it.
    auto p = farm.start({"exec", "--", "trap '' TERM; sleep 3015 & wait; wait"});
    ASSERT_TRUE(eventually([] { return processes_with("sleep 3015").size() == 4; }));
    p->signal(SIGINT);
    std::this_thread::sleep_for(300ms);
    p->signal(SIGINT);
    EXPECT_EQ(p->wait(5s), 130) << p->err();
    EXPECT_NE(p->err().find("aborted"), std::string::npos) << p->err();
    // Dropped connections: each host's watchdog kills its group (TERM, then KILL).
    EXPECT_TRUE(eventually([] { return processes_with("sleep 3015").empty(); }, 20s));
}

TEST(Engine, DroppedConnectionLeavesNoProcessOnThatHost) {
    Farm farm(3, test_seed());
    auto p = farm.start({"exec", "--",
                         k_host_number + k_sshd_pid +

                             "exec sleep 3013$n"});
    std::map<std::string, pid_t> sshd;
    ASSERT_TRUE(eventually([&] {
        std::istringstream out(p->out());
        std::string line;
        sshd.clear();
        while (std::getline(out, line))
            if (auto at = line.find("sshd="); at != std::string::npos)
                sshd[line.substr(0, 4)] = std::stoi(line.substr(at + 5));
        return sshd.size() == 3;
    })) << p->out();
    ASSERT_EQ(processes_with("sleep 30132").size(), 1u);
    ::kill(sshd["h002"], SIGKILL); // the sshd process serving h002's session
    EXPECT_TRUE(eventually([] { return processes_with("sleep 30132").empty(); }));
    EXPECT_EQ(processes_with("sleep 30131").size(), 1u); // the others run on
    p->signal(SIGINT);
    EXPECT_EQ(p->wait(30s), 130);
    auto h2 = host_in(summary_of(farm), "h002");
    EXPECT_EQ(h2["state"], "failed") << h2.dump();
    EXPECT_TRUE(eventually([] { return processes_with("sleep 3013").empty(); }));
}

TEST(Engine, HungHostIsDeclaredLost) {
    Farm farm(2, test_seed());
    write_file(farm.file("ssh_config"),
               "Host *\n  ServerAliveInterval 1\n  ServerAliveCountMax 2\n" +
                   read_file(farm.file("ssh_config")));
    auto p = farm.start({"exec", "--",
                         k_host_number + k_sshd_pid +

                             "exec sleep 3014$n"});
    pid_t stopped = 0;
    ASSERT_TRUE(eventually([&] {
        std::string out = p->out();
        auto at = out.find("h001: sshd=");
        if (at == std::string::npos) return false;
        stopped = std::stoi(out.substr(at + 11));
        return true;
    }));
    ::kill(stopped, SIGSTOP); // h001 hangs: the connection stays up, nothing comes back
    // Said as it happens, not only in the summary at the end.
    ASSERT_TRUE(eventually([&] { return p->err().find("h001 lost:") != std::string::npos; }, 15s))
        << p->err();
    p->signal(SIGINT);
    EXPECT_EQ(p->wait(30s), 130) << p->err();
    ::kill(stopped, SIGCONT);
    auto h1 = host_in(summary_of(farm), "h001");
    EXPECT_EQ(h1["stage"], "lost") << h1.dump();
    EXPECT_LT(h1["duration_s"].get<double>(), 10.0);
    // Once its sshd runs again it sees the connection gone; the watchdog kills the rest.
    EXPECT_TRUE(eventually([] { return processes_with("sleep 3014").empty(); }));
}

// libssh2 1.10 sends keepalives at most every 2 s, and each reply comes a little after
// the period: an idle, healthy host with the shortest settings is not declared lost.
TEST(Engine, IdleHostIsNotLostWithTheShortestKeepalive) {
    Farm farm(2, test_seed());
    write_file(farm.file("ssh_config"),
               "Host *\n  ServerAliveInterval 1\n  ServerAliveCountMax 1\n" +
                   read_file(farm.file("ssh_config")));
    auto r = farm.run({"exec", "--", "sleep 7; echo done"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("h001: done"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("h002: done"), std::string::npos) << r.out;
}

TEST(Engine, FanoutCapsHostsRunningAtOnce) {
    Farm farm(12, test_seed());
    std::string trace = farm.file("trace");
    auto r = farm.run(
        {"--fanout", "3", "exec", "--", "echo + >> " + trace + "; sleep 0.3; echo - >> " + trace});
    ASSERT_EQ(r.code, 0) << r.err;
    int now = 0, most = 0, starts = 0;
    for (char c : read_file(trace)) {
        if (c == '+') most = std::max(most, ++now), ++starts;
        if (c == '-') --now;
    }
    EXPECT_EQ(starts, 12);
    EXPECT_LE(most, 3);
    EXPECT_GE(most, 2);
}

TEST(Engine, RetriesAConnectionWithBackoff) {
    Farm farm(1, test_seed());
    write_file(farm.file("hostfile"), read_file(farm.file("hostfile")) + "h002\n");
    write_file(farm.file("ssh_config"), read_file(farm.file("ssh_config")) +
                                            "Host h002\n  HostName " + farm.address(2) + "\n");
    auto r = farm.run({"--retries", "2", "exec", "--", "true"}, {}, 60s);
    EXPECT_EQ(r.code, 1);
    auto h2 = host_in(summary_of(farm), "h002");
    EXPECT_EQ(h2["attempts"], 3);
    EXPECT_EQ(h2["stage"], "connect");
    EXPECT_EQ(count(r.err, "retrying in"), 2u) << r.err;
    EXPECT_EQ(host_in(summary_of(farm), "h001")["attempts"], 1);
}

TEST(Engine, SecretReachesTheEnvironmentAndNothingElse) {
    Farm farm(3, test_seed());
    const std::string secret = "hf_SeCrEt0123456789abcdefXYZ";
    write_file(farm.file("clusterctl.yaml"), "secrets:\n  HF_TOKEN: {env: HF_TOKEN}\n");
    std::vector<std::string> args{"-c",
                                  farm.file("clusterctl.yaml"),
                                  "--hostfile",
                                  farm.file("hostfile"),
                                  "exec",
                                  "--",
                                  "echo token=$HF_TOKEN; printf %s \"$HF_TOKEN\" | sha256sum; "
                                  "sleep 4.0317"};
    auto p = farm.start(args, {"HF_TOKEN=" + secret});
    bool seen_running = eventually([] { return processes_with("sleep 4.0317").size() == 3; });
    // While the command runs, no command line on this machine holds the value.
    std::vector<pid_t> holders = processes_holding(secret);
    EXPECT_TRUE(seen_running);
    EXPECT_TRUE(holders.empty()) << holders.size() << " processes hold the secret in argv";
    ASSERT_EQ(p->wait(60s), 0) << p->err();
    std::string out = p->out();
    EXPECT_EQ(count(out, "token=***"), 3u) << out;
    std::string digest = farm.file("digest");
    std::system(("printf %s '" + secret + "' | sha256sum > " + digest).c_str());
    EXPECT_EQ(count(out, read_file(digest).substr(0, 64)), 3u) << "the remote value differs";
    for (const auto& f : std::filesystem::directory_iterator(farm.file("logs")))
        EXPECT_EQ(read_file(f.path()).find(secret), std::string::npos) << f.path();
    EXPECT_EQ(out.find(secret), std::string::npos);
    EXPECT_EQ(p->err().find(secret), std::string::npos);

    args.insert(args.begin(), "--json");
    auto json_run = farm.run(args, {"HF_TOKEN=" + secret});
    EXPECT_EQ(json_run.code, 0);
    EXPECT_EQ(json_run.out.find(secret), std::string::npos);
    EXPECT_NE(json_run.out.find("\"line\":\"token=***\""), std::string::npos) << json_run.out;
}

TEST(Engine, JsonLinesForCi) {
    Farm farm(2, test_seed());
    auto r = farm.run({"--json", "exec", "--", "echo hello; echo oops >&2"});
    ASSERT_EQ(r.code, 0) << r.err;
    std::istringstream lines(r.out);
    std::string line;
    int stdout_lines = 0, stderr_lines = 0, exits = 0, summaries = 0;
    while (std::getline(lines, line)) {
        json j = json::parse(line); // every line is JSON
        if (j.contains("stream")) (j["stream"] == "stdout" ? stdout_lines : stderr_lines)++;
        if (j.value("event", "") == "exit") {
            ++exits;
            EXPECT_EQ(j["code"], 0);
        }
        if (j.value("event", "") == "summary") {
            ++summaries;
            EXPECT_EQ(j["counts"]["done"], 2);
        }
    }
    EXPECT_EQ(stdout_lines, 2);
    EXPECT_EQ(stderr_lines, 2);
    EXPECT_EQ(exits, 2);
    EXPECT_EQ(summaries, 1);
}

TEST(Engine, GatherFoldsIdenticalOutput) {
    Farm farm(5, test_seed());
    auto r = farm.run({"-b", "exec", "--",
                       k_host_number + "if [ $n = 3 ]; then echo odd; else "
                                       "echo same; fi"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("h[001-002,004-005] (4)\n---------------\nsame\n"), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("h003\n---------------\nodd\n"), std::string::npos) << r.out;
}

TEST(Engine, TwoHundredFiftySixHostsInOneRun) {
    Farm farm(256, test_seed());
    // 256 key exchanges and logins at once on this machine's 2 cores: what is tested is
    // that every host is run, not how fast (bench/ measures that).
    auto r = farm.run({"--connect-timeout", "60", "exec", "--", "true"}, {}, 180s);
    EXPECT_EQ(r.code, 0) << r.err.substr(0, 2000);
    EXPECT_EQ(summary_of(farm)["counts"]["done"], 256);
}

} // namespace
} // namespace clusterctl::test_support
