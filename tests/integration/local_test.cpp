// cluster.backend: local — every host a process group of this machine, through the same
// remote wrapper as over SSH: what runs, what comes back, timeouts, Ctrl-C, copies, and a
// real torchrun job of two local "nodes". Nothing may be left running afterwards.

#include "farm.hpp"

#include <filesystem>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace clusterctl::test_support {
namespace {

using namespace std::chrono_literals;

class LocalCluster {
public:
    explicit LocalCluster(const std::string& extra = "") : m_dir("/tmp") {
        write_file(file("clusterctl.yaml"),
                   "cluster:\n  backend: local\n  hosts: [localhost, 127.0.0.1]\n" + extra);
    }
    std::string file(const std::string& name) const { return m_dir.file(name); }

    std::unique_ptr<Process> start(const std::vector<std::string>& args) {
        std::vector<std::string> argv{CLUSTERCTL_BINARY, "-c", file("clusterctl.yaml"), "--log-dir",
                                      file("logs")};
        argv.insert(argv.end(), args.begin(), args.end());
        ++m_runs;
        return std::make_unique<Process>(argv, file("out." + std::to_string(m_runs)),
                                         file("err." + std::to_string(m_runs)),
                                         clusterctl_env(m_dir.path(), {}));
    }
    Farm::Run run(const std::vector<std::string>& args, std::chrono::seconds limit = 120s) {
        auto p = start(args);
        int code = p->wait(limit);
        return {code, p->out(), p->err()};
    }
    nlohmann::json summary() const {
        return nlohmann::json::parse(read_file(file("logs/summary.json")));
    }

private:
    TempDir m_dir;
    int m_runs = 0;
};

TEST(Local, EveryHostIsAProcessGroupOfThisMachine) {
    LocalCluster cluster("env:\n  GREETING: \"hi $(not run)\"\n");
    auto r = cluster.run({"exec", "--", "echo \"$GREETING\"; echo err >&2; exit 3"});
    EXPECT_EQ(r.code, 3) << r.err;
    EXPECT_NE(r.out.find("localhost: hi $(not run)\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("127.0.0.1: hi $(not run)\n"), std::string::npos) << r.out;
    EXPECT_NE(r.err.find("localhost: err\n"), std::string::npos) << r.err;
    auto s = cluster.summary();
    for (const auto& h : s["hosts"]) {
        EXPECT_EQ(h["exit_code"], 3) << h;
        EXPECT_TRUE(h["steps"][0]["process_group"].is_number()) << h;
    }
}

TEST(Local, TimeoutAndCtrlCLeaveNothingRunning) {
    LocalCluster cluster;
    auto r = cluster.run({"--timeout", "1", "exec", "--", "sleep 3040"});
    EXPECT_EQ(r.code, 1);
    EXPECT_EQ(cluster.summary()["hosts"][0]["stage"], "timeout");
    EXPECT_TRUE(eventually([] { return processes_with("sleep 3040").empty(); }));

    auto p = cluster.start({"exec", "--", "sleep 3041 & sleep 3041; wait"});
    ASSERT_TRUE(eventually([] { return processes_with("sleep 3041").size() == 4; }));
    p->signal(SIGINT);
    EXPECT_EQ(p->wait(30s), 130) << p->err();
    EXPECT_TRUE(eventually([] { return processes_with("sleep 3041").empty(); }));
}

TEST(Local, FilesAreCopiedIntoPlaceWithTheirMode) {
    LocalCluster cluster;
    write_file(cluster.file("src.sh"), "#!/bin/sh\necho hi\n");
    ::chmod(cluster.file("src.sh").c_str(), 0750);
    auto r = cluster.run({"push", cluster.file("src.sh"), cluster.file("copy.sh")});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(read_file(cluster.file("copy.sh")), "#!/bin/sh\necho hi\n");
    EXPECT_EQ(std::filesystem::status(cluster.file("copy.sh")).permissions(),
              static_cast<std::filesystem::perms>(0750));
}

// The same config shape as on a cluster, two local nodes of one rank each: one rendezvous,
// distinct node ranks, the loss falls; no python left.
TEST(Local, TrainsTheTinyJobOnThisMachine) {
    TempDir work("/tmp");
    std::filesystem::copy_file(std::string(CLUSTERCTL_SOURCE_DIR) +
                                   "/configs/examples/tiny/train_tiny.py",
                               work.file("train_tiny.py"));
    LocalCluster cluster("env:\n  OMP_NUM_THREADS: \"1\"\ntrain:\n  workdir: " + work.path() +
                         "\n  torchrun: /usr/bin/torchrun\n  device: cpu\n  nproc_per_node: 1\n"
                         "  rdzv: {backend: c10d, port: 29731}\n  script: train_tiny.py\n"
                         "  args: [--steps, \"10\"]\n"
                         "  torchrun_args: [--redirects, \"1\", --tee, \"1\"]\n");
    auto r = cluster.run({"train"}, 180s);
    ASSERT_EQ(r.code, 0) << r.err << r.out;
    EXPECT_NE(r.out.find("node_rank 0"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("node_rank 1"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("step 10 loss"), std::string::npos) << r.out;
    // This run's ranks (their working directory is its workdir): other tests' may be running.
    EXPECT_TRUE(eventually([&] {
        for (pid_t pid : processes_holding("train_tiny")) {
            std::error_code ec;
            auto cwd = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/cwd", ec);
            if (!ec && cwd == work.path()) return false;
        }
        return true;
    }));
}

} // namespace
} // namespace clusterctl::test_support
