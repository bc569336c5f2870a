#include "after_steps.hpp"
#include "clusterctl/plan/planner.hpp"
#include "clusterctl/report/job_record.hpp"
#include "clusterctl/report/run_report.hpp"
#include "clusterctl/util/text_file.hpp"
#include "detached.hpp"
#include "job_recovery.hpp"
#include "plan_runner.hpp"
#include "slurm_allocation.hpp"
#include "slurm_jobs.hpp"

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
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
    record.sets = ctx.options.sets;
    record.envs = ctx.options.envs;
    for (const auto& h : plan.hosts)
        record.nodes.push_back(h.name);
    // Inside a Slurm job; the batch job of `train --detach` when it says so.
    record.slurm_job = ctx.env.get("SLURM_JOB_ID").value_or("");
    record.slurm_batch = !record.slurm_job.empty() &&
                         ctx.env.get("CLUSTERCTL_SLURM_BATCH").value_or("") == plan.job_id;
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
    // With train.restarts: each attempt's nodes and end are on record.
    void begin_attempt(const plan::LaunchPlan& plan, std::optional<long> resumed_from) {
        report::AttemptRecord attempt;
        for (const auto& h : plan.hosts)
            attempt.nodes.push_back(h.name);
        attempt.started = utc_timestamp();
        attempt.resumed_from = resumed_from;
        m_record.nodes = attempt.nodes;
        m_record.attempts.push_back(std::move(attempt));
        save();
    }
    report::AttemptRecord& end_attempt(const report::RunSummary& summary) {
        report::AttemptRecord& attempt = m_record.attempts.back();
        report::close_attempt(attempt, report::attached_end(summary), utc_timestamp());
        return attempt;
    }
    void note_recovery(const plan::RecoveryState& state) {
        m_record.left_out = state.left_out;
        m_record.spares = state.spares;
        m_record.restarts_used = state.used;
        save();
    }
    const report::JobRecord& record() const { return m_record; }
    // Training has succeeded: the after: steps run now, on `nodes`.
    int end_with_after_steps(Context& ctx, const report::RunSummary& summary,
                             const std::vector<std::string>& nodes, const std::string& log_root) {
        m_record.after = "running";
        save();
        auto after = run_after_steps(ctx, summary.job_id, nodes,
                                     log_root.empty() ? "" : log_root + "/after");
        if (!after) m_record.after.clear();
        int code = end(ctx, summary, 0, after ? after->first_failure : std::nullopt);
        if (!after) return code;
        m_record.after = after->exit_code == 0 ? "succeeded" : "failed";
        save();
        return after->exit_code;
    }
    int end(Context& ctx, const report::RunSummary& summary, int code,
            std::optional<report::JobRecord::FirstFailure> after_failure = std::nullopt) {
        if (m_record.job_id.empty()) return code;
        report::JobEnd end = report::attached_end(summary);
        m_record.outcome = end.outcome;
        m_record.first_failure = after_failure ? after_failure : end.first_failure;
        m_record.ended = utc_timestamp();
        save();
        if (!m_error.empty() && !ctx.options.quiet)
            ctx.err << "clusterctl: warning: " << m_error << "; jobs and status do not know "
                    << "this run\n";
        return code;
    }

private:
    void save() {
        if (m_error.empty()) m_error = report::write_job_record(m_dir, m_record);
    }

    std::string m_dir, m_error;
    report::JobRecord m_record;
    util::UniqueFd m_lock;
};

// With train.restarts, summary.json in the first attempt's folder is the job's: the last
// attempt's summary, with every attempt under "attempts".
void write_job_summary(const std::string& log_root, const report::RunSummary& last,
                       const std::vector<report::AttemptRecord>& attempts) {
    if (log_root.empty()) return;
    nlohmann::json json = report::summary_json(last);
    json["attempts"] = report::attempts_json(attempts);
    std::string path = log_root + "/summary.json", partial = path + ".partial";
    {
        std::ofstream out(partial, std::ios::trunc);
        out << json.dump(2) << "\n";
    }
    std::error_code ec;
    std::filesystem::rename(partial, path, ec);
}

