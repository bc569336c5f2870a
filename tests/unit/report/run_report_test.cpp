// The run's exit code and summary text.

#include "clusterctl/report/run_report.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace clusterctl {
namespace {

TEST(RunReport, ExitCodeAndSummary) {
    report::RunSummary s;
    s.action = "exec";
    s.job_id = "j";
    for (int i = 1; i <= 12; ++i) {
        report::HostOutcome h;
        h.host = "n" + std::to_string(i);
        h.state = i <= 2 ? report::HostState::done : report::HostState::failed;
        h.stage = report::FailureStage::connect;
        h.message = "refused";
        if (i <= 2) h.steps.push_back({"exec", report::StepStatus::ok, 0, 0.1, 0, ""});
        s.hosts.push_back(h);
    }
    EXPECT_EQ(report::exit_code_of(s), report::ExitCode::remote_failure);
    EXPECT_EQ(report::exit_status(s), 1) << "unreachable hosts: 1";
    s.hosts[2].stage = report::FailureStage::exec;
    s.hosts[2].exit_code = 3;
    EXPECT_EQ(report::exit_status(s), 3) << "exec: the largest remote exit code";
    s.action = "setup";
    EXPECT_EQ(report::exit_status(s), 1) << "other commands: 1";
    s.action = "exec";
    s.hosts[2].stage = report::FailureStage::connect;
    s.hosts[2].exit_code.reset();
    std::string text = report::render_summary_text(s, false);
    EXPECT_NE(text.find("12 hosts: 2 ok, 10 failed"), std::string::npos) << text;
    EXPECT_NE(text.find("  n3 connect: refused\n"), std::string::npos) << text;
    EXPECT_NE(text.find("and 2 more failed: n[11-12]"), std::string::npos) << text;
    // A host the plan gave nothing to do (a step on: first) is not counted.
    report::HostOutcome idle;
    idle.host = "n13";
    idle.state = report::HostState::done;
    s.hosts.push_back(idle);
    EXPECT_NE(report::render_summary_text(s, false).find("12 hosts: 2 ok, 10 failed"),
              std::string::npos);
    s.hosts.pop_back();
    s.interrupted = true;
    EXPECT_EQ(report::exit_code_of(s), report::ExitCode::interrupted);
    for (auto& h : s.hosts)
        h.state = report::HostState::done;
    s.interrupted = false;
    EXPECT_EQ(report::exit_code_of(s), report::ExitCode::success);
    EXPECT_EQ(report::summary_json(s)["counts"]["done"], 12);
}

// A host stopped inside a plan step is shown under the step's name; any other stage under
// its own, and a host that did not fail under none.
TEST(RunReport, StageLabels) {
    report::HostOutcome h;
    EXPECT_EQ(report::stage_label(h), "");
    h.stage = report::FailureStage::hostkey;
    h.step = "launch";
    EXPECT_EQ(report::stage_label(h), "hostkey");
    h.stage = report::FailureStage::in_step;
    EXPECT_EQ(report::stage_label(h), "launch");
    report::RunSummary s;
    s.hosts.push_back(h);
    EXPECT_EQ(report::summary_json(s)["hosts"][0]["stage"], "launch");
}

} // namespace
} // namespace clusterctl
