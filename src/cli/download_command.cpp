#include "clusterctl/plan/planner.hpp"
#include "plan_runner.hpp"

namespace clusterctl::cli {

void set_download_command(CLI::App& app, CommandTable& table) {
    auto* sub = app.add_subcommand("download", "Download the model (huggingface-cli or hf) on "
                                               "the first host or on all");
    sub->footer("Examples:\n"
                "  clusterctl download --dry-run   # the downloader's command line per host\n"
                "  export HF_TOKEN=hf_...; clusterctl download   # the token reaches only the "
                "remote environment");
    table[sub] = [](Context& ctx) { return run_planned(ctx, plan::plan_download); };
}

} // namespace clusterctl::cli
