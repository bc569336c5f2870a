#include "clusterctl/plan/planner.hpp"
#include "plan_runner.hpp"

namespace clusterctl::cli {

void set_exec_command(CLI::App& app, CommandTable& table) {
    auto* sub = app.add_subcommand("exec", "Run a shell command on every host");
    auto words = std::make_shared<std::vector<std::string>>();
    auto fail_fast = std::make_shared<bool>(false);
    sub->add_option("command", *words, "The command; the remote shell runs it as typed");
    sub->add_flag("--fail-fast", *fail_fast, "Cancel the other hosts when one fails");
    sub->footer("Examples:\n"
                "  clusterctl -w 'node-[001-008]' exec -- nvidia-smi -L\n"
                "  clusterctl exec --fail-fast -- 'df -h $HF_HOME'   # $HF_HOME expands remotely");
    table[sub] = [words, fail_fast](Context& ctx) {
        ctx.fail_fast = *fail_fast;
        if (words->empty())
            return report_error(ctx,
                                util::error_at(ctx.line.at_token("exec"), "exec needs a command",
                                               "e.g. clusterctl exec -- hostname"));
        std::string command;
        for (const auto& w : *words)
            command += (command.empty() ? "" : " ") + w;
        return run_planned(
            ctx, [&](const plan::PlanInputs& in) { return plan::plan_exec(in, command); });
    };
}

} // namespace clusterctl::cli
