#include "clusterctl/plan/planner.hpp"
#include "plan_runner.hpp"

namespace clusterctl::cli {

void set_setup_command(CLI::App& app, CommandTable& table) {
    auto* sub = app.add_subcommand("setup", "Run the config's setup steps, in order, on their "
                                            "hosts");
    auto fail_fast = std::make_shared<bool>(false);
    sub->add_flag("--fail-fast", *fail_fast, "Stop every host when one fails a step");
    sub->footer("Examples:\n"
                "  clusterctl setup --dry-run     # see each step's script per host\n"
                "  clusterctl setup               # steps with creates: are skipped when done");
    table[sub] = [fail_fast](Context& ctx) {
        ctx.fail_fast = *fail_fast;
        return run_planned(ctx, plan::plan_setup);
    };
}

} // namespace clusterctl::cli
