// The training workflow on a sandbox cluster (scripts/sandbox-cluster): real sshd in a
// network namespace per node, Debian's real torchrun (gloo, CPU), the tiny job of
// configs/examples/tiny. Every test ends by looking inside every node for python or
// torchrun left behind, before the sandbox is torn down.

#include "sandbox.hpp"
#include "training.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <gtest/gtest.h>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <pwd.h>
#include <set>
#include <thread>

namespace clusterctl::test_support {
namespace {

using namespace std::chrono_literals;
nlohmann::json summary_of(const Sandbox& sandbox) {
    // --log-dir is the sandbox's logs/: each run writes its summary.json there.
    return nlohmann::json::parse(read_file(sandbox.file("logs/summary.json")));
}

nlohmann::json host_in(const nlohmann::json& summary, const std::string& host) {
    for (const auto& h : summary["hosts"])
        if (h["host"] == host) return h;
    return {};
}

// `train --detach`: its stdout is the job id alone, one line (J=$(clusterctl train --detach)).
std::string start_detached(Sandbox& s) {
    auto started = s.run({"train", "--detach"});
    EXPECT_EQ(started.code, 0) << started.out << started.err;
    std::string job = started.out.substr(0, started.out.find('\n'));
    EXPECT_EQ(started.out, job + "\n") << "stdout is the job id alone";
    EXPECT_EQ(job.rfind("clusterctl-", 0), 0u) << started.out;
    EXPECT_NE(started.err.find("supervised (pid "), std::string::npos) << started.err;
    return job;
}

// The job's log on a node: the nodes share this machine's filesystem, and log in as root.
std::string node_log(const std::string& job, const std::string& node) {
    return read_file(std::string(::getpwuid(0)->pw_dir) + "/.clusterctl/jobs/" + job + "/" + node +
                     ".log");
}

// Waits for the supervisor to record how the job ended; its state.
std::string ended_state(const Sandbox& s, const std::string& job,
                        std::chrono::seconds limit = std::chrono::seconds(60)) {
    eventually([&] { return s.job_record(job).value("state", "") != ""; }, limit);
    return s.job_record(job).value("state", "");
}

// Long enough to be stopped in the middle: 0.2 s a step.
void make_it_long(Sandbox& s) {
    s.edit_config("args: [--steps, \"30\"]", "args: [--steps, \"600\", --sleep, \"0.2\"]");
}

TEST(Train, TwoNodesSetupThenTrain) {
    Sandbox s(2);
    auto setup = s.run({"setup"});
    ASSERT_EQ(setup.code, 0) << setup.err;
    auto began = Clock::now();
    auto train = s.run({"train"});
    std::cerr << "[ measure ] 2 nodes x 2 ranks: train took " << seconds_since(began) << " s\n";
    ASSERT_EQ(train.code, 0) << train.out << train.err;
    expect_trained(ranks_in(train.out), 2, 2, 30);
    EXPECT_NE(train.out.find("ok: rendezvous port 29500 free"), std::string::npos) << train.out;
    EXPECT_EQ(train.out.find(Sandbox::k_wandb_key), std::string::npos);
    EXPECT_EQ(s.leftovers(), "");
}

TEST(Train, FourNodes) {
    Sandbox s(4, "--slots 1");
    ASSERT_EQ(s.run({"setup"}).code, 0);
    auto began = Clock::now();
    auto train = s.run({"train"});
    std::cerr << "[ measure ] 4 nodes x 1 rank: train took " << seconds_since(began) << " s\n";
    ASSERT_EQ(train.code, 0) << train.out << train.err;
    expect_trained(ranks_in(train.out), 4, 1, 30);
    EXPECT_EQ(s.leftovers(), "");
}

TEST(Train, FailingRankTearsTheJobDownEverywhere) {
    Sandbox s(3, "--slots 1");
    ASSERT_EQ(s.run({"setup"}).code, 0);
    make_it_long(s);
    // node-003's rank exits 1 at step 5; the others wait for it, as NCCL ranks do.
    s.edit_config("env:\n", "env:\n  TINY_FAIL_HOST: node-003\n  TINY_FAIL_STEP: \"5\"\n"
                            "  TINY_PEER_LOSS: hang\n");
    auto p = s.start({"train"});
    auto failed_at = when_seen([&] { return p->out(); }, "failing on purpose", 120s);
    ASSERT_TRUE(failed_at) << p->out() << p->err();
    int code = p->wait(60s);
    double teardown = seconds_since(*failed_at);
    std::cerr << "[ measure ] teardown after the failing rank: " << teardown << " s\n";
    EXPECT_EQ(code, 1) << p->err();
    EXPECT_LT(teardown, 10.0);
    // The summary names the node that failed first, with its exit code and last lines.
    std::string err = p->err();
    auto first = err.find("node-003 exit 1: stopped after it reported the failure (first to fail)");
    EXPECT_NE(first, std::string::npos) << err;
    EXPECT_EQ(err.find("ok: reachable", first), std::string::npos) << "the launch's lines only";
    EXPECT_NE(err.find("failing on purpose", first), std::string::npos) << err;
    // The stopped torchruns' SignalException tracebacks are teardown, not the failure: in
    // the logs, not on the console.
    EXPECT_EQ(p->out().find("SignalException"), std::string::npos) << p->out();
    EXPECT_EQ(err.find("SignalException"), std::string::npos) << err;
    std::string logs;
    for (const char* node : {"node-001", "node-002", "node-003"})
        logs += read_file(s.file(std::string("logs/") + node + ".log"));
    EXPECT_NE(logs.find("SignalException"), std::string::npos) << logs;
    EXPECT_NE(err.find("printed while being stopped"), std::string::npos) << err;
    auto summary = summary_of(s);
    EXPECT_EQ(summary["first_failure"], "node-003") << summary.dump();
    EXPECT_EQ(host_in(summary, "node-001")["state"], "cancelled");
    EXPECT_EQ(s.leftovers(), "");
}

TEST(Train, CtrlCStopsEveryNode) {
    Sandbox s(2, "--slots 1");
    ASSERT_EQ(s.run({"setup"}).code, 0);
    make_it_long(s);
    auto p = s.start({"train"});
    ASSERT_TRUE(eventually([&] { return p->out().find("step 5 loss") != std::string::npos; }, 120s))
        << p->out() << p->err();
    p->signal(SIGINT);
    EXPECT_EQ(p->wait(30s), 130) << p->err();
    EXPECT_EQ((p->out() + p->err()).find("SignalException"), std::string::npos)
        << p->out() << p->err();
    EXPECT_EQ(s.leftovers(), "");
}

TEST(Train, ANodeThatDiesIsReportedAndTheRestTornDown) {
    Sandbox s(2, "--slots 1");
    ASSERT_EQ(s.run({"setup"}).code, 0);
    make_it_long(s);
    s.edit_config("env:\n", "env:\n  TINY_PEER_LOSS: hang\n");
    auto p = s.start({"train"});
    ASSERT_TRUE(eventually([&] { return p->out().find("step 5 loss") != std::string::npos; }, 120s))
        << p->out() << p->err();
    // node-002 dies: its sshd and everything running in it, at once.
    for (pid_t pid : s.on_node(2, ""))
        ::kill(pid, SIGKILL);
    EXPECT_EQ(p->wait(60s), 1) << p->err();
    auto summary = summary_of(s);
    auto dead = host_in(summary, "node-002");
    EXPECT_EQ(dead["state"], "failed") << dead.dump();
    EXPECT_EQ(summary["first_failure"], "node-002") << summary.dump();
    EXPECT_EQ(s.leftovers(), "");
}

// Rank 3 stalls before the all_reduce of step 10 and the others wait in it: nothing is
// printed after step 5. train.hang_timeout 15.
void make_it_hang(Sandbox& s) {
    make_it_long(s);
    s.edit_config("env:\n", "env:\n  TINY_HANG_RANK: \"3\"\n  TINY_HANG_STEP: \"10\"\n");
    s.edit_config("train:\n", "train:\n  hang_timeout: 15\n");
}

// What a hang's report must say: the stalled rank named on its node, in its stall, the
// others in the collective.
void expect_hang_named(const std::string& text, const std::string& node) {
    EXPECT_NE(text.find("hang: no rank printed for"), std::string::npos) << text;
    EXPECT_NE(text.find("not where the others are: rank 3 (" + node + ")"), std::string::npos)
        << text;
    EXPECT_NE(text.find("rank 3 (" + node + "): in stall (train_tiny.py:"), std::string::npos)
        << text;
    EXPECT_NE(text.find("ranks 0-2: in all_reduce ("), std::string::npos) << text;
}

TEST(Train, AHangIsNamedWithEveryRanksStackThenTornDown) {
    Sandbox s(2);
    ASSERT_EQ(s.run({"setup"}).code, 0);
    make_it_hang(s);
    auto p = s.start({"train"});
    auto last_line = when_seen([&] { return p->out(); }, "rank 3 step 5 loss", 120s);
    ASSERT_TRUE(last_line) << p->out() << p->err();
    auto declared = when_seen([&] { return p->err(); }, "hang: no rank printed", 60s);
    ASSERT_TRUE(declared) << p->err();
    int code = p->wait(60s);
    std::cerr << "[ measure ] hang (hang_timeout 15 s) declared "
              << seconds_since(*last_line) - seconds_since(*declared)
              << " s after the last line; torn down " << seconds_since(*last_line)
              << " s after it\n";
    EXPECT_LT(std::chrono::duration<double>(*declared - *last_line).count(), 25.0);
    EXPECT_EQ(code, 1) << p->err();
    std::string node = ranks_in(p->out()).host_of[3];
    ASSERT_FALSE(node.empty()) << p->out();
    expect_hang_named(p->err(), node);
    auto summary = summary_of(s);
    const auto& hang = summary["hang"];
    ASSERT_TRUE(hang.is_object()) << summary.dump();
    EXPECT_EQ(hang["kind"], "all_silent");
    EXPECT_EQ(hang["suspect_node"], node);
    EXPECT_EQ(hang["stacks"]["ranks"], 4) << hang.dump();
    std::cerr << "[ measure ] stacks of 4 ranks on 2 nodes taken in " << hang["stacks"]["seconds"]
              << " s\n";
    EXPECT_EQ(summary["first_failure"], node);
    EXPECT_EQ(host_in(summary, node)["stage"], "hang");
    // One file per rank in the run's log folder, each rank's whole stack.
    EXPECT_NE(read_file(s.file("logs/rank-3.txt")).find("in stall"), std::string::npos);
    EXPECT_NE(read_file(s.file("logs/rank-0.txt")).find("in all_reduce"), std::string::npos);
    EXPECT_EQ(s.leftovers(), "");
}

// An attached run seen from a second terminal: jobs and status know it, stacks takes every
// rank's stack, stop is its Ctrl-C.
TEST(Train, ASecondTerminalTakesTheStacksOfAnAttachedRunAndStopsIt) {
    Sandbox s(2);
    ASSERT_EQ(s.run({"setup"}).code, 0);
    make_it_long(s);
    auto p = s.start({"train"});
    ASSERT_TRUE(
        eventually([&] { return p->out().find("rank 3 step 5 loss") != std::string::npos; }, 120s))
        << p->out() << p->err();
    auto listed = nlohmann::json::parse(s.run({"jobs", "--json"}).out, nullptr, false);
    ASSERT_TRUE(listed.is_array() && !listed.empty()) << listed.dump();
    std::string job = listed[0]["job_id"];
    EXPECT_EQ(listed[0]["state"], "running");
    EXPECT_EQ(listed[0]["attached"], true);
    auto status = s.run({"status"});
    EXPECT_EQ(status.code, 0);
    EXPECT_NE(status.out.find("job " + job + ": running, attached to clusterctl (pid "),
              std::string::npos)
        << status.out;

    auto asked = Clock::now();
    auto stacks = s.run({"stacks"});
    std::cerr << "[ measure ] stacks of 4 ranks on 2 nodes, from a second terminal: "
              << seconds_since(asked) << " s\n";
    EXPECT_EQ(stacks.code, 0) << stacks.err;
    EXPECT_NE(stacks.out.find("job " + job + ": stacks of 4 ranks"), std::string::npos)
        << stacks.out;
    EXPECT_NE(stacks.out.find("train_tiny.py"), std::string::npos) << stacks.out;

    auto stop = s.run({"stop"});
    EXPECT_EQ(stop.code, 0) << stop.err;
    EXPECT_EQ(p->wait(30s), 130) << p->err();
    EXPECT_EQ(s.job_record(job)["state"], "stopped");
    EXPECT_EQ(s.leftovers(), "");
}

TEST(Detach, RunsOnThenStatusLogsAndStop) {
    Sandbox s(2, "--slots 1");
    ASSERT_EQ(s.run({"setup"}).code, 0);
    make_it_long(s);
    std::string job = start_detached(s);
    // clusterctl has exited and its connections are gone: the job runs on, on both nodes.
    EXPECT_FALSE(s.on_node(1, "train_tiny").empty());
    EXPECT_FALSE(s.on_node(2, "train_tiny").empty());

    // From its record alone: no -c, from another directory.
    Process bare({CLUSTERCTL_BINARY, "status"}, s.file("status.out"), s.file("status.err"),
                 s.env());
    EXPECT_EQ(bare.wait(60s), 0) << bare.err();
    EXPECT_NE(bare.out().find("node-001: running (pid "), std::string::npos) << bare.out();
    EXPECT_NE(bare.out().find("node-002: running (pid "), std::string::npos) << bare.out();
    auto json = s.run({"status", "--json"});
    EXPECT_EQ(json.code, 0) << json.err;
    auto doc = nlohmann::json::parse(json.out, nullptr, false);
    ASSERT_TRUE(doc.is_object()) << json.out;
    EXPECT_EQ(doc["job_id"], job);
    EXPECT_EQ(doc["state"], "running");
    EXPECT_TRUE(doc["supervisor_pid"].is_number_integer()) << json.out;
    ASSERT_EQ(doc["nodes"].size(), 2u) << json.out;
    EXPECT_EQ(doc["nodes"][0]["state"], "running");
    EXPECT_TRUE(doc["nodes"][0]["pid"].is_number_integer()) << json.out;

    auto follow = s.start({"logs", "-f", job});
    ASSERT_TRUE(eventually(
        [&] {
            std::string o = follow->out();
            return o.find("node-001: [default0]:rank 0 step 5 loss") != std::string::npos &&
                   o.find("node-002: [default0]:rank 1 step 5 loss") != std::string::npos;
        },
        120s))
        << follow->out() << follow->err();

    // Every rank's Python stack, without touching the training script: a file per rank
    // in the run's log folder, and where each rank is.
    auto began = Clock::now();
    auto stacks = s.run({"stacks", job});
    std::cerr << "[ measure ] stacks of 2 ranks on 2 nodes: " << seconds_since(began) << " s\n";
    EXPECT_EQ(stacks.code, 0) << stacks.err;
    EXPECT_NE(stacks.out.find("job " + job + ": stacks of 2 ranks"), std::string::npos)
        << stacks.out;
    EXPECT_NE(stacks.out.find("(train_tiny.py:"), std::string::npos) << stacks.out;
    for (const char* rank : {"rank-0.txt", "rank-1.txt"})
        EXPECT_NE(read_file(s.file(std::string("logs/") + rank)).find("train_tiny.py"),
                  std::string::npos)
            << rank;

    // One node's last line: its prefix, one line.
    auto last = s.run({"logs", job, "--tail", "1", "--node", "node-002"});
    EXPECT_EQ(last.code, 0) << last.err;
    EXPECT_EQ(last.out.rfind("node-002: ", 0), 0u) << last.out;
    EXPECT_EQ(std::count(last.out.begin(), last.out.end(), '\n'), 1) << last.out;
    // Merged by the time each node wrote its lines, not node after node: both ranks' step 5
    // before either's step 10.
    std::string merged;
    ASSERT_TRUE(eventually(
        [&] {
            merged = s.run({"logs", job}).out;
            return merged.find("rank 0 step 10 loss") != std::string::npos &&
                   merged.find("rank 1 step 10 loss") != std::string::npos;
        },
        60s))
        << merged;
    EXPECT_LT(std::max(merged.find("rank 0 step 5 loss"), merged.find("rank 1 step 5 loss")),
              std::min(merged.find("rank 0 step 10 loss"), merged.find("rank 1 step 10 loss")))
        << merged;
    // One rank's lines alone, from whichever node ran it.
    auto one = s.run({"logs", job, "--rank", "1"});
    EXPECT_EQ(one.code, 0) << one.err;
    std::istringstream rank_lines(one.out);
    int seen = 0;
    for (std::string line; std::getline(rank_lines, line); ++seen)
        EXPECT_NE(line.find("]:rank 1"), std::string::npos) << one.out;
    EXPECT_GE(seen, 3) << one.out;
    auto stranger = s.run({"logs", job, "--node", "node-009"});
    EXPECT_EQ(stranger.code, 2);
    EXPECT_NE(stranger.err.find("error: node-009 is not a node of job " + job), std::string::npos)
        << stranger.err;

    auto stop = s.run({"stop", job});
    EXPECT_EQ(stop.code, 0) << stop.err;
    EXPECT_NE(stop.out.find("node-001: stopped"), std::string::npos) << stop.out;
    EXPECT_NE(stop.out.find("node-002: stopped"), std::string::npos) << stop.out;
    EXPECT_EQ(follow->wait(30s), 0) << "logs -f ends with the job: " << follow->err();
    auto status = s.run({"status", job});
    EXPECT_EQ(status.code, 0) << status.err;
    EXPECT_NE(status.out.find("node-001: stopped"), std::string::npos) << status.out;
    EXPECT_NE(status.out.find("node-002: stopped"), std::string::npos) << status.out;
    EXPECT_EQ(s.leftovers(), "");
    // Its supervisor saw it stopped, said so, and is gone.
    EXPECT_TRUE(eventually([&] { return s.supervisors().empty(); }, 30s));
    EXPECT_EQ(s.job_record(job)["state"], "stopped") << s.job_record(job).dump();
    auto unknown = s.run({"status", "no-such-job"});
    EXPECT_EQ(unknown.code, 2);
    // Located at the JOB argument, at the end of the command line.
    std::string line = "clusterctl"; // as the command line is shown
    for (const std::string& a : {std::string("-c"), s.file("clusterctl.yaml"),
                                 std::string("--log-dir"), s.file("logs"), std::string("status")})
        line += " " + a;
    std::string at = "<command line>:1:" + std::to_string(line.size() + 2) +
                     ": error: no detached job no-such-job";
    EXPECT_EQ(unknown.err.rfind(at, 0), 0u) << unknown.err;
}

// A detached job is supervised as an attached one is: a rank failing on the last node while
// the others wait in a collective (as NCCL ranks do) tears the job down on every node.
TEST(Detach, TheSupervisorTearsAFailedJobDownEverywhere) {
    Sandbox s(3);
    ASSERT_EQ(s.run({"setup"}).code, 0);
    make_it_long(s);
    s.edit_config("env:\n", "env:\n  TINY_FAIL_HOST: node-003\n  TINY_FAIL_STEP: \"5\"\n"
                            "  TINY_PEER_LOSS: hang\n");
    std::string job = start_detached(s);
    Clock::time_point failed_at{};
    ASSERT_TRUE(eventually(
        [&] {
            if (node_log(job, "node-003").find("failing on purpose") == std::string::npos)
                return false;
            failed_at = Clock::now();
            return true;
        },
        120s))
        << node_log(job, "node-003");
    ASSERT_TRUE(eventually([&] { return s.leftovers().empty(); }, 30s)) << s.leftovers();
    double teardown = seconds_since(failed_at);
    std::cerr << "[ measure ] detached, 3 nodes x 2 ranks: every node clean " << teardown
              << " s after the failing rank\n";
    EXPECT_LT(teardown, 10.0);
    EXPECT_EQ(ended_state(s, job), "failed");
    auto record = s.job_record(job);
    EXPECT_EQ(record["first_failure"]["node"], "node-003") << record.dump();
    EXPECT_EQ(record["first_failure"]["exit_code"], 1) << record.dump();

    // status says who failed first, with its last lines, before the nodes' states.
    auto status = s.run({"status", job});
    EXPECT_EQ(status.code, 1) << "a failed job";
    EXPECT_EQ(status.out.rfind("job " + job + ": failed (", 0), 0u) << status.out;
    EXPECT_NE(status.out.find("node-003 failed first (exit 1)"), std::string::npos) << status.out;
    EXPECT_NE(status.out.find("node-003 | [default"), std::string::npos) << status.out;
    EXPECT_NE(status.out.find("failing on purpose"), std::string::npos) << status.out;
    // logs -f of an ended job prints what there is and exits as the job did.
    auto logs = s.run({"logs", "-f", job}, {}, 60s);
    EXPECT_EQ(logs.code, 1) << logs.err;
    EXPECT_NE(logs.out.find("node-003: [default"), std::string::npos);

    // The same as data: states as fields, the job's own id.
    auto json = s.run({"status", job, "--json"});
    EXPECT_EQ(json.code, 1);
    auto doc = nlohmann::json::parse(json.out, nullptr, false);
    ASSERT_TRUE(doc.is_object()) << json.out;
    EXPECT_EQ(doc["job_id"], job);
    EXPECT_EQ(doc["state"], "failed");
    EXPECT_EQ(doc["first_failure"]["node"], "node-003");
    ASSERT_EQ(doc["nodes"].size(), 3u) << json.out;
    for (const auto& n : doc["nodes"]) {
        EXPECT_TRUE(n["state"] == "stopped" || n["state"] == "exited") << n.dump();
        EXPECT_TRUE(n["exit_code"].is_number_integer()) << n.dump();
    }
    auto jobs = s.run({"jobs"});
    EXPECT_EQ(jobs.code, 0);
    EXPECT_NE(jobs.out.find(job), std::string::npos) << jobs.out;
    EXPECT_NE(jobs.out.find("failed: node-003 first"), std::string::npos) << jobs.out;
    auto listed = nlohmann::json::parse(s.run({"jobs", "--json"}).out, nullptr, false);
    ASSERT_TRUE(listed.is_array() && !listed.empty()) << listed.dump();
    EXPECT_EQ(listed[0]["job_id"], job);
    EXPECT_EQ(listed[0]["state"], "failed");
    EXPECT_TRUE(eventually([&] { return s.supervisors().empty(); }, 30s));
}

// A node lost (its sshd and every process in it killed): the others are torn down.
TEST(Detach, ALostNodeIsNamedAndTheOthersTornDown) {
    Sandbox s(2, "--slots 1");
    ASSERT_EQ(s.run({"setup"}).code, 0);
    make_it_long(s);
    s.edit_config("env:\n", "env:\n  TINY_PEER_LOSS: hang\n");
    std::string job = start_detached(s);
    ASSERT_TRUE(eventually(
        [&] { return node_log(job, "node-002").find("step 5 loss") != std::string::npos; }, 120s))
        << node_log(job, "node-002");
    for (pid_t pid : s.on_node(2, ""))
        ::kill(pid, SIGKILL);
    auto lost_at = Clock::now();
    EXPECT_EQ(ended_state(s, job), "lost");
    std::cerr << "[ measure ] detached, node lost: recorded " << seconds_since(lost_at)
              << " s after\n";
    EXPECT_EQ(s.leftovers(), "");
    auto status = s.run({"status", job});
    EXPECT_EQ(status.code, 1) << "a lost job";
    EXPECT_NE(status.out.find("job " + job + ": lost ("), std::string::npos) << status.out;
    EXPECT_NE(status.out.find("node-002 was lost first"), std::string::npos) << status.out;
}

// The same hang in a detached job: its supervisor declares it, takes the stacks, tears the
// job down and records why.
TEST(Detach, TheSupervisorNamesAHangAndTearsTheJobDown) {
    Sandbox s(2);
    ASSERT_EQ(s.run({"setup"}).code, 0);
    make_it_hang(s);
    std::string job = start_detached(s);
    std::string log;
    ASSERT_TRUE(eventually(
        [&] {
            log = node_log(job, "node-001") + node_log(job, "node-002");
            return log.find("rank 3 step 5 loss") != std::string::npos;
        },
        120s))
        << log;
    auto last_line = Clock::now();
    EXPECT_EQ(ended_state(s, job, 90s), "failed");
    std::cerr << "[ measure ] detached hang recorded " << seconds_since(last_line)
              << " s after the last line\n";
    EXPECT_EQ(s.leftovers(), "");
    // Rank 3's node: the one whose log holds its first line.
    std::string node =
        node_log(job, "node-001").find("rank 3/4") != std::string::npos ? "node-001" : "node-002";
    auto record = s.job_record(job);
    EXPECT_EQ(record["first_failure"]["node"], node) << record.dump();
    EXPECT_EQ(record["first_failure"]["stage"], "hang") << record.dump();
    auto status = s.run({"status", job});
    EXPECT_EQ(status.code, 1);
    expect_hang_named(status.out, node);
}

// A supervisor killed leaves the job running, unsupervised; `supervise` watches it again,
// and a failure after that still tears the job down.
TEST(Detach, SuperviseWatchesAJobAgainAfterItsSupervisorWasKilled) {
    Sandbox s(2, "--slots 1");
    ASSERT_EQ(s.run({"setup"}).code, 0);
    make_it_long(s);
    s.edit_config("env:\n", "env:\n  TINY_FAIL_HOST: node-002\n  TINY_FAIL_STEP: \"100\"\n"
                            "  TINY_PEER_LOSS: hang\n");
    std::string job = start_detached(s);
    auto supervisors = s.supervisors();
    ASSERT_EQ(supervisors.size(), 1u);
    EXPECT_EQ(s.job_record(job)["supervisor_pid"], supervisors[0]);
    // It leads a session of its own with no terminal: closing the user's terminal or their
    // logout (a hangup to their session) does not reach it.
    std::string stat = read_file("/proc/" + std::to_string(supervisors[0]) + "/stat");
    std::istringstream fields(stat.substr(stat.rfind(')') + 2));
    std::string state;
    long parent = 0, group = 0, session = 0, tty = -1;
    fields >> state >> parent >> group >> session >> tty;
    EXPECT_EQ(session, supervisors[0]) << stat;
    EXPECT_EQ(tty, 0) << stat;
    EXPECT_NE(session, ::getsid(0));
    ::kill(supervisors[0], SIGKILL);
    ASSERT_TRUE(eventually([&] { return s.supervisors().empty(); }, 10s));

    auto status = s.run({"status", job});
    EXPECT_EQ(status.code, 0) << status.err;
    EXPECT_NE(status.out.find("job " + job + ": UNSUPERVISED"), std::string::npos) << status.out;
    EXPECT_NE(status.out.find("clusterctl supervise " + job), std::string::npos) << status.out;
    EXPECT_NE(status.out.find("node-001: running (pid "), std::string::npos) << status.out;

    auto again = s.run({"supervise", job});
    EXPECT_EQ(again.code, 0) << again.err;
    EXPECT_EQ(s.supervisors().size(), 1u);
    status = s.run({"status", job});
    EXPECT_NE(status.out.find("job " + job + ": supervised (pid "), std::string::npos)
        << status.out;
    // A second one is not started beside it.
    auto twice = s.run({"supervise", job});
    EXPECT_EQ(twice.code, 0);
    EXPECT_NE(twice.err.find("already supervised"), std::string::npos) << twice.err;

    EXPECT_EQ(ended_state(s, job, 120s), "failed");
    EXPECT_EQ(s.job_record(job)["first_failure"]["node"], "node-002");
    EXPECT_EQ(s.leftovers(), "");
    EXPECT_TRUE(eventually([&] { return s.supervisors().empty(); }, 30s));
}

// Recovery (train.restarts): the node `name` becomes a spare in the sandbox's hostfile.
void mark_spare(Sandbox& s, const std::string& name) {
    std::string text = read_file(s.file("hostfile"));
    auto at = text.find(name + " ");
    ASSERT_NE(at, std::string::npos) << text;
    text.insert(text.find('\n', at), " spare");
    write_file(s.file("hostfile"), text);
}

// 40 steps of 0.3 s, a checkpoint every 5; restarts after 1 s.
void make_it_recover(Sandbox& s, const std::string& extra = "") {
    s.edit_config("args: [--steps, \"30\"]",
                  "args: [--steps, \"40\", --sleep, \"0.3\", --save-every, \"5\"]");
    s.edit_config("train:\n", "train:\n  restarts: 2\n  restart_backoff: 1\n" + extra);
}

// The step after which node `node` is killed (its sshd and everything in it): 12, as the
// ranks print step 10 and two more steps of 0.3 s pass.
Clock::time_point kill_at_step_12(Sandbox& s, Process& p, int node) {
    EXPECT_TRUE(eventually([&] { return p.out().find("step 10 loss") != std::string::npos; }, 180s))
        << p.out() << p.err();
    std::this_thread::sleep_for(600ms);
    for (pid_t pid : s.on_node(node, ""))
        ::kill(pid, SIGKILL);
    return Clock::now();
}

// What the job's summary.json says of its attempts.
nlohmann::json attempts_of(const Sandbox& s) {
    return summary_of(s)["attempts"];
}

// The loss every rank of the last attempt reached, against what rank 0 started from.
// Where attempt 1's lines begin: its first rank's first line, after attempt 0's step 10.
std::size_t second_attempt(const std::string& out) {
    auto at = out.find("local_rank", out.find("step 10 loss"));
    return at == std::string::npos ? at : out.rfind('\n', at) + 1;
}

void expect_resumed_and_finished(const std::string& out, int nodes, int per_node) {
    ASSERT_NE(out.find("resumed from step 10 ("), std::string::npos) << out;
    auto second = second_attempt(out);
    ASSERT_NE(second, std::string::npos) << out;
    RankReport after = ranks_in(out.substr(second));
    RankReport before = ranks_in(out.substr(0, second));
    ASSERT_EQ(static_cast<int>(after.world_of.size()), nodes * per_node) << out;
    for (const auto& [rank, world] : after.world_of)
        EXPECT_EQ(world, nodes * per_node);
    ASSERT_TRUE(before.loss.count(0) && before.loss.at(0).count(1)) << out;
    for (int rank = 0; rank < nodes * per_node; ++rank) {
        ASSERT_TRUE(after.loss.count(rank)) << rank;
        const auto& l = after.loss.at(rank);
        EXPECT_TRUE(l.count(11)) << "rank " << rank << " went on from step 11";
        EXPECT_FALSE(l.count(1)) << "rank " << rank << " did not start over";
        ASSERT_TRUE(l.count(40)) << "rank " << rank << " reached the last step";
        EXPECT_LT(l.at(40), before.loss.at(0).at(1) / 4) << "rank " << rank;
    }
    EXPECT_NE(out.find("done"), std::string::npos);
}

TEST(Recovery, ALostNodeIsReplacedByASpareAndTheJobResumesFromItsCheckpoint) {
    Sandbox s(4);
    mark_spare(s, "node-004");
    ASSERT_EQ(s.run({"setup"}).code, 0) << "a spare is set up with the others";
    make_it_recover(s);
    auto p = s.start({"train"});
    auto killed = kill_at_step_12(s, *p, 3);
    auto since = [&](Clock::time_point t) {
        return std::chrono::duration<double>(t - killed).count();
    };
    // Each step of the recovery, as clusterctl says it, then the new attempt's ranks.
    auto err_now = [&] { return p->err(); };
    auto down = when_seen(err_now, "attempt 0 failed", 60s);
    auto checked = when_seen(err_now, "attempt 1 in 1 s on 3 nodes", 60s);
    auto launching = when_seen(err_now, "attempt 1 resumes from the checkpoint of step 10", 60s);
    auto resumed = when_seen([&] { return p->out(); }, "resumed from step 10", 60s);
    ASSERT_TRUE(down && checked && launching && resumed) << p->out() << p->err();
    auto first_step = when_seen([&] { return p->out(); }, "step 11 loss", 60s);
    ASSERT_TRUE(first_step) << p->out() << p->err();
    std::cerr << "[ measure ] node killed at step ~12: torn down " << since(*down)
              << " s later, candidates checked " << since(*checked) << " s, relaunched (after "
              << "the 1 s backoff) " << since(*launching) << " s, resumed from step 10 "
              << since(*resumed) << " s, its first step (11) " << since(*first_step) << " s\n";
    // The bound is on the relaunch; the ranks' start-up after it (import torch, the
    // rendezvous) is measured above, not asserted: it depends on the machine's load.
    EXPECT_LT(since(*launching), 15.0) << "attempt 1 is launched";
    ASSERT_EQ(p->wait(180s), 0) << p->err();
    std::string out = p->out(), err = p->err();
    expect_resumed_and_finished(out, 3, 2);
    EXPECT_NE(err.find("node-003 is left out for the rest of the job (lost)"), std::string::npos)
        << err;
    EXPECT_NE(err.find("spare node-004 takes node-003's place"), std::string::npos) << err;
    EXPECT_NE(err.find("node ranks passed: 0=node-001, 1=node-002, 2=node-004"), std::string::npos)
        << err;
    EXPECT_NE(err.find("attempt 1 resumes from the checkpoint of step 10"), std::string::npos)
        << err;
    // The spare's ranks took node rank 2 and the dead node's global ranks.
    RankReport after = ranks_in(out.substr(second_attempt(out)));
    EXPECT_EQ(after.host_of[4], "node-004");
    EXPECT_EQ(after.host_of[5], "node-004");
    auto attempts = attempts_of(s);
    ASSERT_EQ(attempts.size(), 2u) << attempts.dump();
    EXPECT_EQ(attempts[0]["state"], "lost") << attempts.dump();
    EXPECT_EQ(attempts[0]["failed"], "node-003 lost") << attempts.dump();
    EXPECT_EQ(attempts[1]["nodes"], (nlohmann::json{"node-001", "node-002", "node-004"}));
    EXPECT_EQ(attempts[1]["state"], "succeeded");
    EXPECT_EQ(attempts[1]["resumed_from"], 10);
    // node-003 was never contacted again: no check, no launch, no log of it after the kill.
    for (const char* what : {"logs/attempt-1/node-003.log", "logs/attempt-1/check/node-003.log"})
        EXPECT_FALSE(std::filesystem::exists(s.file(what))) << what;
    EXPECT_TRUE(std::filesystem::exists(s.file("logs/attempt-1/check/node-004.log")))
        << "the spare was checked before it joined";
    EXPECT_EQ(s.leftovers(), "");
}

TEST(Recovery, ASpareThatFailsItsCheckIsSkippedAndARangeGoesOnWithFewerNodes) {
    Sandbox s(4);
    mark_spare(s, "node-004");
    ASSERT_EQ(s.run({"setup"}).code, 0);
    // The spare dies before it is needed: the check before it joins finds it unreachable.
    for (pid_t pid : s.on_node(4, ""))
        ::kill(pid, SIGKILL);
    make_it_recover(s, "  nnodes: \"2:3\"\n");
    auto p = s.start({"train"});
    kill_at_step_12(s, *p, 3);
    ASSERT_EQ(p->wait(180s), 0) << p->out() << p->err();
    expect_resumed_and_finished(p->out(), 2, 2);
    EXPECT_NE(p->err().find("spare node-004 skipped: connect: "), std::string::npos) << p->err();
    auto attempts = attempts_of(s);
    ASSERT_EQ(attempts.size(), 2u) << attempts.dump();
    EXPECT_EQ(attempts[1]["nodes"], (nlohmann::json{"node-001", "node-002"}));
    EXPECT_EQ(s.leftovers(), "");
}

TEST(Recovery, ARankThatFailsAtOnceEveryTimeEndsTheJobWhenTheBudgetIsSpent) {
    Sandbox s(3, "--slots 1");
    mark_spare(s, "node-003");
    ASSERT_EQ(s.run({"setup"}).code, 0);
    make_it_recover(s);
    // Node rank 0 fails at its first step, whichever node holds it: attempt 0 on node-001,
    // attempt 1 on the spare in its place; each failure is early, so counts 2 of 2.
    // Its peers wait for it, as NCCL ranks do (gloo's would fail at once too, and which node
    // torchrun reports first would be a race).
    s.edit_config("env:\n", "env:\n  TINY_FAIL_NODE_RANK: \"0\"\n  TINY_FAIL_STEP: \"1\"\n"
                            "  TINY_PEER_LOSS: hang\n");
    auto train = s.run({"train"});
    EXPECT_EQ(train.code, 1) << train.err;
    EXPECT_NE(train.err.find("not restarted: "), std::string::npos) << train.err;
    EXPECT_NE(train.err.find("counts as 2"), std::string::npos) << train.err;
    auto attempts = attempts_of(s);
    ASSERT_EQ(attempts.size(), 2u) << attempts.dump();
    EXPECT_EQ(attempts[0]["nodes"], (nlohmann::json{"node-001", "node-002"}));
    EXPECT_EQ(attempts[1]["nodes"], (nlohmann::json{"node-003", "node-002"}));
    for (const auto& a : attempts)
        EXPECT_EQ(a["state"], "failed") << attempts.dump();
    EXPECT_NE(attempts[1]["next"].get<std::string>().find("not restarted"), std::string::npos);
    EXPECT_NE(train.err.find("attempt 1 on node-003,node-002: failed"), std::string::npos)
        << train.err;
    EXPECT_EQ(s.leftovers(), "");
}

TEST(Recovery, CtrlCDuringAnAttemptEndsTheJobWithNoRestart) {
    Sandbox s(3, "--slots 1");
    mark_spare(s, "node-003");
    ASSERT_EQ(s.run({"setup"}).code, 0);
    make_it_recover(s);
    auto p = s.start({"train"});
    ASSERT_TRUE(eventually([&] { return p->out().find("step 5 loss") != std::string::npos; }, 120s))
        << p->out() << p->err();
    p->signal(SIGINT);
    EXPECT_EQ(p->wait(30s), 130) << p->err();
    EXPECT_EQ(p->err().find("attempt 1"), std::string::npos) << p->err();
    EXPECT_EQ(s.leftovers(), "");
}

TEST(Detach, TheSupervisorRecoversALostNodeOnASpare) {
    Sandbox s(3, "--slots 1");
    mark_spare(s, "node-003");
    ASSERT_EQ(s.run({"setup"}).code, 0);
    make_it_recover(s);
    std::string job = start_detached(s);
    // The user's clusterctl is gone: only the supervisor is left.
    ASSERT_TRUE(eventually(
        [&] { return node_log(job, "node-002").find("step 10 loss") != std::string::npos; }, 180s))
        << node_log(job, "node-002");
    std::this_thread::sleep_for(600ms);
    for (pid_t pid : s.on_node(2, ""))
        ::kill(pid, SIGKILL);
    auto killed = Clock::now();
    auto resumed =
        when_seen([&] { return node_log(job, "node-001"); }, "resumed from step 10", 60s);
    ASSERT_TRUE(resumed) << node_log(job, "node-001")
                         << read_file(s.file(".clusterctl/jobs/" + job + ".supervisor.log"));
    std::cerr << "[ measure ] detached: node killed, attempt 1 resumed "
              << std::chrono::duration<double>(*resumed - killed).count() << " s later\n";
    EXPECT_EQ(ended_state(s, job, 180s), "succeeded")
        << read_file(s.file(".clusterctl/jobs/" + job + ".supervisor.log"));
    auto record = s.job_record(job);
    ASSERT_EQ(record["attempts"].size(), 2u) << record.dump();
    EXPECT_EQ(record["attempts"][0]["state"], "lost") << record.dump();
    EXPECT_EQ(record["attempts"][1]["nodes"], (nlohmann::json{"node-001", "node-003"}));
    EXPECT_EQ(record["attempts"][1]["resumed_from"], 10);
    EXPECT_EQ(record["left_out"], nlohmann::json{"node-002"});
    EXPECT_EQ(record["nodes"], (nlohmann::json{"node-001", "node-003"}));
    std::string spare_log = node_log(job, "node-003");
    EXPECT_NE(spare_log.find("rank 1 step 40 loss"), std::string::npos) << spare_log;
    auto status = s.run({"status", job});
    EXPECT_EQ(status.code, 0) << status.out << status.err;
    EXPECT_NE(status.out.find("attempt 0 on node-001,node-002: lost (node-002 lost)"),
              std::string::npos)
        << status.out;
    EXPECT_NE(status.out.find("attempt 1 on node-001,node-003: succeeded, resumed from step 10"),
              std::string::npos)
        << status.out;
    auto jobs = s.run({"jobs"});
    EXPECT_NE(jobs.out.find("2 attempts"), std::string::npos) << jobs.out;
    EXPECT_EQ(s.leftovers(), "");
    EXPECT_TRUE(eventually([&] { return s.supervisors().empty(); }, 30s));
}

// after: steps run once training has succeeded, on the nodes they name, knowing the job; a
// failing one fails the run and is on record; a detached job's supervisor runs them too.
// The overrides are tested here on a real run: --set shortens the job, replaces the list.
TEST(After, StepsRunOnceTrainingHasSucceededAttachedAndDetached) {
    Sandbox s(2, "--slots 1");
    ASSERT_EQ(s.run({"setup"}).code, 0);
    s.edit_config("train:\n",
                  "after:\n"
                  "  - name: merge\n"
                  "    run: echo \"$CLUSTERCTL_JOB_ID $PWD\" > \"merged-$(hostname)\" && echo "
                  "merged-ok\n"
                  "    on: first\n"
                  "train:\n");
    auto train = s.run({"--job-id", "after-ok", "train", "--set", "train.args=[--steps, 3]"});
    ASSERT_EQ(train.code, 0) << train.out << train.err;
    EXPECT_NE(train.out.find("[default0]:rank 1 step 3 loss"), std::string::npos) << train.out;
    EXPECT_EQ(train.out.find("step 4 loss"), std::string::npos) << "--set train.args: 3 steps";
    EXPECT_NE(train.out.find("node-001: merged-ok"), std::string::npos) << train.out;
    EXPECT_NE(train.err.find("training succeeded; after: merge"), std::string::npos) << train.err;
    EXPECT_EQ(read_file(s.file("work/merged-node-001")), "after-ok " + s.file("work") + "\n");
    EXPECT_FALSE(std::filesystem::exists(s.file("work/merged-node-002"))) << "on: first";
    EXPECT_EQ(s.job_record("after-ok").value("after", ""), "succeeded");

    // A failing step: the run fails (exit 1), the record and status say which and where.
    auto failing = s.run({"--job-id", "after-bad", "train", "--set", "train.args=[--steps, 2]",
                          "--set", "after=[{name: upload, run: 'echo nope; exit 3', on: last}]"});
    EXPECT_EQ(failing.code, 1) << failing.out << failing.err;
    EXPECT_NE(failing.out.find("node-002: nope"), std::string::npos) << failing.out;
    auto record = s.job_record("after-bad");
    EXPECT_EQ(record.value("state", ""), "succeeded") << "the training did";
    EXPECT_EQ(record.value("after", ""), "failed");
    auto status = s.run({"status", "after-bad"});
    EXPECT_EQ(status.code, 1);
    EXPECT_NE(status.out.find("the after: steps FAILED: node-002 failed in 'after: upload' "
                              "(exit 3)"),
              std::string::npos)
        << status.out;

    // Detached: the supervisor runs them once every node's job has exited 0.
    auto started = s.run(
        {"--job-id", "after-detached", "train", "--detach", "--set", "train.args=[--steps, 3]"});
    ASSERT_EQ(started.code, 0) << started.err;
    ASSERT_TRUE(eventually(
        [&] { return s.job_record("after-detached").value("after", "") == "succeeded"; }, 120s))
        << s.job_record("after-detached").dump();
    EXPECT_EQ(read_file(s.file("work/merged-node-001")), "after-detached " + s.file("work") + "\n");
    EXPECT_EQ(s.leftovers(), "");
    EXPECT_TRUE(eventually([&] { return s.supervisors().empty(); }, 30s));
}

TEST(Setup, SecondRunSkipsWhatIsDone) {
    Sandbox s(2);
    auto first = s.run({"setup"});
    ASSERT_EQ(first.code, 0) << first.err;
    EXPECT_NE(first.err.find("node-[001-002]  ok       ok"), std::string::npos) << first.err;
    auto second = s.run({"setup"});
    ASSERT_EQ(second.code, 0) << second.err;
    EXPECT_NE(second.err.find("node-[001-002]  ok       skipped"), std::string::npos) << second.err;
    EXPECT_EQ(second.out.find("torch 1.13"), std::string::npos) << "the marker step ran again";
}

TEST(Check, NamesWhatIsWrongAndTheFix) {
    Sandbox s(2);
    // No setup: the workdir does not exist yet; and a port taken on the first node.
    s.edit_config("/work}", "/work/not-yet}");
    s.edit_config("rdzv: {backend: c10d, port: 29500}", "rdzv: {backend: c10d, port: 22}");
    auto check = s.run({"check"});
    EXPECT_EQ(check.code, 1);
    EXPECT_NE(check.out.find("node-001: FAILED: rendezvous port 22 is in use"), std::string::npos)
        << check.out;
    EXPECT_NE(check.out.find("node-002: FAILED: workdir"), std::string::npos) << check.out;
    EXPECT_NE(check.out.find("fix: create it in a setup step"), std::string::npos);
    // train refuses to launch anywhere.
    auto train = s.run({"train"});
    EXPECT_EQ(train.code, 1);
    EXPECT_EQ(train.out.find("[default0]"), std::string::npos) << train.out;
    EXPECT_EQ(s.leftovers(), "");
}

TEST(Check, SharedDirMustReallyBeShared) {
    Sandbox s(2, "--private-dirs");
    s.edit_config("cluster:\n", "cluster:\n  shared_dir: " + s.file("work") + "\n");
    auto check = s.run({"check"});
    EXPECT_EQ(check.code, 1) << check.out;
    EXPECT_NE(check.out.find("node-002: FAILED: " + s.file("work") + " is not shared"),
              std::string::npos)
        << check.out;
    Sandbox shared(2);
    shared.edit_config("cluster:\n", "cluster:\n  shared_dir: " + shared.file("work") + "\n");
    auto ok = shared.run({"check"});
    EXPECT_NE(ok.out.find("is shared with node-001"), std::string::npos) << ok.out;
}

TEST(Download, TokenOnlyInTheEnvironmentAndRetried) {
    Sandbox s(2);
    // A stand-in for `hf` (no model hub here): records its argv and environment, draws a
    // '\r' progress bar, fails its first attempt.
    std::string hf = s.file("hf");
    write_file(
        hf, "#!/bin/bash\n"
            "printf '%s\\n' \"$0\" \"$@\" > " +
                s.file("hf.argv") +
                "\n"
                "printf '%s' \"$HF_TOKEN\" | sha256sum > " +
                s.file("hf.token") +
                "\n"
                "hostname >> " +
                s.file("hf.hosts") +
                "\n"
                "for i in 1 2 3 4; do printf '\\rFetching: %d%%' $((i*25)); sleep 0.1; done; echo\n"
                "if [ ! -e " +
                s.file("hf.once") + " ]; then touch " + s.file("hf.once") +
                "; echo 'HTTP 503' >&2; exit 1; fi\n"
                "echo downloaded\n");
    ::chmod(hf.c_str(), 0755);
    s.edit_config("secrets:\n", "secrets:\n  HF_TOKEN: {env: HF_TOKEN}\n");
    s.edit_config("train:\n", "download:\n  - repo: meta-llama/Tiny\n    tool: " + hf +
                                  "\n    to: " + s.file("work/model") +
                                  "\n    retries: 2\n\ntrain:\n");
    const std::string token = "hf_sandboxTOKENvalue1234";
    auto p = s.start({"download"}, {"HF_TOKEN=" + token});
    bool seen_in_cmdline = false;
    while (p->wait(0s) < 0) {
        if (!processes_holding(token).empty()) seen_in_cmdline = true;
        std::this_thread::sleep_for(20ms);
    }
    EXPECT_FALSE(seen_in_cmdline) << "the token was on a command line";
    std::string out = p->out(), err = p->err();
    EXPECT_NE(out.find("node-001: Fetching: 100%"), std::string::npos) << out;
    EXPECT_EQ(out.find("Fetching: 25%"), std::string::npos) << "one line, not a flood";
    EXPECT_NE(err.find("attempt 2 of 3"), std::string::npos) << err;
    EXPECT_NE(out.find("node-001: downloaded"), std::string::npos) << out << err;
    EXPECT_EQ(read_file(s.file("hf.hosts")), "node-001\nnode-001\n") << "on the first node only";
    std::string argv = read_file(s.file("hf.argv"));
    EXPECT_NE(argv.find("download\nmeta-llama/Tiny\n--local-dir\n"), std::string::npos) << argv;
    EXPECT_EQ(argv.find(token), std::string::npos);
    // The value that arrived is the token (its digest), and no log or summary holds it.
    FILE* sha = ::popen(("printf '%s' '" + token + "' | sha256sum").c_str(), "r");
    char digest[128] = {};
    ASSERT_TRUE(std::fgets(digest, sizeof digest, sha));
    ::pclose(sha);
    EXPECT_EQ(read_file(s.file("hf.token")), digest);
    for (const auto& e : std::filesystem::recursive_directory_iterator(s.file("logs"))) {
        if (!e.is_regular_file()) continue;
        EXPECT_EQ(read_file(e.path().string()).find(token), std::string::npos) << e.path();
    }
}

// A downloader that is not installed: said with how to install it, not retried, and the
// summary counts the one host the download ran on.
TEST(Download, AMissingToolIsNamedWithAnInstallHintAndNotRetried) {
    Sandbox s(2);
    ASSERT_NE(std::system("command -v huggingface-cli >/dev/null"), 0) << "not installed here";
    s.edit_config("train:\n", "download:\n  - repo: meta-llama/Tiny\n    retries: 2\n\ntrain:\n");
    auto r = s.run({"download"});
    EXPECT_EQ(r.code, 1);
    EXPECT_EQ(r.err.find("attempt 2 of 3"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("command not found (exit 127); huggingface-cli is not installed there: "
                         "pip install -U 'huggingface_hub[cli]'"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find(": 1 host: 1 failed"), std::string::npos) << r.err;
}

TEST(Download, DistributeCopiesTheFirstNodesFolderToTheOthers) {
    // Each node has its own work/ (no shared filesystem): node-001 downloads, clusterctl
    // brings the folder here over SFTP and pushes it to the others.
    Sandbox s(3, "--private-dirs");
    std::string hf = s.file("hf");
    write_file(hf, "#!/bin/bash\n"
                   "while [ $# -gt 0 ]; do [ \"$1\" = --local-dir ] && d=$2; shift; done\n"
                   "hostname >> " +
                       s.file("hf.hosts") +
                       "\n"
                       "mkdir -p \"$d/shards\" && echo '{\"model_type\": \"llama\"}' > "
                       "\"$d/config.json\"\n"
                       "head -c 3000000 /dev/urandom > \"$d/shards/model-00001.safetensors\"\n"
                       "chmod 0640 \"$d/shards/model-00001.safetensors\"\n");
    ::chmod(hf.c_str(), 0755);
    s.edit_config("train:\n", "download:\n  - repo: meta-llama/Tiny\n    tool: " + hf +
                                  "\n    to: " + s.file("work/model") +
                                  "\n    distribute: true\n\ntrain:\n");
    auto run = s.run({"download"});
    ASSERT_EQ(run.code, 0) << run.out << run.err;
    EXPECT_EQ(read_file(s.file("hf.hosts")), "node-001\n") << "downloaded once";
    std::string first = s.file("nodes/node-001/work/model");
    for (const char* node : {"node-002", "node-003"}) {
        std::string copy = s.file(std::string("nodes/") + node + "/work/model");
        for (const char* f : {"config.json", "shards/model-00001.safetensors"}) {
            std::string a = read_file(first + "/" + f), b = read_file(copy + "/" + f);
            EXPECT_FALSE(a.empty()) << f;
            EXPECT_TRUE(a == b) << node << ": " << f << " differs (" << a.size() << " vs "
                                << b.size() << " bytes)";
        }
        struct stat st {};
        ASSERT_EQ(::stat((copy + "/shards/model-00001.safetensors").c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 07777, 0640u) << node;
    }
    EXPECT_FALSE(std::filesystem::exists(s.file(".clusterctl/staging")) &&
                 !std::filesystem::is_empty(s.file(".clusterctl/staging")))
        << "the staging copy is removed";
}

} // namespace
} // namespace clusterctl::test_support
