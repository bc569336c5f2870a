#include "clusterctl/plan/planner.hpp"
#include "plan_runner.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

namespace clusterctl::cli {

void set_push_command(CLI::App& app, CommandTable& table) {
    auto* sub = app.add_subcommand("push", "Copy a file or directory to every host (SFTP)");
    auto source = std::make_shared<std::string>();
    auto destination = std::make_shared<std::string>();
    auto recursive = std::make_shared<bool>(false);
    sub->add_option("SRC", *source, "Local file or directory")->required();
    sub->add_option("DST", *destination, "Remote path")->required();
    sub->add_flag("-r,--recursive", *recursive, "Copy directories recursively");
    sub->footer("Examples:\n"
                "  clusterctl push train.py /shared/run/train.py\n"
                "  clusterctl push -r configs/ /shared/run/configs");
    table[sub] = [source, destination, recursive](Context& ctx) {
        struct stat st {};
        if (::stat(source->c_str(), &st) != 0)
            return report_error(ctx, util::error_at(ctx.line.at_token(*source),
                                                    fmt::format("cannot read '{}'", *source),
                                                    "give an existing local file"));
        if (S_ISDIR(st.st_mode) && !*recursive)
            return report_error(ctx, util::error_at(ctx.line.at_token(*source),
                                                    fmt::format("'{}' is a directory", *source),
                                                    "add -r to copy it recursively"));
        plan::FileTransfer transfer{*source, std::nullopt, *destination,
                                    static_cast<int>(st.st_mode & 07777), *recursive};
        return run_planned(
            ctx, [&](const plan::PlanInputs& in) { return plan::plan_push(in, transfer); });
    };
}

} // namespace clusterctl::cli
