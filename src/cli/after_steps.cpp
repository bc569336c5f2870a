#include "after_steps.hpp"

#include "clusterctl/plan/planner.hpp"
#include "clusterctl/util/strings.hpp"
#include "plan_runner.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace clusterctl::cli {

std::optional<AfterStepsEnd> run_after_steps(Context& ctx, const std::string& job_id,
                                             const std::vector<std::string>& nodes,
                                             const std::string& log_dir) {
    Context after_ctx = ctx;
    after_ctx.options.job_id = job_id;
    after_ctx.options.log_dir =
        log_dir.empty() ? fmt::format("{}/logs/{}/after", local_dir(ctx), job_id) : log_dir;
    after_ctx.secrets_needed = true;
    after_ctx.fail_fast = false;
    {
        auto inputs = load_inputs(after_ctx);
        if (!inputs || !inputs->config || inputs->config->after.empty()) return std::nullopt;
        std::vector<std::string> names;
        for (const auto& step : inputs->config->after)
            names.push_back(step.name);
        if (!ctx.options.quiet)
            ctx.err << fmt::format("clusterctl: training succeeded; after: {}\n",
                                   fmt::join(names, ", "));
    }
    AfterStepsEnd end;
    end.exit_code = run_planned(
        after_ctx,
        [&](const plan::PlanInputs& in) {
            plan::PlanInputs after = in;
            after.nodes = nodes;
            return plan::plan_after(after);
        },
        [&](const plan::LaunchPlan&, const report::RunSummary& summary, int code) {
            if (code == 0) return code;
            end.first_failure = report::attached_end(summary).first_failure;
            // Named by its step ("after: merge"), not by how a command fails (exec).
            if (end.first_failure)
                for (const auto& h : summary.hosts)
                    if (h.host == end.first_failure->node && !h.step.empty())
                        end.first_failure->stage = h.step;
            return code;
        });
    return end;
}

} // namespace clusterctl::cli
