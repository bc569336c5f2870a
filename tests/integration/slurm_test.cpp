// cluster.backend: slurm against a real Slurm 22.05 (scripts/slurm-cluster): munged, a
// slurmctld, and a slurmd per network namespace with its own hostname; Debian's real
// torchrun (gloo, CPU) and the tiny job. clusterctl runs inside an allocation (salloc, as a
// user does) or asks for one itself. Every test that starts ranks ends by looking inside
// every node for python or torchrun left behind.

#include "training.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

namespace clusterctl::test_support {
namespace {

using namespace std::chrono_literals;

class SlurmCluster {
public:
    explicit SlurmCluster(int nodes) : m_dir("/tmp"), m_nodes(nodes) {
        std::string command = owner_env() + std::string(CLUSTERCTL_SOURCE_DIR) +
                              "/scripts/slurm-cluster up " + std::to_string(nodes) + " " +
                              m_dir.path() + " >/dev/null";
        if (std::system(command.c_str()) != 0) throw std::runtime_error("slurm-cluster up failed");
        m_up = true;
        std::istringstream env(read_file(file("cluster.env")));
        std::string line;
        while (std::getline(env, line))
            if (line.rfind("K=", 0) == 0) m_k = line.substr(2);
    }
    ~SlurmCluster() {
        if (m_up)
            std::system(
                (std::string(CLUSTERCTL_SOURCE_DIR) + "/scripts/slurm-cluster down " + m_dir.path())
                    .c_str());
    }
    SlurmCluster(const SlurmCluster&) = delete;
    SlurmCluster& operator=(const SlurmCluster&) = delete;

    std::string file(const std::string& name) const { return m_dir.file(name); }

    void edit_config(const std::string& from, const std::string& to) {
        replace_in_file(file("clusterctl.yaml"), from, to);
    }

    std::vector<std::string> env(const std::vector<std::string>& extra = {}) const {
        std::vector<std::string> e{"WANDB_API_KEY=" + std::string(k_secret),
                                   "SLURM_CONF=" + file("slurm.conf")};
        e.insert(e.end(), extra.begin(), extra.end());
        return clusterctl_env(m_dir.path(), e);
    }

    // clusterctl ARGS; inside `salloc -N NODES` when `in_allocation` > 0.
    std::unique_ptr<Process> start(std::vector<std::string> args, int in_allocation = 0) {
        std::vector<std::string> argv;
        if (in_allocation > 0) argv = {"/usr/bin/salloc", "-N", std::to_string(in_allocation)};
        for (const std::string& a :
             {std::string(CLUSTERCTL_BINARY), std::string("-c"), file("clusterctl.yaml"),
              std::string("--log-dir"), file("logs")})
            argv.push_back(a);
        argv.insert(argv.end(), args.begin(), args.end());
        ++m_runs;
        return std::make_unique<Process>(argv, file("out." + std::to_string(m_runs)),
                                         file("err." + std::to_string(m_runs)), env());
    }

    Farm::Run run(std::vector<std::string> args, int in_allocation = 0,
                  std::chrono::seconds limit = 180s) {
        auto p = start(std::move(args), in_allocation);
        int code = p->wait(limit);
        return {code, p->out(), p->err()};
    }

    // A Slurm command's output, run against this cluster.
    std::string slurm(const std::string& command) const {
        std::string out;
        std::string full = "SLURM_CONF=" + file("slurm.conf") + " " + command + " 2>&1";
        if (FILE* p = ::popen(full.c_str(), "r")) {
            char buffer[4096];
            while (std::size_t n = std::fread(buffer, 1, sizeof buffer, p))
                out.append(buffer, n);
            ::pclose(p);
        }
        return out;
    }

    // The processes in node `i` (from 1) whose command line holds `needle`.
    std::vector<pid_t> on_node(int i, const std::string& needle) const {
        return processes_in_netns("/run/netns/ccsl" + m_k + "-n" + std::to_string(i), needle);
    }

    // Every node: no python, torchrun or task shell left.
    std::string leftovers() const {
        std::string found;
        for (int i = 1; i <= m_nodes; ++i)
            for (const char* what : {"python", "torchrun", "train_tiny", "slurmstepd", "sleep"})
                for (pid_t pid : on_node(i, what))
                    found += "node " + std::to_string(i) + ": pid " + std::to_string(pid) + " " +
                             what + "\n";
        return found;
    }

