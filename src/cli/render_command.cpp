#include "clusterctl/config/secrets.hpp"
#include "clusterctl/output/config_json_schema.hpp"
#include "clusterctl/plan/planner.hpp"
#include "clusterctl/report/exit_code.hpp"
#include "context.hpp"
#include "inputs.hpp"

#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>

namespace clusterctl::cli {
namespace {

namespace fs = std::filesystem;

// Writes each template under `dir` at its destination's path (an absolute one without its
// leading '/'); an error message, or empty.
std::string write_rendered(const std::string& dir, const std::string& dst, const std::string& text,
                           std::ostream& err) {
    std::string relative = dst;
    while (!relative.empty() && relative.front() == '/')
        relative.erase(0, 1);
    fs::path path = fs::path(dir) / relative;
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    if (ec) return fmt::format("cannot create {}: {}", path.parent_path().string(), ec.message());
    std::ofstream out(path, std::ios::trunc | std::ios::binary);
    out << text;
    out.close();
    if (!out) return fmt::format("cannot write {}", path.string());
    err << fmt::format("clusterctl: wrote {}\n", path.string());
    return "";
}

} // namespace

// What train.templates become once ${VAR} is expanded, as train would ship them: the
// envsubst step of a hand-written launcher, made visible.
void set_render_command(CLI::App& app, CommandTable& table) {
    auto* sub = app.add_subcommand("render", "Print train.templates as train ships them (${VAR} "
                                             "expanded), or write them to a folder");
    auto out_dir = std::make_shared<std::string>();
    sub->add_option("-o,--out", *out_dir, "Write each under DIR at its destination's path")
        ->option_text("DIR");
    sub->footer("Examples:\n"
                "  clusterctl render                              # every template, on stdout\n"
                "  clusterctl render --set train.args='[--steps, 5]' | less\n"
                "  clusterctl render -o /tmp/rendered && diff -r /tmp/rendered/... old/");
    table[sub] = [out_dir](Context& ctx) {
        ctx.secrets_needed = false; // it only looks: no secret value is needed
        auto inputs = load_inputs(ctx);
        if (!inputs) return report_error(ctx, inputs.error());
        const config::TrainingConfig* config = inputs->config_ptr();
        if (!config || !config->train || config->train->templates.empty())
            return report_error(ctx,
                                util::error_at(config ? util::SourceLocation{config->path, 1, 1}
                                                      : ctx.line.at_arg(0),
                                               "the config has no train.templates",
                                               "add train: templates: [{src: FILE.in, dst: "
                                               "FILE}]"));
        const config::TrainSettings& train = *config->train;
        nlohmann::json json = nlohmann::json::array();
        for (const auto& t : train.templates) {
            // A secret's value copied in through ${VAR} is shown as ***.
            std::string text = inputs->secrets.mask_words(t.rendered);
            std::string dst = plan::remote_path(train, t.dst); // as train ships it
            if (!out_dir->empty()) {
                std::string error = write_rendered(*out_dir, dst, text, ctx.err);
                if (!error.empty()) {
                    ctx.err << "clusterctl: error: " << error << "\n";
                    return report::to_int(report::ExitCode::remote_failure);
                }
            } else if (ctx.options.json) {
                json.push_back({{"src", t.src}, {"dst", dst}, {"content", text}});
            } else {
                ctx.out << fmt::format("# {} -> {} ({} bytes)\n", t.src, dst, text.size()) << text;
                if (!text.empty() && text.back() != '\n') ctx.out << "\n";
            }
        }
        if (ctx.options.json && out_dir->empty()) ctx.out << json.dump(2) << "\n";
        return report::to_int(report::ExitCode::success);
    };
}

// clusterctl.yaml's JSON Schema, for editors (yaml-language-server) and CI checks.
void set_schema_command(CLI::App& app, CommandTable& table) {
    auto* sub = app.add_subcommand("schema", "Print the JSON Schema of clusterctl.yaml (editor "
                                             "completion and checking)");
    sub->footer("Examples:\n"
                "  clusterctl schema > ~/.config/clusterctl.schema.json\n"
                "  # then, as a config's first line:\n"
                "  # yaml-language-server: $schema=/usr/share/clusterctl/clusterctl.schema.json");
    table[sub] = [](Context& ctx) {
        ctx.out << output::config_json_schema().dump(2) << "\n";
        return report::to_int(report::ExitCode::success);
    };
}

} // namespace clusterctl::cli
