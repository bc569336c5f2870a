#include "clusterctl/report/exit_code.hpp"
#include "context.hpp"

#include <fmt/format.h>

namespace clusterctl::cli {

// status, logs and stop work on detached jobs recorded under ~/.clusterctl/jobs/.
void set_job_commands(CLI::App& app, CommandTable& table) {
    struct JobCommand {
        const char* name;
        const char* help;
        const char* example;
    };
    static constexpr JobCommand k_commands[] = {
        {"status", "Show each node of a detached job: running, exited (code) or lost",
         "  clusterctl status              # the latest job\n"
         "  clusterctl status tiny-20261125-101500-3fa2"},
        {"logs", "Print or follow (-f) the merged logs of a detached job", "  clusterctl logs -f"},
        {"stop", "Tear a detached job down on every node", "  clusterctl stop"},
    };
    for (const auto& c : k_commands) {
        auto* sub = app.add_subcommand(c.name, c.help);
        auto job = std::make_shared<std::string>();
        auto follow = std::make_shared<bool>(false);
        sub->add_option("JOB", *job, "Job id (default: the latest)");
        if (std::string_view(c.name) == "logs")
            sub->add_flag("-f,--follow", *follow, "Keep printing new lines");
        sub->footer(std::string("Examples:\n") + c.example);
        std::string name = c.name;
        table[sub] = [name](Context& ctx) {
            ctx.err << fmt::format("clusterctl: {}: detached jobs are not built yet\n", name);
            return report::to_int(report::ExitCode::usage);
        };
    }
}

} // namespace clusterctl::cli
