// The engine's rules, through the tests' fake transport (fake_transport.hpp): fan-out,
// connection retries with backoff, fail-fast, all_must_pass, the failure line, the command
// timeout, the stop grace, first and second interrupt, stages after a failure. Each run
// takes seconds of the fake clock and microseconds of the real one.

#include "clusterctl/exec/executor.hpp"
#include "fake_transport.hpp"

#include <gtest/gtest.h>

namespace clusterctl::exec {
namespace {

using fake::FakeTransport;
using fake::HostScript;
using report::HostState;

struct Outcomes : RunObserver {
    std::vector<std::string> lines;
    void on_line(std::size_t host, bool, std::string_view line) override {
        lines.push_back(std::to_string(host) + ": " + std::string(line));
    }
};

// A plan of `stages` stages over hosts h1..hN, each a script on every host.
plan::LaunchPlan plan_of(int hosts, int stages = 1) {
    plan::LaunchPlan plan;
    plan.action = plan::Action::exec;
    plan.job_id = "j";
    for (int i = 1; i <= hosts; ++i) {
        config::HostSpec h;
        h.name = "h" + std::to_string(i);
        h.address = h.name;
        plan.hosts.push_back(h);
    }
    for (int s = 1; s <= stages; ++s) {
        plan::Stage stage;
        stage.name = "step" + std::to_string(s);
        for (int i = 0; i < hosts; ++i)
            stage.tasks.push_back({static_cast<std::size_t>(i), {}, {}});
        plan.stages.push_back(stage);
    }
    return plan;
}

struct Run {
    report::RunSummary summary;
    Outcomes seen;
    const report::HostOutcome& host(const std::string& name) const {
        for (const auto& h : summary.hosts)
            if (h.host == name) return h;
        throw std::runtime_error("no host " + name);
    }
};

Run run(const plan::LaunchPlan& plan, FakeTransport& transport, ExecutorOptions options = {}) {
    Run r;
    config::SecretStore secrets;
    InterruptWatch interrupts;
    r.summary = execute(plan, secrets, options, r.seen, interrupts, transport);
    return r;
}

TEST(EngineRules, FanoutCapsHostsRunningAtOnce) {
    FakeTransport transport({});
    ExecutorOptions options;
    options.fanout = 3;
    auto r = run(plan_of(10), transport, options);
    EXPECT_EQ(transport.most_running, 3);
    for (const auto& h : r.summary.hosts)
        EXPECT_EQ(h.state, HostState::done) << h.host;
}

TEST(EngineRules, ConnectionsAreRetriedWithBackoffOnlyWhenRetryable) {
    HostScript flaky;
    flaky.failed_connects = 2;
    HostScript refused = flaky;
    refused.connect_stage = util::FailureStage::auth;
    refused.retryable = false;
    FakeTransport transport({{"h1", flaky}, {"h2", refused}});
    ExecutorOptions options;
    options.retries = 2;
    auto r = run(plan_of(2), transport, options);
    EXPECT_EQ(r.host("h1").state, HostState::done);
    EXPECT_EQ(r.host("h1").attempts, 3);
    const auto& times = transport.connect_times["h1"];
    ASSERT_EQ(times.size(), 3u);
    EXPECT_NEAR(transport.ms_since_start(times[1]) - transport.ms_since_start(times[0]), 1005,
                10); // 5 ms to fail, then 1 s
    EXPECT_NEAR(transport.ms_since_start(times[2]) - transport.ms_since_start(times[1]), 2005, 10);
    EXPECT_EQ(r.host("h2").state, HostState::failed);
    EXPECT_EQ(r.host("h2").stage, util::FailureStage::auth);
    EXPECT_EQ(transport.attempts["h2"], 1) << "an auth failure is not retried";
}

TEST(EngineRules, FailFastCancelsTheOthersAndNamesTheFirst) {
    HostScript fails;
    fails.run_ms = 50;
    fails.exit_code = 1;
    HostScript hangs;
    hangs.hang = true;
    FakeTransport transport({{"h1", hangs}, {"h2", fails}, {"h3", hangs}});
    auto plan = plan_of(3);
    plan.stages[0].fail_fast = true;
    auto r = run(plan, transport);
    EXPECT_EQ(r.host("h2").state, HostState::failed);
    EXPECT_EQ(r.host("h2").exit_code, 1);
    ASSERT_TRUE(r.summary.first_failure);
    EXPECT_EQ(r.summary.hosts[*r.summary.first_failure].host, "h2");
    for (std::string other : {"h1", "h3"}) {
        EXPECT_EQ(r.host(other).state, HostState::cancelled) << other;
        EXPECT_EQ(r.host(other).signal, "TERM") << other;
        // Stopped in the plan's step: shown under its name.
        EXPECT_EQ(report::stage_label(r.host(other)), plan.stages[0].name) << other;
    }
    EXPECT_EQ(r.host("h2").stage, util::FailureStage::exec);
    EXPECT_EQ(transport.cancelled.size(), 2u);
}

TEST(EngineRules, AllMustPassKeepsEveryHostFromWhatFollows) {
    HostScript fails;
    fails.exit_code = 2;
    FakeTransport transport({{"h2", fails}});
    auto plan = plan_of(3, 2);
    plan.stages[0].all_must_pass = true;
    auto r = run(plan, transport);
    EXPECT_EQ(r.host("h2").state, HostState::failed);
    for (std::string other : {"h1", "h3"}) {
        EXPECT_EQ(r.host(other).state, HostState::cancelled) << other;
        EXPECT_EQ(r.host(other).message, "not started: step1 failed on h2") << other;
        EXPECT_EQ(r.host(other).steps.size(), 1u) << "step2 never ran on " << other;
    }
}

TEST(EngineRules, AHostThatFailedAStageTakesNoPartInTheNext) {
    HostScript fails;
    fails.exit_code = 3;
    FakeTransport transport({{"h2", fails}});
    auto r = run(plan_of(2, 2), transport);
    EXPECT_EQ(r.host("h1").state, HostState::done);
    EXPECT_EQ(r.host("h1").steps.size(), 2u);
    EXPECT_EQ(r.host("h2").state, HostState::failed);
    EXPECT_EQ(r.host("h2").steps.size(), 1u);
}

TEST(EngineRules, TheFailureLineCountsTheHostFailedBeforeItExits) {
    HostScript reports; // torchrun: a worker failed, the agent waits at its barrier
    reports.hang = true;
    reports.lines = {{10, "rank 1 step 3"}, {30, "worker failed (exitcode: 7) local_rank 1"}};
    HostScript hangs;
    hangs.hang = true;
    FakeTransport transport({{"h1", reports}, {"h2", hangs}});
    auto plan = plan_of(2);
    plan.stages[0].fail_fast = true;
    plan.stages[0].failure_line = "failed (exitcode: ";
    auto r = run(plan, transport);
    EXPECT_EQ(r.host("h1").state, HostState::failed);
    EXPECT_EQ(r.host("h1").exit_code, 7);
    EXPECT_EQ(r.host("h1").message, "stopped after it reported the failure");
    EXPECT_EQ(r.host("h2").state, HostState::cancelled);
    EXPECT_EQ(r.summary.hosts[*r.summary.first_failure].host, "h1");
}

TEST(EngineRules, TheCommandTimeoutStopsItsGroup) {
    HostScript hangs;
    hangs.hang = true;
    FakeTransport transport({{"h1", hangs}});
    ExecutorOptions options;
    options.command_timeout_s = 2;
    auto r = run(plan_of(1), transport, options);
    EXPECT_EQ(r.host("h1").stage, util::FailureStage::timeout);
    EXPECT_EQ(r.host("h1").state, HostState::failed);
    EXPECT_NEAR(r.summary.duration_s, 2.01, 0.05);
}

TEST(EngineRules, AHostThatIgnoresTheStopIsDroppedAfterTheGrace) {
    HostScript stuck;
    stuck.hang = true;
    stuck.ignores_cancel = true;
    FakeTransport transport({{"h1", stuck}});
    ExecutorOptions options;
    options.command_timeout_s = 1;
    options.grace_s = 10;
    auto r = run(plan_of(1), transport, options);
    EXPECT_EQ(r.host("h1").stage, util::FailureStage::timeout);
    EXPECT_NE(r.host("h1").message.find("did not stop within 15 s"), std::string::npos)
        << r.host("h1").message;
    EXPECT_NEAR(r.summary.duration_s, 16, 0.1);
}

TEST(EngineRules, AFirstInterruptStopsEveryHostASecondDropsThem) {
    HostScript hangs;
    hangs.hang = true;
    {
        FakeTransport transport({{"h1", hangs}, {"h2", hangs}});
        transport.interrupt_at(100);
        auto r = run(plan_of(2), transport);
        EXPECT_TRUE(r.summary.interrupted);
        for (const auto& h : r.summary.hosts) {
            EXPECT_EQ(h.state, HostState::cancelled) << h.host;
            EXPECT_EQ(h.signal, "TERM") << h.host; // stopped in order
        }
    }
    {
        HostScript stuck = hangs;
        stuck.ignores_cancel = true;
        FakeTransport transport({{"h1", stuck}, {"h2", stuck}});
        transport.interrupt_at(100);
        transport.interrupt_at(200);
        auto r = run(plan_of(2), transport);
        EXPECT_TRUE(r.summary.interrupted);
        EXPECT_LT(r.summary.duration_s, 1) << "the second interrupt does not wait for the grace";
        for (const auto& h : r.summary.hosts)
            EXPECT_NE(h.message.find("aborted (second interrupt)"), std::string::npos) << h.host;
    }
}

// A hang: its stacks are asked for while every host still runs, then the named node fails
// (stage hang), the others are stopped; with on_hang: wait, nobody is stopped.
TEST(EngineRules, AHangIsReportedTheStacksTakenThenTheJobStopped) {
    HostScript silent;
    silent.hang = true;
    silent.lines = {{100, "[default0]:step 1"}};
    FakeTransport transport({{"h1", silent}, {"h2", silent}});
    auto plan = plan_of(2);
    plan.stages[0].hang = plan::HangLimits{2, 60, true, true, "j"};
    ExecutorOptions options;
    int asked = 0;
    options.on_hang = [&](report::HangReport& hang) {
        ++asked;
        EXPECT_TRUE(transport.cancelled.empty()) << "stacks are taken from running ranks";
        EXPECT_EQ(hang.kind, report::HangReport::Kind::all_silent);
        EXPECT_EQ(hang.silent.size(), 2u);
        hang.suspect_node = "h2";
        hang.suspects = {"rank 1 (h2)"};
    };
    auto r = run(plan, transport, options);
    EXPECT_EQ(asked, 1);
    ASSERT_TRUE(r.summary.hang);
    EXPECT_GE(r.summary.duration_s, 2.1);
    EXPECT_LT(r.summary.duration_s, 3.5) << "checked about once a second";
    EXPECT_EQ(r.host("h2").state, HostState::failed);
    EXPECT_EQ(r.host("h2").stage, util::FailureStage::hang);
    EXPECT_NE(r.host("h2").message.find("rank 1 (h2) not where the others are"), std::string::npos);
    EXPECT_EQ(r.host("h1").state, HostState::cancelled);
    ASSERT_TRUE(r.summary.first_failure);
    EXPECT_EQ(r.summary.hosts[*r.summary.first_failure].host, "h2");

    HostScript ends = silent;
    ends.hang = false;
    ends.run_ms = 5000;
    FakeTransport later({{"h1", ends}, {"h2", ends}});
    plan.stages[0].hang->stop = false;
    options.on_hang = {};
    auto waited = run(plan, later, options);
    ASSERT_TRUE(waited.summary.hang);
    EXPECT_FALSE(waited.summary.hang->stopped);
    EXPECT_TRUE(later.cancelled.empty());
    for (const auto& h : waited.summary.hosts)
        EXPECT_EQ(h.state, HostState::done) << h.host;
}

} // namespace
} // namespace clusterctl::exec
