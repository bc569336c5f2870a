#include "clusterctl/config/host_list.hpp"
#include "clusterctl/output/merged_logs.hpp"
#include "clusterctl/plan/detached_job.hpp"
#include "clusterctl/report/job_record.hpp"
#include "clusterctl/report/stacks.hpp"
#include "detached.hpp"
#include "plan_runner.hpp"
#include "slurm_jobs.hpp"
#include "stack_collection.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <fmt/format.h>
#include <sstream>
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
        if (record->attached) {
            ctx.err << fmt::format("clusterctl: job {} ran attached: the clusterctl that started "
                                   "it watches it, and its end stops it\n",
                                   record->job_id);
            return 0;
        }
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

// The job's nodes that `expression` names, in node-rank order; a name that is not one of
// them is an error.
util::Result<std::vector<std::string>> pick_nodes(const report::JobRecord& record,
                                                  const std::string& expression,
                                                  const util::SourceLocation& where) {
    auto wanted = config::expand_host_list(expression, where);
    if (!wanted) return util::fail(wanted.error());
    for (const auto& name : *wanted)
        if (std::find(record.nodes.begin(), record.nodes.end(), name) == record.nodes.end())
            return util::fail(util::error_at(
                where, fmt::format("{} is not a node of job {}", name, record.job_id),
                fmt::format("its nodes: {}", config::fold_host_list(record.nodes))));
    std::vector<std::string> picked;
    for (const auto& node : record.nodes)
        if (std::find(wanted->begin(), wanted->end(), node) != wanted->end())
            picked.push_back(node);
    return picked;
}

// After `logs -f`: the job has ended on every node. Its supervisor, if it runs, says how
// it ended once it has torn the rest down: a job that failed exits 1 (its stopped nodes
// alone would say 0).
int job_exit_code(Context& ctx, const std::string& job_id) {
    std::string dir = report::job_record_dir(ctx.env.home());
    auto record = report::read_job_record(dir, job_id, {});
    for (int i = 0; i < 300 && record &&
                    (record->outcome == report::JobOutcome::none || record->after == "running") &&
                    running_supervisor(dir, job_id);
         ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        record = report::read_job_record(dir, job_id, {});
    }
    return record && report::job_failed(*record) ? 1 : 0;
}

// `logs` without -f: every node's lines, stamped on the node as they were written, merged
// here into one story by those stamps; --tail N: its last N lines.
int merged_logs(Context& ctx, const Planner& planner, int tail) {
    std::ostringstream captured;
    Context run_ctx = capturing(ctx, captured);
    int code = run_planned(run_ctx, planner);
    std::string merged = output::merge_stamped_logs(captured.str(), tail);
    if (ctx.options.no_prefix) {
        std::string bare;
        std::istringstream in(merged);
        for (std::string line; std::getline(in, line);) {
            auto colon = line.find(": ");
            bare += (colon == std::string::npos ? line : line.substr(colon + 2)) + "\n";
        }
        merged = std::move(bare);
    }
    ctx.out << merged << std::flush;
    return code;
}

