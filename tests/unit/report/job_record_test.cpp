#include "clusterctl/report/job_record.hpp"

#include <filesystem>
#include <gtest/gtest.h>
#include <unistd.h>

namespace clusterctl {
namespace {

using report::HostState;
using Kind = report::NodeJobState::Kind;

report::HostOutcome node(const std::string& name, HostState state, const std::string& job) {
    report::HostOutcome h;
    h.host = name;
    h.state = state;
    report::StepResult watch;
    watch.name = "watch";
    watch.job = job;
    h.steps.push_back(watch);
    return h;
}

TEST(JobRecord, NodeJobStates) {
    EXPECT_EQ(report::parse_job_state("running 4242").kind, Kind::running);
    EXPECT_EQ(report::parse_job_state("running 4242").value, 4242);
    EXPECT_EQ(report::parse_job_state("exited 1").value, 1);
    EXPECT_EQ(report::parse_job_state("stopped 143").kind, Kind::stopped);
    EXPECT_EQ(report::parse_job_state("lost").kind, Kind::lost);
    EXPECT_EQ(report::parse_job_state("").kind, Kind::none);
    EXPECT_EQ(report::parse_job_state("exitedx 0").kind, Kind::none);
}

TEST(JobRecord, HowASupervisedJobEnded) {
    report::JobRecord record;
    report::RunSummary watch;
    watch.hosts = {node("a", HostState::done, "exited 0"), node("b", HostState::done, "exited 0")};
    EXPECT_EQ(report::job_end(watch, record).outcome, report::JobOutcome::succeeded);

    // One node failed first (its failure line), the other was cancelled by fail-fast.
    watch.hosts = {node("a", HostState::cancelled, ""), node("b", HostState::failed, "")};
    watch.hosts[1].stage = report::FailureStage::exec;
    watch.hosts[1].exit_code = 1;
    watch.hosts[1].last_lines = {"rank 3 failing on purpose"};
    watch.first_failure = 1;
    auto end = report::job_end(watch, record);
    EXPECT_EQ(end.outcome, report::JobOutcome::failed);
    ASSERT_TRUE(end.first_failure);
    EXPECT_EQ(end.first_failure->node, "b");
    EXPECT_EQ(end.first_failure->stage, "exec");
    EXPECT_EQ(end.first_failure->exit_code, 1);
    EXPECT_EQ(end.first_failure->last_lines.size(), 1u);

    // A node that went away is lost, not failed.
    watch.hosts[1].stage = report::FailureStage::channel;
    EXPECT_EQ(report::job_end(watch, record).outcome, report::JobOutcome::lost);
    watch.hosts[1].stage = report::FailureStage::exec;

    // `clusterctl stop` was asked: what the stop made torchrun print is no failure.
    record.stop_requested = "2026-12-01T00:00:00Z";
    EXPECT_EQ(report::job_end(watch, record).outcome, report::JobOutcome::stopped);
    record.stop_requested.clear();
    watch.first_failure.reset();
    watch.hosts = {node("a", HostState::done, "stopped 143"),
                   node("b", HostState::done, "exited 0")};
    EXPECT_EQ(report::job_end(watch, record).outcome, report::JobOutcome::stopped);

    // Interrupted: nobody knows yet.
    watch.interrupted = true;
    EXPECT_EQ(report::job_end(watch, record).outcome, report::JobOutcome::none);
}

TEST(JobRecord, WrittenWholeAndReadBack) {
    std::string dir = std::filesystem::temp_directory_path() /
                      ("clusterctl-record-" + std::to_string(::getpid()));
    report::JobRecord r;
    r.job_id = "tiny-20261201-000000-abcd";
    r.started = "2026-12-01T00:00:00Z";
    r.nodes = {"node-001", "node-002"};
    r.supervisor_pid = 77;
    r.outcome = report::JobOutcome::failed;
    r.first_failure =
        report::JobRecord::FirstFailure{"node-002", "lost", "gone", std::nullopt, {"last"}};
    ASSERT_EQ(report::write_job_record(dir, r), "");
    EXPECT_FALSE(std::filesystem::exists(dir + "/" + r.job_id + ".json.partial"));
    auto back = report::read_job_record(dir, "", {});
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->job_id, r.job_id);
    EXPECT_EQ(back->supervisor_pid, 77);
    EXPECT_EQ(back->outcome, report::JobOutcome::failed);
    ASSERT_TRUE(back->first_failure);
    EXPECT_EQ(back->first_failure->node, "node-002");
    EXPECT_FALSE(back->first_failure->exit_code);
    EXPECT_EQ(back->first_failure->last_lines, std::vector<std::string>{"last"});
    // Attempts of a job that restarts: a running one has no end yet (null in the file).
    r.attempts = {{{"node-001", "node-002"},
                   "t0",
                   "t1",
                   report::JobOutcome::lost,
                   "node-002 lost",
                   "restarted",
                   std::nullopt},
                  {{"node-001", "node-003"}, "t2", "", report::JobOutcome::none, "", "", 10}};
    r.left_out = {"node-002"};
    r.restarts_used = 1;
    ASSERT_EQ(report::write_job_record(dir, r), "");
    back = report::read_job_record(dir, r.job_id, {});
    ASSERT_TRUE(back) << back.error().message;
    ASSERT_EQ(back->attempts.size(), 2u);
    EXPECT_EQ(back->attempts[0].failed, "node-002 lost");
    EXPECT_EQ(back->attempts[1].ended, "");
    EXPECT_EQ(back->attempts[1].resumed_from, 10);
    EXPECT_EQ(back->left_out, std::vector<std::string>{"node-002"});
    EXPECT_EQ(back->restarts_used, 1);
    EXPECT_EQ(report::describe_attempt(1, back->attempts[1]),
              "attempt 1 on node-001,node-003: running, resumed from step 10");
    std::filesystem::remove_all(dir);
}

} // namespace
} // namespace clusterctl
