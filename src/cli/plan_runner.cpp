#include "plan_runner.hpp"

#include "clusterctl/exec/executor.hpp"
#include "clusterctl/exec/local_transport.hpp"
#include "clusterctl/exec/slurm_transport.hpp"
#include "clusterctl/exec/ssh_transport.hpp"
#include "clusterctl/output/dry_run.hpp"
#include "clusterctl/plan/slurm.hpp"
#include "clusterctl/report/run_report.hpp"
#include "clusterctl/util/strings.hpp"
#include "console_observer.hpp"
#include "slurm_allocation.hpp"
#include "stack_collection.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace clusterctl::cli {

namespace {

bool dumb_terminal(const Context& ctx) {
    return ctx.env.get("TERM").value_or("") == "dumb";
}

bool use_color(const Context& ctx, bool tty) {
    return tty && !ctx.env.get("NO_COLOR") && !dumb_terminal(ctx);
}

// The stage watched for a hang, if any.
const plan::Stage* watched_for_hang(const plan::LaunchPlan& plan) {
    for (const auto& stage : plan.stages)
        if (stage.hang) return &stage;
    return nullptr;
}

int execute_plan(Context& ctx, const Inputs& inputs, const plan::LaunchPlan& plan,
                 const AfterRun& after, const BeforeRun& before) {
    std::vector<std::string> names;
    for (const auto& h : plan.hosts)
        names.push_back(h.name);

    std::string log_dir = ctx.options.log_dir.empty()
                              ? fmt::format("{}/.clusterctl/logs/{}", ctx.env.home(), plan.job_id)
                              : util::expand_tilde(ctx.options.log_dir, ctx.env);
    output::RunLogs logs(log_dir, names);
    if (!logs.error().empty() && !ctx.options.quiet)
        ctx.err << "clusterctl: warning: " << logs.error() << "; no logs kept\n";

    if (before) before(plan, logs.error().empty() ? logs.dir() : "");

    output::LiveOutputOptions live_options;
    live_options.prefix = !ctx.options.no_prefix;
    live_options.gather = ctx.options.gather;
    live_options.json = ctx.options.json;
    live_options.color =
        use_color(ctx, ctx.lines_to_stderr ? ctx.terminal.err : ctx.terminal.out) &&
        !ctx.options.json;
    output::LiveOutput live(ctx.lines_to_stderr ? ctx.err : ctx.out, ctx.err, names, live_options);
    // A dumb terminal (an editor's shell) cannot move the cursor back over the area.
    output::ProgressLine progress(ctx.err,
                                  ctx.terminal.err && !ctx.options.quiet && !dumb_terminal(ctx),
                                  ctx.terminal.columns);
    ConsoleObserver observer(names, live, progress, logs.error().empty() ? &logs : nullptr, ctx.err,
                             ctx.options.quiet);

    if (!ctx.options.quiet && !ctx.options.json)
        for (const auto& note : plan.notes)
            ctx.err << "clusterctl: " << note << "\n";

    exec::ExecutorOptions options;
    options.fanout = plan.fanout;
    options.command_timeout_s = plan.command_timeout_s;
    options.fail_fast = ctx.fail_fast;
    options.retries = inputs.retries;
    options.agent_socket = ctx.env.get("SSH_AUTH_SOCK").value_or("");
    exec::InterruptWatch interrupts;
    auto transport = make_transport(inputs, options.agent_socket);
    if (const auto* hang = watched_for_hang(plan))
        options.on_hang = [&, hang](report::HangReport& report) {
            std::vector<std::string> nodes;
            for (const auto& task : hang->tasks)
                nodes.push_back(plan.hosts[task.host].name);
            auto taken =
                take_stacks(inputs, hang->hang->job_id, nodes, interrupts, options.agent_socket);
            add_stacks_to(report, taken, logs.error().empty() ? logs.dir() : "");
        };
    report::RunSummary summary =
        exec::execute(plan, inputs.secrets, options, observer, interrupts, *transport);
    progress.clear();
    live.finish();
    if (logs.error().empty()) summary.log_dir = logs.dir();

    nlohmann::json json = report::summary_json(summary);
    // A lost record changes no exit code (the hosts' result stands), but never goes unsaid.
    auto incomplete = logs.write_summary(json);
    for (const auto& what : incomplete)
        ctx.err << "clusterctl: warning: incomplete record: " << what << "\n";
    if (ctx.options.json) ctx.out << json.dump() << "\n" << std::flush;
    auto code = report::exit_code_of(summary);
    bool color = use_color(ctx, ctx.terminal.err);
    bool steps = plan.action == plan::Action::setup || plan.action == plan::Action::after;
    if (steps && !ctx.options.json && !ctx.options.quiet)
        ctx.err << "clusterctl: steps per host\n" << report::render_step_table(summary, color);
    if (!ctx.options.quiet || code != report::ExitCode::success)
        ctx.err << report::render_summary_text(summary, color) << std::flush;
    // On Slurm, a failure may be the allocation's end: its time limit, a node Slurm lost.
    if (inputs.slurm && !inputs.slurm->job_id.empty() && code != report::ExitCode::success)
        if (std::string end = slurm_job_end(inputs.slurm->job_id); !end.empty())
            ctx.err << fmt::format("clusterctl: Slurm job {} ended: {}\n", inputs.slurm->job_id,
                                   end);
    if (observer.teardown_lines() > 0 && !ctx.options.quiet)
        ctx.err << fmt::format("clusterctl: {} line{} the hosts printed while being stopped "
                               "(tracebacks of the stopped processes) are in their logs only\n",
                               observer.teardown_lines(),
                               observer.teardown_lines() == 1 ? "" : "s");
    int status = report::exit_status(summary);
    return after ? after(plan, summary, status) : status;
}

} // namespace

