#include "clusterctl/plan/planner.hpp"
#include "clusterctl/report/exit_code.hpp"
#include "context.hpp"
#include "inputs.hpp"

#include <fmt/format.h>

namespace clusterctl::cli {

// Loads everything and builds every plan the config allows, so a mistake in any section
// is found now, not when that command is run on the cluster.
void set_validate_command(CLI::App& app, CommandTable& table) {
    auto* sub = app.add_subcommand("validate", "Check config, hostfile and ssh_config; exit 0 "
                                               "or 2");
    sub->footer("Examples:\n"
                "  clusterctl -c clusterctl.yaml validate && clusterctl train");
    table[sub] = [](Context& ctx) {
        ctx.secrets_needed = false; // it only looks: no secret value is needed
        auto inputs = load_inputs(ctx);
        if (!inputs) return report_error(ctx, inputs.error());
        plan::PlanInputs in{inputs->inventory, inputs->config_ptr(), "validate",
                            ctx.line.at_arg(0)};
        const config::TrainingConfig* config = inputs->config_ptr();
        std::vector<util::Result<plan::LaunchPlan>> plans;
        if (config && !config->setup.empty()) plans.push_back(plan::plan_setup(in));
        if (config && !config->download.empty()) plans.push_back(plan::plan_download(in));
        in.after_steps = true; // after: steps are checked with the launch
        if (config && config->train) plans.push_back(plan::plan_train(in));
        for (const auto& p : plans)
            if (!p) return report_error(ctx, p.error());
        if (!ctx.options.quiet)
            ctx.err << fmt::format("clusterctl: ok: {} host{}{}\n", inputs->inventory.hosts.size(),
                                   inputs->inventory.hosts.size() == 1 ? "" : "s",
                                   config ? ", config " + config->path : "");
        return report::to_int(report::ExitCode::success);
    };
}

} // namespace clusterctl::cli
