#include "clusterctl/plan/planner.hpp"
#include "plan_runner.hpp"

namespace clusterctl::cli {

void set_check_command(CLI::App& app, CommandTable& table) {
    auto* sub = app.add_subcommand("check", "Pre-flight: every node reachable, torchrun, torch, "
                                            "GPUs, workdir");
    sub->footer("Examples:\n"
                "  clusterctl check            # also run by 'train' unless --no-check");
    table[sub] = [](Context& ctx) { return run_planned(ctx, plan::plan_check); };
}

} // namespace clusterctl::cli