// logs and stop of an attached run: its lines are on this machine, and stopping it is its
// clusterctl's Ctrl-C (SIGINT), which tears the job down on every node and records it.
int attached_job_command(Context& ctx, const report::JobRecord& record, plan::JobAction action) {
    std::string dir = report::job_record_dir(ctx.env.home());
    auto holder = running_supervisor(dir, record.job_id);
    if (action == plan::JobAction::logs) {
        ctx.out << fmt::format("job {} ran attached: its lines are in {} (one file per node)\n",
                               record.job_id, record.log_dir);
        return 0;
    }
    if (!holder) {
        ctx.err << fmt::format("clusterctl: job {} is not running ({})\n", record.job_id,
                               job_state(record, holder));
        return 0;
    }
    ::kill(static_cast<pid_t>(*holder), SIGINT);
    // Its clusterctl stops every node (TERM, KILL after 10 s) and lets the lock go.
    for (int i = 0; i < 300 && running_supervisor(dir, record.job_id); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (running_supervisor(dir, record.job_id)) {
        ctx.err << fmt::format("clusterctl: job {}: its clusterctl (pid {}) did not stop within "
                               "30 s\n",
                               record.job_id, *holder);
        return 1;
    }
    ctx.err << fmt::format("clusterctl: job {} stopped (its clusterctl, pid {}, tore it down)\n",
                           record.job_id, *holder);
    return 0;
}

// `status`: what the record knows (how the job ended, or who supervises it), then each
// node's state from the node itself. Exit code, as `systemctl is-active` users expect: 0
// running, succeeded or stopped; 1 failed or lost; 3 unknown (a node did not answer).
int run_status(Context& ctx, const report::JobRecord& record) {
    std::string dir = report::job_record_dir(ctx.env.home());
    auto supervisor = running_supervisor(dir, record.job_id);
    bool json = ctx.options.json;
    if (record.attached) {
        // Its clusterctl holds its nodes' state; the nodes keep none of their own.
        if (json)
            ctx.out << job_json(record, supervisor).dump() << "\n";
        else
            ctx.out << describe_job(record, supervisor);
        // Ended badly, or its clusterctl went without recording an end (lost).
        bool lost = record.outcome == report::JobOutcome::none && !supervisor;
        return report::job_failed(record) || lost ? 1 : 0;
    }
    if (!json) ctx.out << describe_job(record, supervisor) << std::flush;
    // With --json the nodes' lines are not shown: the one document says it all.
    std::ostringstream unshown;
    Context run_ctx = rebound(ctx, ctx.env, json ? unshown : ctx.out);
    if (json) {
        run_ctx.options.json = false;
        run_ctx.options.quiet = true;
    }
    int code = 0;
    auto summary = run_job_plan(run_ctx, record, plan::JobAction::status, code);
    if (!summary) return code;
    using Kind = report::NodeJobState::Kind;
    bool failed = report::job_failed(record), unknown = false;
    nlohmann::json nodes = nlohmann::json::array();
    for (const auto& h : summary->hosts) {
        auto state = report::parse_job_state(h.steps.empty() ? "" : h.steps.back().job);
        bool answered = !h.steps.empty() && !h.steps.back().job.empty();
        nlohmann::json n{{"node", h.host},
                         {"state", answered ? report::to_string(state.kind) : "unreachable"},
                         {"pid", nullptr},
                         {"exit_code", nullptr},
                         {"message", answered ? "" : h.message}};
        if (state.kind == Kind::running) n["pid"] = state.value;
        if (state.kind == Kind::exited || state.kind == Kind::stopped) n["exit_code"] = state.value;
        failed =
            failed || (state.kind == Kind::exited && state.value != 0) || state.kind == Kind::lost;
        unknown = unknown || !answered || state.kind == Kind::none;
        nodes.push_back(std::move(n));
    }
    if (json) {
        nlohmann::json doc = job_json(record, supervisor);
        doc["nodes"] = std::move(nodes);
        ctx.out << doc.dump() << "\n" << std::flush;
    }
    bool ended = record.outcome != report::JobOutcome::none;
    if (failed) return 1;
    return unknown && !ended ? 3 : 0;
}

// `stacks [JOB]`: every rank's Python stack, now: one file per rank in the run's log
// folder, and where each rank is, ranks in the same place folded together.
void set_stacks_command(CLI::App& app, CommandTable& table) {
    auto* sub = app.add_subcommand(
        "stacks",
        "Show where every rank of a running job (attached or detached) is: its Python stack");
    auto job = std::make_shared<std::string>();
    sub->add_option("JOB", *job, "Job id, as train --detach printed it (default: the latest)");
    sub->footer("Each rank's stack (all threads) goes into a file of the run's log folder; the "
                "summary shows each rank's innermost frame. A rank waiting on a hung peer shows "
                "its next synchronisation with the GPU (.item(), .cpu()), not the collective.\n"
                "Examples:\n"
                "  clusterctl stacks\n"
                "  clusterctl stacks tiny-20261125-101500-3fa2");
    table[sub] = [job](Context& ctx) {
        auto record =
            load_job(ctx, *job, job->empty() ? ctx.line.at_arg(0) : ctx.line.at_token(*job));
        if (!record) return report_error(ctx, record.error());
        std::ostringstream captured;
        Context run_ctx = capturing(ctx, captured);
        int code = 0;
        auto summary = run_job_plan(run_ctx, *record, plan::JobAction::stacks, code);
        if (!summary) return code;
        auto stacks = report::parse_rank_stacks(captured.str());
        std::sort(stacks.begin(), stacks.end(),
                  [](const auto& a, const auto& b) { return a.rank < b.rank; });
        std::string dir = summary->log_dir;
        write_stack_files(stacks, dir);
        if (ctx.options.json) {
            nlohmann::json all = nlohmann::json::array();
            for (const auto& s : stacks)
                all.push_back({{"rank", s.rank},
                               {"node", s.node},
                               {"pid", s.pid},
                               {"innermost", report::innermost_frame(s.text)},
                               {"stack", s.text}});
            ctx.out << all.dump() << "\n";
            return code;
        }
        ctx.out << fmt::format("job {}: stacks of {} rank{}{}\n", record->job_id, stacks.size(),
                               stacks.size() == 1 ? "" : "s",
                               dir.empty() ? "" : fmt::format(" (one file each in {})", dir));
        for (const auto& line : report::summarize_stacks(stacks))
            ctx.out << "  " << line << "\n";
        return stacks.empty() ? 1 : code;
    };
}

// `jobs`: every job on record here, newest first.
void set_jobs_command(CLI::App& app, CommandTable& table) {
    auto* sub = app.add_subcommand("jobs", "List the detached jobs started from this machine, "
                                           "newest first, with their state");
    sub->footer("States: running (supervised), unsupervised (no supervisor runs: clusterctl "
                "supervise JOB), succeeded, failed, lost (a node went away), stopped.\n"
                "Examples:\n"
                "  clusterctl jobs\n"
                "  clusterctl jobs --json | jq -r '.[] | select(.state == \"failed\") | .job_id'");
    table[sub] = [](Context& ctx) {
        std::string dir = report::job_record_dir(ctx.env.home());
        auto records = report::list_job_records(dir);
        if (ctx.options.json) {
            nlohmann::json all = nlohmann::json::array();
            for (const auto& r : records) {
                all.push_back(job_json(r, running_supervisor(dir, r.job_id)));
                if (r.slurm_batch) all.back()["state"] = slurm_batch_state(r);
            }
            ctx.out << all.dump() << "\n";
            return 0;
        }
        if (records.empty()) {
            ctx.err << "clusterctl: no detached job in " << dir << "\n";
            return 0;
        }
        std::size_t width = 3;
        for (const auto& r : records)
            width = std::max(width, r.job_id.size());
        ctx.out << fmt::format("{:<{}}  {:<20}  {:>5}  {}\n", "JOB", width, "STARTED", "NODES",
                               "STATE");
        for (const auto& r : records) {
            std::string state = r.slurm_batch ? slurm_batch_state(r)
                                              : job_state(r, running_supervisor(dir, r.job_id));
            if (r.first_failure) state += fmt::format(": {} first", r.first_failure->node);
            if (r.attempts.size() > 1) state += fmt::format(" ({} attempts)", r.attempts.size());
            ctx.out << fmt::format("{:<{}}  {:<20}  {:>5}  {}\n", r.job_id, width, r.started,
                                   r.nodes.size(), state);
        }
        return 0;
    };
}

} // namespace