std::unique_ptr<exec::Transport> make_transport(const Inputs& inputs,
                                                const std::string& agent_socket) {
    if (inputs.slurm) {
        exec::SlurmSteps steps;
        steps.job_id = inputs.slurm->job_id;
        steps.environment = inputs.srun_environment;
        steps.gpus_per_node = inputs.config->slurm.gpus_per_node;
        for (const auto& entry : inputs.srun_environment)
            if (entry.rfind("HOME=", 0) == 0) steps.home = entry.substr(5);
        return exec::make_slurm_transport(std::move(steps));
    }
    bool local = inputs.config && inputs.config->cluster.backend == config::Backend::local;
    return local ? exec::make_local_transport() : exec::make_ssh_transport(agent_socket);
}

Context capturing(Context& ctx, std::ostream& into) {
    Context run_ctx{
        ctx.options,   ctx.line,           ctx.env, into, ctx.err, Terminal{}, ctx.config_given,
        ctx.fail_fast, ctx.secrets_needed, false};
    run_ctx.options.json = false;
    run_ctx.options.no_prefix = false;
    run_ctx.options.gather = false;
    run_ctx.options.quiet = true;
    return run_ctx;
}

int run_planned(Context& ctx, const Planner& planner, const AfterRun& after,
                const BeforeRun& before) {
    if (!ctx.options.job_id.empty() && !util::is_valid_job_id(ctx.options.job_id))
        return report_error(
            ctx, util::error_at(ctx.line.at_value({"--job-id"}),
                                fmt::format("bad job id {}", util::quoted(ctx.options.job_id)),
                                util::k_job_id_hint));
    auto inputs = load_inputs(ctx);
    if (!inputs) return report_error(ctx, inputs.error());
    // backend: slurm outside an allocation: one for this command, given back at its end.
    if (needs_allocation(ctx, *inputs))
        return in_allocation(ctx, *inputs, [&](Context& inside) {
            return run_planned(inside, planner, after, before);
        });
    plan::PlanInputs in{inputs->inventory, inputs->config_ptr(),
                        ctx.options.job_id.empty() ? new_job_id(*inputs) : ctx.options.job_id,
                        ctx.line.at_arg(0)};
    in.local_dir = local_dir(ctx);
    auto plan = planner(in);
    if (!plan) return report_error(ctx, plan.error());
    if (ctx.options.dry_run) {
        std::string shown = ctx.options.json ? output::render_dry_run_json(*plan, inputs->secrets)
                                             : output::render_dry_run_text(*plan, inputs->secrets);
        if (inputs->slurm) {
            output::SlurmDryRun slurm;
            slurm.job_id = inputs->slurm->job_id.empty() ? "$SLURM_JOB_ID" : inputs->slurm->job_id;
            if (inputs->slurm->job_id.empty())
                slurm.allocation =
                    plan::allocation_argv(inputs->config->slurm, nodes_wanted(*inputs->config),
                                          "clusterctl-" + plan->job_id);
            slurm.gpus_per_node = inputs->config->slurm.gpus_per_node;
            shown = ctx.options.json ? output::render_slurm_json(*plan, slurm, shown)
                                     : shown + output::render_slurm_text(*plan, slurm);
        }
        ctx.out << shown;
        return report::to_int(report::ExitCode::success);
    }
    return execute_plan(ctx, *inputs, *plan, after, before);
}

} // namespace clusterctl::cli
