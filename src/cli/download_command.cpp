#include "clusterctl/plan/planner.hpp"
#include "plan_runner.hpp"

#include <filesystem>

namespace clusterctl::cli {

void set_download_command(CLI::App& app, CommandTable& table) {
    auto* sub = app.add_subcommand("download", "Download the model (huggingface-cli or hf) on "
                                               "the first host or on all");
    sub->footer("Examples:\n"
                "  clusterctl download --dry-run   # the downloader's command line per host\n"
                "  export HF_TOKEN=hf_...; clusterctl download   # the token reaches only the "
                "remote environment");
    table[sub] = [](Context& ctx) {
        // distribute: true stages the first node's download here; it is not kept.
        return run_planned(
            ctx, plan::plan_download,
            [&ctx](const plan::LaunchPlan& plan, const report::RunSummary&, int code) {
                std::error_code ec;
                std::filesystem::remove_all(plan::staging_dir(local_dir(ctx), plan.job_id), ec);
                return code;
            });
    };
}

} // namespace clusterctl::cli
