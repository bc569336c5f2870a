#include "plan_runner.hpp"

#include "clusterctl/output/dry_run.hpp"
#include "clusterctl/report/exit_code.hpp"

#include <fmt/format.h>

namespace clusterctl::cli {

int run_planned(Context& ctx, const Planner& planner) {
    auto inputs = load_inputs(ctx);
    if (!inputs) return report_error(ctx, inputs.error());
    plan::PlanInputs in{inputs->inventory, inputs->config_ptr(),
                        ctx.options.job_id.empty() ? new_job_id(*inputs) : ctx.options.job_id,
                        ctx.line.at_arg(0)};
    auto plan = planner(in);
    if (!plan) return report_error(ctx, plan.error());
    if (ctx.options.dry_run) {
        ctx.out << (ctx.options.json ? output::render_dry_run_json(*plan, inputs->secrets)
                                     : output::render_dry_run_text(*plan, inputs->secrets));
        return report::to_int(report::ExitCode::success);
    }
    ctx.err << fmt::format("clusterctl: {}: running over SSH is not built yet; --dry-run shows "
                           "what would run\n",
                           plan->action);
    return report::to_int(report::ExitCode::usage);
}

} // namespace clusterctl::cli
