#include "clusterctl/plan/planner.hpp"
#include "plan_runner.hpp"

namespace clusterctl::cli {

void set_train_command(CLI::App& app, CommandTable& table) {
    auto* sub = app.add_subcommand("train", "Launch torchrun on every node: distinct node ranks, "
                                            "one rendezvous");
    auto detach = std::make_shared<bool>(false);
    auto no_check = std::make_shared<bool>(false);
    sub->add_flag("--detach", *detach, "Start the job and return; see status, logs, stop");
    sub->add_flag("--no-check", *no_check, "Skip the pre-flight check");
    sub->footer("Examples:\n"
                "  clusterctl train --dry-run     # the torchrun line of every node\n"
                "  clusterctl -c llama-405b.yaml train\n"
                "  clusterctl train --detach && clusterctl logs -f");
    table[sub] = [detach, no_check](Context& ctx) {
        return run_planned(ctx, [&](const plan::PlanInputs& in) {
            plan::PlanInputs train = in;
            train.preflight = !*no_check;
            train.detach = *detach;
            return plan::plan_train(train);
        });
    };
}

} // namespace clusterctl::cli