// An attached `train`: the launch, then with train.restarts, each relaunch after a node is
// lost or fails, until one succeeds, the budget is spent, or Ctrl-C.
int train_attached(Context& ctx, bool no_check) {
    // backend: slurm outside an allocation: one for every attempt, given back at the end.
    if (auto inputs = load_inputs(ctx); inputs && needs_allocation(ctx, *inputs))
        return in_allocation(ctx, *inputs,
                             [&](Context& inside) { return train_attached(inside, no_check); });
    AttachedJob attached;
    std::optional<JobRecovery> recovery;
    std::optional<config::TrainSettings> train;
    std::vector<config::HostSpec> hosts;
    std::vector<std::string> nodes; // the attempt's; empty: the first launch's
    std::optional<long> resumed_from;
    std::string log_root;
    for (int attempt = 0;; ++attempt) {
        std::optional<report::RunSummary> seen;
        std::vector<std::string> ran;
        auto began = std::chrono::steady_clock::now();
        int code = run_planned(
            ctx,
            [&](const plan::PlanInputs& in) {
                plan::PlanInputs launch = in;
                launch.preflight = attempt == 0 && !no_check;
                launch.attempt = attempt;
                launch.nodes = nodes;
                launch.after_steps = ctx.options.dry_run;
                if (in.config && in.config->train) train = *in.config->train;
                hosts = in.inventory.hosts;
                return plan::plan_train(launch);
            },
            [&](const plan::LaunchPlan& plan, const report::RunSummary& summary, int exit_code) {
                seen = summary;
                for (const auto& h : plan.hosts)
                    ran.push_back(h.name);
                return exit_code;
            },
            [&](const plan::LaunchPlan& plan, const std::string& log_dir) {
                if (attempt == 0) {
                    attached.start(ctx, plan, log_dir);
                    log_root = log_dir;
                }
                if (train && train->restarts > 0) attached.begin_attempt(plan, resumed_from);
            });
        if (!seen) return code; // a dry run, or nothing could start
        if (!train || train->restarts == 0)
            return code == 0 ? attached.end_with_after_steps(ctx, *seen, ran, log_root)
                             : attached.end(ctx, *seen, code);
        if (!recovery) recovery.emplace(ctx, *train, hosts, seen->job_id, log_root);
        report::AttemptRecord& record = attached.end_attempt(*seen);
        double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
        plan::AttemptEnd end = attempt_end(*seen, ran, seconds);
        end.succeeded = code == 0;
        bool interrupted = false;
        auto next = recovery->after(end, record, interrupted);
        attached.note_recovery(recovery->state());
        if (!next) {
            write_job_summary(log_root, *seen, attached.record().attempts);
            if (attempt > 0 && !ctx.options.quiet)
                for (std::size_t i = 0; i < attached.record().attempts.size(); ++i)
                    ctx.err << "  " << report::describe_attempt(i, attached.record().attempts[i])
                            << "\n";
            if (code == 0 && !interrupted)
                return attached.end_with_after_steps(ctx, *seen, ran, log_root);
            return attached.end(ctx, *seen, interrupted ? 130 : code);
        }
        nodes = *next;
        resumed_from = recovery->resume_step(nodes.front());
        if (resumed_from)
            ctx.err << fmt::format("clusterctl: attempt {} resumes from the checkpoint of step "
                                   "{}\n",
                                   attempt + 1, *resumed_from);
        ctx.options.job_id = seen->job_id;
        ctx.options.log_dir = recovery->attempt_log_dir(attempt + 1);
    }
}

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
        ctx.lines_to_stderr = *detach; // stdout: the job id alone (J=$(clusterctl train --detach))
        if (!*detach) return train_attached(ctx, *no_check);
        // backend: slurm: a batch job that runs clusterctl train inside its allocation.
        if (auto inputs = load_inputs(ctx); inputs && inputs->slurm && !ctx.options.dry_run)
            return submit_detached_train(ctx, *inputs, *no_check);
        return run_planned(
            ctx,
            [&](const plan::PlanInputs& in) {
                plan::PlanInputs train = in;
                train.preflight = !*no_check;
                train.detach = true;
                train.after_steps = ctx.options.dry_run;
                return plan::plan_train(train);
            },
            [&ctx](const plan::LaunchPlan& plan, const report::RunSummary& summary, int code) {
                return keep_detached_job(ctx, plan, summary, code);
            });
    };
}

} // namespace clusterctl::cli
