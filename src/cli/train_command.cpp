#include "clusterctl/plan/planner.hpp"
#include "clusterctl/report/job_record.hpp"
#include "clusterctl/util/text_file.hpp"
#include "detached.hpp"
#include "plan_runner.hpp"

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fmt/format.h>
#include <unistd.h>

namespace clusterctl::cli {
namespace {

std::string absolute(const std::string& path) {
    if (path.empty()) return path;
    std::error_code ec;
    auto p = std::filesystem::absolute(path, ec);
    return ec ? path : p.lexically_normal().string();
}

// The job's record: how to reach its nodes again from anywhere.
report::JobRecord job_record_for(const Context& ctx, const plan::LaunchPlan& plan) {
    report::JobRecord record;
    record.job_id = plan.job_id;
    record.started = utc_timestamp();
    if (util::file_exists(ctx.options.config_path))
        record.config = absolute(ctx.options.config_path);
    record.hostfile = absolute(ctx.options.hostfile);
    record.hosts = ctx.options.hosts;
    record.exclude = ctx.options.exclude;
    record.ssh_config = absolute(util::expand_tilde(ctx.options.ssh_config, ctx.env));
    for (const auto& h : plan.hosts)
        record.nodes.push_back(h.name);
    return record;
}

// An attached run is on record too, for `jobs`, `status`, `stacks` and `stop` from a second
// terminal: this process holds its lock while it runs, and records how it ended.
class AttachedJob {
public:
    void start(Context& ctx, const plan::LaunchPlan& plan, const std::string& log_dir) {
        m_dir = report::job_record_dir(ctx.env.home());
        m_record = job_record_for(ctx, plan);
        m_record.attached = true;
        m_record.log_dir = log_dir;
        m_record.supervisor_pid = static_cast<long>(::getpid());
        m_error = report::write_job_record(m_dir, m_record); // and its folder
        m_lock = take_job_lock(m_dir, m_record.job_id);
    }
    int end(Context& ctx, const report::RunSummary& summary, int code) {
        if (m_record.job_id.empty()) return code;
        report::JobEnd end = report::attached_end(summary);
        m_record.outcome = end.outcome;
        m_record.first_failure = end.first_failure;
        m_record.ended = utc_timestamp();
        if (m_error.empty()) m_error = report::write_job_record(m_dir, m_record);
        if (!m_error.empty() && !ctx.options.quiet)
            ctx.err << "clusterctl: warning: " << m_error << "; jobs and status do not know "
                    << "this run\n";
        return code;
    }

private:
    std::string m_dir, m_error;
    report::JobRecord m_record;
    util::UniqueFd m_lock;
};

// After `train --detach`: the job's record, so status, logs and stop find it from anywhere;
// its id alone on stdout (job=$(clusterctl train --detach)), what to do next on stderr.
int keep_detached_job(Context& ctx, const plan::LaunchPlan& plan, const report::RunSummary& summary,
                      int code) {
    report::JobRecord record = job_record_for(ctx, plan);
    auto launch = std::find_if(plan.stages.begin(), plan.stages.end(),
                               [](const auto& s) { return s.role == plan::StageRole::launch; });
    bool started = launch != plan.stages.end() &&
                   std::any_of(summary.hosts.begin(), summary.hosts.end(), [&](const auto& h) {
                       return !h.steps.empty() && h.steps.back().name == launch->name &&
                              h.steps.back().status == report::StepStatus::ok;
                   });
    if (!started) return code; // nothing runs anywhere: nothing to come back to
    std::string dir = report::job_record_dir(ctx.env.home());
    if (std::string error = report::write_job_record(dir, record); !error.empty()) {
        ctx.err << "clusterctl: warning: " << error << "; status, logs and stop need -c and "
                << "the job id\n";
    }
    // Its supervisor tears it down on every node when one fails, as an attached run would.
    auto supervisor = spawn_supervisor(ctx, plan.job_id);
    if (!supervisor)
        ctx.err << fmt::format("clusterctl: warning: {}; the job runs unsupervised "
                               "(clusterctl supervise {})\n",
                               supervisor.error().message, plan.job_id);
    if (!ctx.options.json) ctx.out << plan.job_id << "\n" << std::flush;
    if (!ctx.options.quiet)
        ctx.err << fmt::format("clusterctl: job {} runs detached on {} nodes{}:\n"
                               "  clusterctl status {}\n  clusterctl logs -f {}\n"
                               "  clusterctl stop {}\n",
                               plan.job_id, plan.hosts.size(),
                               supervisor ? fmt::format(", supervised (pid {})", *supervisor) : "",
                               plan.job_id, plan.job_id, plan.job_id);
    if (code != 0)
        ctx.err << fmt::format("clusterctl: some nodes did not start: clusterctl stop {} ends "
                               "the others\n",
                               plan.job_id);
    return code;
}

} // namespace

void set_train_command(CLI::App& app, CommandTable& table) {
    auto* sub = app.add_subcommand("train", "Launch torchrun on every node: distinct node ranks, "
                                            "one rendezvous");
    auto detach = std::make_shared<bool>(false);
    auto no_check = std::make_shared<bool>(false);
    sub->add_flag("--detach", *detach,
                  "Start the job so it outlives clusterctl and its connections, print its id "
                  "and return; see status, logs, stop");
    sub->add_flag("--no-check", *no_check, "Skip the pre-flight check");
    sub->footer("Examples:\n"
                "  clusterctl train --dry-run     # the torchrun line of every node\n"
                "  clusterctl -c llama-405b.yaml train\n"
                "  clusterctl train --detach && clusterctl logs -f");
    table[sub] = [detach, no_check](Context& ctx) {
        AfterRun after;
        BeforeRun before;
        AttachedJob attached;
        ctx.lines_to_stderr = *detach; // stdout: the job id alone (J=$(clusterctl train --detach))
        if (*detach) {
            after = [&ctx](const plan::LaunchPlan& plan, const report::RunSummary& summary,
                           int code) { return keep_detached_job(ctx, plan, summary, code); };
        } else {
            before = [&](const plan::LaunchPlan& plan, const std::string& log_dir) {
                attached.start(ctx, plan, log_dir);
            };
            after = [&](const plan::LaunchPlan&, const report::RunSummary& summary, int code) {
                return attached.end(ctx, summary, code);
            };
        }
        return run_planned(
            ctx,
            [&](const plan::PlanInputs& in) {
                plan::PlanInputs train = in;
                train.preflight = !*no_check;
                train.detach = *detach;
                return plan::plan_train(train);
            },
            after, before);
    };
}

} // namespace clusterctl::cli
