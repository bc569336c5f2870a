#include "clusterctl/plan/detached_job.hpp"
#include "clusterctl/report/job_record.hpp"
#include "detached.hpp"
#include "plan_runner.hpp"

#include <chrono>
#include <fmt/format.h>
#include <thread>

namespace clusterctl::cli {
namespace {

// `supervise [JOB]`: watches a detached job again (train --detach starts its supervisor
// itself); --foreground runs the supervisor here instead of in a session of its own.
void set_supervise_command(CLI::App& app, CommandTable& table) {
    auto* sub = app.add_subcommand(
        "supervise", "Supervise a detached job again: tear it down on every node when one fails");
    auto job = std::make_shared<std::string>();
    auto foreground = std::make_shared<bool>(false);
    sub->add_option("JOB", *job, "Job id, as train --detach printed it (default: the latest)");
    sub->add_flag("--foreground", *foreground,
                  "Supervise from this terminal instead of from a session of its own");
    sub->footer("train --detach starts a supervisor for its job; status says when none runs "
                "(it was killed, or this machine restarted).\n"
                "Examples:\n"
                "  clusterctl supervise            # the job started last\n"
                "  clusterctl supervise tiny-20261125-101500-3fa2");
    table[sub] = [job, foreground](Context& ctx) {
        auto record =
            load_job(ctx, *job, job->empty() ? ctx.line.at_arg(0) : ctx.line.at_token(*job));
        if (!record) return report_error(ctx, record.error());
        if (*foreground) return supervise_job(ctx, *record);
        std::string dir = report::job_record_dir(ctx.env.home());
        if (auto holder = running_supervisor(dir, record->job_id)) {
            ctx.err << fmt::format("clusterctl: job {} is already supervised (pid {})\n",
                                   record->job_id, *holder);
            return 0;
        }
        auto pid = spawn_supervisor(ctx, record->job_id);
        if (!pid) {
            ctx.err << "clusterctl: " << pid.error().message << "\n";
            return 1;
        }
        if (!ctx.options.quiet)
            ctx.err << fmt::format("clusterctl: job {} supervised (pid {}, log {})\n",
                                   record->job_id, *pid,
                                   report::supervisor_log_path(dir, record->job_id));
        return 0;
    };
}

// After `logs -f`: the job has ended on every node. Its supervisor, if it runs, says how
// it ended once it has torn the rest down: a job that failed exits 1 (its stopped nodes
// alone would say 0).
int job_exit_code(Context& ctx, const std::string& job_id) {
    std::string dir = report::job_record_dir(ctx.env.home());
    auto record = report::read_job_record(dir, job_id, {});
    for (int i = 0; i < 300 && record && record->state.empty() && running_supervisor(dir, job_id);
         ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        record = report::read_job_record(dir, job_id, {});
    }
    return record && record->state == "failed" ? 1 : 0;
}

} // namespace

// status, logs and stop come back to a job started with `train --detach`, through its
// record in ~/.clusterctl/jobs/: the same config, hostfile and nodes, from any directory.
void set_job_commands(CLI::App& app, CommandTable& table) {
    struct JobCommand {
        const char* name;
        plan::JobAction action;
        const char* help;
        const char* example;
    };
    static constexpr JobCommand k_commands[] = {
        {"status", plan::JobAction::status,
         "Show a detached job: how it ended or who supervises it, and each node: running, "
         "exited (code), stopped or lost",
         "  clusterctl status              # the job started last\n"
         "  clusterctl status tiny-20261125-101500-3fa2"},
        {"logs", plan::JobAction::logs,
         "Print the merged logs of a detached job; -f follows them and exits as the job did",
         "  clusterctl logs -f             # until the job ends, or Ctrl-C\n"
         "  clusterctl logs tiny-20261125-101500-3fa2 > run.log"},
        {"stop", plan::JobAction::stop,
         "Tear a detached job down on every node: TERM to its processes, KILL after 10 s",
         "  clusterctl stop\n"
         "  clusterctl stop tiny-20261125-101500-3fa2"},
    };
    for (const auto& c : k_commands) {
        auto* sub = app.add_subcommand(c.name, c.help);
        auto job = std::make_shared<std::string>();
        auto follow = std::make_shared<bool>(false);
        sub->add_option("JOB", *job, "Job id, as train --detach printed it (default: the latest)");
        if (c.action == plan::JobAction::logs)
            sub->add_flag("-f,--follow", *follow,
                          "Keep printing new lines until the job ends; exit as it did");
        sub->footer(std::string("Examples:\n") + c.example);
        plan::JobAction action = c.action;
        table[sub] = [action, job, follow](Context& ctx) {
            auto record =
                load_job(ctx, *job, job->empty() ? ctx.line.at_arg(0) : ctx.line.at_token(*job));
            if (!record) return report_error(ctx, record.error());
            const GlobalOptions& o = ctx.options;
            std::string dir = report::job_record_dir(ctx.env.home());
            if (!o.quiet && !o.json && action != plan::JobAction::logs)
                ctx.err << fmt::format("clusterctl: job {} (started {}) on {} nodes\n",
                                       record->job_id, record->started, record->nodes.size());
            if (action == plan::JobAction::status && !o.json)
                ctx.out << describe_job(*record, running_supervisor(dir, record->job_id))
                        << std::flush;
            if (action == plan::JobAction::stop) {
                // The supervisor then records the job as stopped, not failed.
                record->stop_requested = utc_timestamp();
                if (std::string error = report::write_job_record(dir, *record); !error.empty())
                    ctx.err << "clusterctl: warning: " << error << "\n";
            }
            plan::JobQuery query{record->job_id, record->nodes, action, *follow, 10};
            int code = run_planned(
                ctx, [&](const plan::PlanInputs& in) { return plan::plan_job_query(in, query); });
            if (action == plan::JobAction::logs && *follow && code == 0)
                return job_exit_code(ctx, record->job_id);
            return code;
        };
    }
    set_supervise_command(app, table);
}

} // namespace clusterctl::cli