// status, logs and stop come back to a job started with `train --detach`, through its
// record in ~/.clusterctl/jobs/: the same config, hostfile and nodes, from any directory.
void set_job_commands(CLI::App& app, CommandTable& table) {
    struct JobCommand {
        const char* name;
        plan::JobAction action;
        const char* help;
        const char* notes;
        const char* example;
    };
    static constexpr JobCommand k_commands[] = {
        {"status", plan::JobAction::status,
         "Show a detached job: how it ended or who supervises it, and each node: running, "
         "exited (code), stopped or lost",
         "Exit codes: 0 running, succeeded or stopped; 1 failed or lost; 3 unknown (a node did "
         "not answer); 2 no such job.\n",
         "  clusterctl status              # the job started last\n"
         "  clusterctl status tiny-20261125-101500-3fa2 --json | jq .state"},
        {"logs", plan::JobAction::logs,
         "Print a detached job's logs, every node's lines merged by the time they were written; "
         "-f follows them and exits as the job did",
         "",
         "  clusterctl logs -f             # until the job ends, or Ctrl-C\n"
         "  clusterctl logs tiny-20261125-101500-3fa2 > run.log\n"
         "  clusterctl logs --rank 3 -n 20  # rank 3's last 20 lines"},
        {"stop", plan::JobAction::stop,
         "Tear a detached job down on every node: TERM to its processes, KILL after 10 s", "",
         "  clusterctl stop\n"
         "  clusterctl stop tiny-20261125-101500-3fa2"},
    };
    for (const auto& c : k_commands) {
        auto* sub = app.add_subcommand(c.name, c.help);
        auto job = std::make_shared<std::string>();
        auto follow = std::make_shared<bool>(false);
        auto tail = std::make_shared<int>(-1);
        auto nodes = std::make_shared<std::string>();
        auto rank = std::make_shared<int>(-1);
        sub->add_option("JOB", *job, "Job id, as train --detach printed it (default: the latest)");
        if (c.action == plan::JobAction::logs) {
            sub->add_flag("-f,--follow", *follow,
                          "Keep printing new lines until the job ends; exit as it did");
            sub->add_option("-n,--tail", *tail,
                            "Only the last N lines (of each node with -f; then what comes)")
                ->check(CLI::NonNegativeNumber)
                ->option_text("N");
            sub->add_option("--node", *nodes, "Only these nodes: 'node-003', 'node-[001-004]'")
                ->option_text("HOSTS");
            sub->add_option("--rank", *rank,
                            "Only this rank's lines (torchrun_args must hold --tee, which "
                            "prefixes each rank's line)")
                ->check(CLI::NonNegativeNumber)
                ->option_text("N");
        }
        sub->footer(std::string(c.notes) + "Examples:\n" + c.example);
        plan::JobAction action = c.action;
        table[sub] = [action, job, follow, tail, nodes, rank](Context& ctx) {
            auto record =
                load_job(ctx, *job, job->empty() ? ctx.line.at_arg(0) : ctx.line.at_token(*job));
            if (!record) return report_error(ctx, record.error());
            const GlobalOptions& o = ctx.options;
            std::string dir = report::job_record_dir(ctx.env.home());
            if (!o.quiet && !o.json && action != plan::JobAction::logs)
                ctx.err << fmt::format("clusterctl: job {} (started {}) on {} nodes\n",
                                       record->job_id, record->started, record->nodes.size());
            if (record->slurm_batch) return slurm_job_command(ctx, *record, action, *follow, *tail);
            if (action == plan::JobAction::status) return run_status(ctx, *record);
            if (record->attached) return attached_job_command(ctx, *record, action);
            if (action == plan::JobAction::stop) {
                // The supervisor then records the job as stopped, not failed.
                record->stop_requested = utc_timestamp();
                if (std::string error = report::write_job_record(dir, *record); !error.empty())
                    ctx.err << "clusterctl: warning: " << error << "\n";
            }
            plan::JobQuery query{record->job_id, record->nodes, action, *follow, *tail, 10};
            query.rank = *rank;
            if (!nodes->empty()) {
                auto picked = pick_nodes(*record, *nodes, ctx.line.at_value({"--node"}));
                if (!picked) return report_error(ctx, picked.error());
                query.hosts = std::move(*picked);
            }
            auto planner = [&](const plan::PlanInputs& in) {
                return plan::plan_job_query(in, query);
            };
            if (action == plan::JobAction::logs && !*follow)
                return merged_logs(ctx, planner, *tail);
            int code = run_planned(ctx, planner);
            if (action == plan::JobAction::logs && *follow && code == 0)
                return job_exit_code(ctx, record->job_id);
            return code;
        };
    }
    set_supervise_command(app, table);
    set_jobs_command(app, table);
    set_stacks_command(app, table);
}

} // namespace clusterctl::cli