    static constexpr const char* k_secret = "wandb-slurm-secret-51c9";

private:
    TempDir m_dir;
    int m_nodes;
    std::string m_k;
    bool m_up = false;
    int m_runs = 0;
};

nlohmann::json summary_of(const SlurmCluster& c) {
    return nlohmann::json::parse(read_file(c.file("logs/summary.json")));
}

nlohmann::json host_in(const nlohmann::json& summary, const std::string& host) {
    for (const auto& h : summary["hosts"])
        if (h["host"] == host) return h;
    return {};
}

bool no_jobs_left(const SlurmCluster& c) {
    return c.slurm("squeue -h -o %i").empty();
}

TEST(Slurm, ExecRunsOnEveryNodeOfTheAllocationWithEachNodesOwnExitCode) {
    SlurmCluster c(3);
    auto r = c.run({"exec", "--",
                    "echo \"on $(hostname) task ${SLURM_NODEID}\"; exit "
                    "\"$SLURM_NODEID\""},
                   3);
    EXPECT_EQ(r.code, 2) << "the largest exit code, as pdsh -S: " << r.err;
    for (const char* node : {"node-001", "node-002", "node-003"})
        EXPECT_NE(r.out.find(std::string(node) + ": on " + node), std::string::npos) << r.out;
    auto summary = summary_of(c);
    EXPECT_EQ(host_in(summary, "node-001")["exit_code"], 0) << summary.dump();
    EXPECT_EQ(host_in(summary, "node-002")["exit_code"], 1) << summary.dump();
    EXPECT_EQ(host_in(summary, "node-003")["exit_code"], 2) << summary.dump();
    EXPECT_NE(r.err.find("node-003 exit 2"), std::string::npos) << r.err;
    EXPECT_EQ(c.leftovers(), "");
}

TEST(Slurm, WithNoAllocationClusterctlAsksForOneAndGivesItBack) {
    SlurmCluster c(3);
    auto r = c.run({"exec", "--", "hostname"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("asked Slurm for 3 nodes"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("running on node-[001-003]"), std::string::npos) << r.err;
    for (const char* node : {"node-001", "node-002", "node-003"})
        EXPECT_NE(r.out.find(std::string(node) + ": " + node), std::string::npos) << r.out;
    EXPECT_TRUE(eventually([&] { return no_jobs_left(c); }, 10s)) << c.slurm("squeue");
}

TEST(Slurm, AnUnknownPartitionIsAConfigErrorAndNothingRuns) {
    SlurmCluster c(2);
    c.edit_config("slurm:\n  nodes: 2\n", "slurm:\n  nodes: 2\n  partition: gpu-nope\n");
    auto r = c.run({"exec", "--", "touch", c.file("ran")});
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("clusterctl.yaml:11:14: error: Slurm refused the allocation"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("invalid partition"), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(c.file("ran")));
    EXPECT_TRUE(no_jobs_left(c));
}

TEST(Slurm, PushSetupAndTrainTheTinyJobOnThreeNodes) {
    SlurmCluster c(3);
    write_file(c.file("note.txt"), "pushed through srun\n");
    auto pushed = c.run({"push", c.file("note.txt"), c.file("work/note-copy.txt")}, 3);
    ASSERT_EQ(pushed.code, 0) << pushed.err;
    EXPECT_EQ(read_file(c.file("work/note-copy.txt")), "pushed through srun\n");
    auto setup = c.run({"setup"}, 3);
    ASSERT_EQ(setup.code, 0) << setup.err;
    auto p = c.start({"train"}, 3);
    int code = p->wait(240s);
    ASSERT_EQ(code, 0) << p->err();
    expect_trained(ranks_in(p->out()), 3, 2, 30);
    EXPECT_EQ(c.leftovers(), "");
    EXPECT_TRUE(eventually([&] { return no_jobs_left(c); }, 10s)) << c.slurm("squeue");
}

TEST(Slurm, AFailingRankTearsTheJobDownAndItsNodeIsNamed) {
    SlurmCluster c(3);
    c.edit_config("args: [--steps, \"30\"]", "args: [--steps, \"600\", --sleep, \"0.2\"]");
    c.edit_config("env:\n", "env:\n  TINY_FAIL_HOST: node-002\n  TINY_FAIL_STEP: \"5\"\n"
                            "  TINY_PEER_LOSS: hang\n");
    auto p = c.start({"train"});
    auto failed_at = when_seen([&] { return p->out(); }, "failing on purpose", 180s);
    ASSERT_TRUE(failed_at) << p->out() << p->err();
    int code = p->wait(60s);
    double teardown = seconds_since(*failed_at);
    std::cerr << "[ measure ] Slurm, 3 nodes x 2 ranks: teardown after the failing rank "
              << teardown << " s\n";
    EXPECT_EQ(code, 1) << p->err();
    auto summary = summary_of(c);
    EXPECT_EQ(summary["first_failure"], "node-002") << summary.dump();
    EXPECT_EQ(host_in(summary, "node-001")["state"], "cancelled") << summary.dump();
    EXPECT_EQ(host_in(summary, "node-003")["state"], "cancelled") << summary.dump();
    EXPECT_NE(p->err().find("node-002 exit 1"), std::string::npos) << p->err();
    EXPECT_TRUE(eventually([&] { return c.leftovers().empty(); }, 10s)) << c.leftovers();
    EXPECT_TRUE(eventually([&] { return no_jobs_left(c); }, 10s)) << c.slurm("squeue");
}

TEST(Slurm, ANodeSlurmLosesIsReportedLostAndTheOthersStopped) {
    SlurmCluster c(3);
    c.edit_config("args: [--steps, \"30\"]", "args: [--steps, \"600\", --sleep, \"0.2\"]");
    auto p = c.start({"train", "--no-check"});
    ASSERT_TRUE(when_seen([&] { return p->out(); }, "step 5 ", 180s)) << p->out() << p->err();
    // What a node failure looks like from Slurm's side: the node goes DOWN, the job ends.
    c.slurm("scontrol update NodeName=node-002 State=DOWN Reason=test");
    int code = p->wait(60s);
    EXPECT_EQ(code, 1) << p->err();
    auto summary = summary_of(c);
    EXPECT_EQ(summary["first_failure"], "node-002") << summary.dump();
    EXPECT_EQ(host_in(summary, "node-002")["stage"], "lost") << summary.dump();
    EXPECT_EQ(host_in(summary, "node-001")["state"], "cancelled") << summary.dump();
    EXPECT_NE(p->err().find("Slurm lost the node (srun: Node failure on node-002)"),
              std::string::npos)
        << p->err();
    EXPECT_TRUE(eventually([&] { return c.leftovers().empty(); }, 20s)) << c.leftovers();
    EXPECT_TRUE(eventually([&] { return no_jobs_left(c); }, 10s)) << c.slurm("squeue");
}

TEST(Slurm, AFailedNodeIsLeftOutAndTheJobResumesOnTheRestOfTheAllocation) {
    SlurmCluster c(3);
    c.edit_config("args: [--steps, \"30\"]",
                  "args: [--steps, \"40\", --sleep, \"0.3\", --save-every, \"5\"]");
    c.edit_config("train:\n", "train:\n  restarts: 2\n  restart_backoff: 1\n  nnodes: \"2:3\"\n");
    c.edit_config("env:\n", "env:\n  TINY_FAIL_HOST: node-003\n  TINY_FAIL_STEP: \"12\"\n"
                            "  TINY_PEER_LOSS: hang\n");
    auto p = c.start({"train"}, 3);
    ASSERT_EQ(p->wait(240s), 0) << p->out() << p->err();
    EXPECT_NE(p->out().find("resumed from step 10 ("), std::string::npos) << p->out();
    auto summary = summary_of(c);
    const auto& attempts = summary["attempts"];
    ASSERT_EQ(attempts.size(), 2u) << summary.dump();
    EXPECT_EQ(attempts[0]["state"], "failed") << attempts.dump();
    EXPECT_EQ(attempts[1]["nodes"], (nlohmann::json{"node-001", "node-002"})) << attempts.dump();
    EXPECT_EQ(attempts[1]["state"], "succeeded") << attempts.dump();
    EXPECT_TRUE(eventually([&] { return c.leftovers().empty(); }, 10s)) << c.leftovers();
}

TEST(Slurm, TheAllocationsTimeLimitIsNamedWhenItEndsTheRun) {
    SlurmCluster c(2);
    // Slurm's time limits are whole minutes: one.
    c.edit_config("slurm:\n  nodes: 2\n", "slurm:\n  nodes: 2\n  time: \"1\"\n");
    auto r = c.run({"exec", "--", "sleep", "600"}, 0, 240s);
    EXPECT_EQ(r.code, 143) << "exec: the largest exit code, the tasks' SIGTERM: " << r.err;
    EXPECT_NE(r.err.find("ended: TIMEOUT (the allocation's time limit, slurm.time, was reached)"),
              std::string::npos)
        << r.err;
    EXPECT_TRUE(eventually([&] { return c.leftovers().empty(); }, 10s)) << c.leftovers();
    EXPECT_TRUE(eventually([&] { return no_jobs_left(c); }, 10s)) << c.slurm("squeue");
}

TEST(Slurm, CtrlCStopsEveryNodeAndGivesTheAllocationBack) {
    SlurmCluster c(3);
    c.edit_config("args: [--steps, \"30\"]", "args: [--steps, \"600\", --sleep, \"0.2\"]");
    auto p = c.start({"train"});
    ASSERT_TRUE(when_seen([&] { return p->out(); }, "step 5 ", 180s)) << p->out() << p->err();
    // The secret reached the ranks' environment through stdin: it is in no command line of
    // any process on this machine (srun, slurmstepd, the tasks, torchrun, the ranks).
    auto holding = processes_holding(SlurmCluster::k_secret);
    EXPECT_TRUE(holding.empty()) << "pid " << (holding.empty() ? 0 : holding.front());
    p->signal(SIGINT);
    int code = p->wait(60s);
    EXPECT_EQ(code, 130) << p->err();
    EXPECT_TRUE(eventually([&] { return c.leftovers().empty(); }, 10s)) << c.leftovers();
    EXPECT_TRUE(eventually([&] { return no_jobs_left(c); }, 10s)) << c.slurm("squeue");
}

TEST(Slurm, ADetachedJobIsASlurmBatchJobThatStatusLogsAndStopReach) {
    SlurmCluster c(3);
    c.edit_config("args: [--steps, \"30\"]", "args: [--steps, \"600\", --sleep, \"0.2\"]");
    auto started = c.run({"train", "--detach"});
    ASSERT_EQ(started.code, 0) << started.err;
    std::string job = started.out.substr(0, started.out.find('\n'));
    EXPECT_EQ(started.out, job + "\n") << "stdout is the job id alone";
    EXPECT_NE(started.err.find("submitted as Slurm job"), std::string::npos) << started.err;
    std::string jobs_dir = c.file(".clusterctl/jobs/");
    // The secret went to the job through a private file, read and removed by the job.
    EXPECT_EQ(read_file(jobs_dir + job + ".sbatch").find(SlurmCluster::k_secret),
              std::string::npos);
    EXPECT_TRUE(
        eventually([&] { return !std::filesystem::exists(jobs_dir + job + ".secrets"); }, 60s));
    auto follow = c.start({"logs", "-f", job});
    ASSERT_TRUE(when_seen([&] { return follow->out(); }, "step 5 ", 180s))
        << follow->out() << follow->err();
    auto status = c.run({"status", job});
    EXPECT_EQ(status.code, 0) << status.err;
    EXPECT_NE(status.out.find("running on node-[001-003]"), std::string::npos) << status.out;
    auto jobs = c.run({"jobs"});
    EXPECT_NE(jobs.out.find(job), std::string::npos) << jobs.out;
    EXPECT_NE(jobs.out.find("running"), std::string::npos) << jobs.out;
    auto stop = c.run({"stop", job});
    EXPECT_EQ(stop.code, 0) << stop.err;
    EXPECT_NE(stop.err.find("stopped (Slurm job"), std::string::npos) << stop.err;
    EXPECT_EQ(follow->wait(60s), 0) << "logs -f ends with the job: " << follow->err();
    auto after = c.run({"status", job, "--json"});
    auto doc = nlohmann::json::parse(after.out, nullptr, false);
    EXPECT_EQ(doc.value("state", ""), "stopped") << after.out << after.err;
    EXPECT_TRUE(eventually([&] { return c.leftovers().empty(); }, 10s)) << c.leftovers();
    EXPECT_TRUE(no_jobs_left(c)) << c.slurm("squeue");
}

TEST(Slurm, WithoutSlurmsCommandsTheErrorSaysSoAndNothingRuns) {
    TempDir dir("/tmp");
    write_file(dir.file("c.yaml"), "cluster: {backend: slurm}\n");
    // No srun, sbatch or squeue on this PATH, and no allocation in the environment.
    auto env = clusterctl_env(dir.path(), {});
    for (auto& e : env)
        if (e.rfind("PATH=", 0) == 0) e = "PATH=" + dir.path();
    Process p({CLUSTERCTL_BINARY, "-c", dir.file("c.yaml"), "exec", "--", "touch", dir.file("ran")},
              dir.file("out"), dir.file("err"), env);
    EXPECT_EQ(p.wait(60s), 2) << p.err();
    EXPECT_NE(p.err().find("c.yaml:1:1: error: no Slurm commands found: sbatch is not on PATH"),
              std::string::npos)
        << p.err();
    EXPECT_FALSE(std::filesystem::exists(dir.file("ran")));
}

TEST(Slurm, DryRunShowsTheAllocationAndEachStagesStep) {
    SlurmCluster c(2);
    auto r = c.run({"train", "--dry-run"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("sbatch --parsable --job-name=clusterctl-"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("--nodes=2"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("srun '--jobid=$SLURM_JOB_ID' --nodes=2 --ntasks=2"), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("--kill-on-bad-exit=1"), std::string::npos) << "the launch" << r.out;
    EXPECT_EQ(r.out.find(SlurmCluster::k_secret), std::string::npos);
    EXPECT_TRUE(no_jobs_left(c)) << "a dry run asks Slurm for nothing";
}

} // namespace
} // namespace clusterctl::test_support
