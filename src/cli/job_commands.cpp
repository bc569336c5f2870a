#include "clusterctl/plan/detached_job.hpp"
#include "clusterctl/report/job_record.hpp"
#include "plan_runner.hpp"

#include <fmt/format.h>

namespace clusterctl::cli {

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
         "Show each node of a detached job: running, exited (code), stopped or lost",
         "  clusterctl status              # the job started last\n"
         "  clusterctl status tiny-20261125-101500-3fa2"},
        {"logs", plan::JobAction::logs, "Print the merged logs of a detached job; -f follows them",
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
            sub->add_flag("-f,--follow", *follow, "Keep printing new lines until the job ends");
        sub->footer(std::string("Examples:\n") + c.example);
        plan::JobAction action = c.action;
        table[sub] = [action, job, follow](Context& ctx) {
            auto record = report::read_job_record(report::job_record_dir(ctx.env.home()), *job,
                                                  job->empty() ? ctx.line.at_arg(0)
                                                               : ctx.line.at_token(*job));
            if (!record) return report_error(ctx, record.error());
            // The inputs the job was started with, unless given again here.
            GlobalOptions& o = ctx.options;
            if (!ctx.config_given && !record->config.empty()) {
                o.config_path = record->config;
                ctx.config_given = true;
            }
            if (o.hostfile.empty()) o.hostfile = record->hostfile;
            if (o.hosts.empty()) o.hosts = record->hosts;
            if (o.exclude.empty()) o.exclude = record->exclude;
            if (o.ssh_config.empty()) o.ssh_config = record->ssh_config;
            ctx.secrets_needed = false;
            if (!o.quiet && !o.json && action != plan::JobAction::logs)
                ctx.err << fmt::format("clusterctl: job {} (started {}) on {} nodes\n",
                                       record->job_id, record->started, record->nodes.size());
            plan::JobQuery query{record->job_id, record->nodes, action, *follow, 10};
            return run_planned(
                ctx, [&](const plan::PlanInputs& in) { return plan::plan_job_query(in, query); });
        };
    }
}

} // namespace clusterctl::cli
