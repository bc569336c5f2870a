#include "clusterctl/cli/app.hpp"

#include "clusterctl/report/exit_code.hpp"
#include "clusterctl/util/strings.hpp"
#include "context.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <optional>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#ifndef CLUSTERCTL_VERSION
#define CLUSTERCTL_VERSION "0.0.0"
#endif

namespace clusterctl::cli {
namespace {

constexpr const char* k_footer =
    "Examples:\n"
    "  clusterctl validate                         # check ./clusterctl.yaml, hostfile, "
    "ssh_config\n"
    "  clusterctl hosts                            # the resolved hosts and their ranks\n"
    "  clusterctl train --dry-run                  # every node's torchrun line, no connection\n"
    "  clusterctl -w 'node-[001-008]' exec -- nvidia-smi -L\n"
    "  clusterctl -c llama-405b.yaml setup && clusterctl -c llama-405b.yaml train\n"
    "\n"
    "Options are accepted before or after the command. 'clusterctl help COMMAND' (or\n"
    "'clusterctl COMMAND --help') shows a command's own options and examples.\n"
    "\n"
    "Exit codes: 0 ok, 1 a remote command failed or a host was unreachable (exec: the\n"
    "            largest remote exit code),\n"
    "            2 usage or configuration error (nothing was run), 130 interrupted,\n"
    "            70 internal error (a bug).";

void add_global_options(CLI::App& app, GlobalOptions& o) {
    app.add_option("-c,--config", o.config_path, "YAML config (default ./clusterctl.yaml)")
        ->option_text("FILE");
    app.add_option("--hostfile", o.hostfile, "Hostfile: 'node-001 slots=8', 'node-[001-008]'")
        ->option_text("FILE");
    app.add_option("-w,--hosts", o.hosts, "Target hosts, e.g. 'node-[001-004],gpu-7'")
        ->option_text("HOSTS");
    app.add_option("-x,--exclude", o.exclude, "Hosts to leave out")->option_text("HOSTS");
    app.add_option("--ssh-config", o.ssh_config, "ssh_config (default ~/.ssh/config)")
        ->option_text("FILE");
    app.add_option("--fanout", o.fanout, "Hosts connecting or running at once (default 256)")
        ->option_text("N");
    app.add_option("--connect-timeout", o.connect_timeout,
                   "Seconds to connect and log in (default 10)")
        ->option_text("SECONDS");
    app.add_option("--timeout", o.timeout, "Seconds a command may run (default: no limit)")
        ->option_text("SECONDS");
    app.add_option("--log-dir", o.log_dir, "Per-host logs (default ~/.clusterctl/logs/RUN)")
        ->option_text("DIR");
    app.add_option("--job-id", o.job_id, "Name of this run (default: CONFIG-DATE-TIME-RANDOM)")
        ->option_text("ID");
    app.add_option("--retries", o.retries,
                   "Connection attempts after a failed one, with backoff (default 0)")
        ->option_text("N");
    app.add_option("--set", o.sets,
                   "Override a config value, the value in YAML (repeatable): "
                   "--set train.nproc_per_node=4 --set 'train.args=[--steps, 100]'")
        ->option_text("KEY=VALUE")
        ->allow_extra_args(false);
    app.add_option("--env", o.envs,
                   "Export NAME=VALUE on every node, over the config's env: (repeatable)")
        ->option_text("NAME=VALUE")
        ->allow_extra_args(false);
    app.add_flag("--no-prefix", o.no_prefix, "Remote lines without the 'host: ' prefix");
    app.add_flag("-b,--gather", o.gather,
                 "Fold identical output of several hosts into one block (like clush -b)");
    app.add_flag("--dry-run", o.dry_run, "Show every remote command; connect to nothing");
    app.add_flag("--json", o.json, "Machine-readable output on stdout");
    app.add_flag("-v,--verbose", o.verbose, "More detail on stderr (repeat for more)");
    app.add_flag("-q,--quiet", o.quiet, "Only errors on stderr");
}

std::vector<std::string> option_names(const CLI::App& app) {
    std::vector<std::string> names;
    for (const auto* opt : app.get_options())
        for (const auto& n : opt->get_lnames())
            names.push_back("--" + n);
    for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
        names.push_back(sub->get_name());
        for (const auto* opt : sub->get_options())
            for (const auto& n : opt->get_lnames())
                names.push_back("--" + n);
    }
    return names;
}

// The first word that is neither an option nor an option's value: what the user meant
// as the command, when CLI11 found none.
std::optional<std::size_t> command_word(const CLI::App& app, const CommandLine& line) {
    const auto& args = line.args();
    for (std::size_t i = 1; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg == "--") return std::nullopt;
        if (arg.empty() || arg.front() != '-') return i;
        if (arg.find('=') != std::string::npos) continue;
        const CLI::Option* opt = app.get_option_no_throw(arg);
        if (opt && opt->get_items_expected_max() != 0) ++i; // skip the option's value
    }
    return std::nullopt;
}

// The first option, before any command, that clusterctl does not know ("-Z", "--verison").
std::optional<std::size_t> unknown_option(const CLI::App& app, const CommandLine& line) {
    const auto& args = line.args();
    for (std::size_t i = 1; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg == "--" || arg.empty() || arg.front() != '-' || arg == "-") return std::nullopt;
        std::string name = arg.substr(0, arg.find('='));
        const CLI::Option* opt = app.get_option_no_throw(name);
        if (!opt) {
            // A command's own option given before the command is CLI11's to judge.
            for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; }))
                if (sub->get_option_no_throw(name)) return std::nullopt;
            return i;
        }
        if (arg.find('=') == std::string::npos && opt->get_items_expected_max() != 0) ++i;
    }
    return std::nullopt;
}

std::vector<std::string> command_names(const CLI::App& app) {
    std::vector<std::string> names;
    for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; }))
        names.push_back(sub->get_name());
    return names;
}

// A CLI11 parse error as a Diagnostic pointing at the argument it is about.
util::Diagnostic parse_error(const CLI::ParseError& e, const CLI::App& app,
                             const CommandLine& line) {
    if (app.get_subcommands().empty()) {
        if (auto bad = unknown_option(app, line)) {
            const std::string& arg = line.args()[*bad];
            std::string word = arg.substr(0, arg.find('='));
            std::string hint = util::did_you_mean(word, option_names(app));
            return util::error_at(line.at_arg(*bad), fmt::format("unknown option '{}'", word),
                                  hint.empty() ? "see clusterctl --help" : hint);
        }
        auto word = command_word(app, line);
        if (!word)
            return util::error_at(line.at_arg(line.args().size()), "no command given",
                                  "e.g. clusterctl hosts; see clusterctl --help");
        const std::string& name = line.args()[*word];
        std::string hint = util::did_you_mean(name, command_names(app));
        return util::error_at(line.at_arg(*word), fmt::format("unknown command '{}'", name),
                              hint.empty() ? "see clusterctl --help" : hint);
    }
    std::string message = e.what();
    if (!message.empty() && std::isupper(static_cast<unsigned char>(message.front())))
        message.front() =
            static_cast<char>(std::tolower(static_cast<unsigned char>(message.front())));
    const auto& args = line.args();
    for (std::size_t i = 1; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg.size() < 2 || std::string(e.what()).find(arg) == std::string::npos) continue;
        std::string word = arg.substr(0, arg.find('='));
        std::string hint = util::did_you_mean(word, option_names(app));
        if (hint.empty()) hint = "see clusterctl --help";
        return util::error_at(line.at_arg(i), message, hint);
    }
    return util::error_at(line.at_arg(0), message, "see clusterctl --help");
}

void set_up_logging(const GlobalOptions& o, std::ostream& err) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(err);
    auto logger = std::make_shared<spdlog::logger>("clusterctl", sink);
    logger->set_pattern("clusterctl: %l: %v");
    logger->set_level(o.quiet          ? spdlog::level::err
                      : o.verbose >= 2 ? spdlog::level::debug
                      : o.verbose == 1 ? spdlog::level::info
                                       : spdlog::level::warn);
    spdlog::set_default_logger(logger);
}

constexpr const char* k_description =
    "clusterctl: launch distributed training on GPU clusters over SSH.\n"
    "Reads a hostfile and a YAML config, runs every command on every node at once,\nand "
    "streams the merged logs back.";

} // namespace

// The whole command line: global options, every subcommand and its options.
void define_commands(CLI::App& app, GlobalOptions& options, CommandTable& table) {
    app.description(k_description);
    add_global_options(app, options);
    app.set_version_flag("-V,--version", std::string("clusterctl ") + CLUSTERCTL_VERSION);
    app.require_subcommand(1);
    app.fallthrough();
    app.footer(k_footer);
    set_init_command(app, table);
    set_hosts_command(app, table);
    set_validate_command(app, table);
    set_render_command(app, table);
    set_schema_command(app, table);
    set_completion_command(app, table);
    set_exec_command(app, table);
    set_push_command(app, table);
    set_setup_command(app, table);
    set_download_command(app, table);
    set_check_command(app, table);
    set_train_command(app, table);
    set_job_commands(app, table);
}

int report_error(Context& ctx, const util::Diagnostic& d) {
    ctx.err << d.str() << "\n";
    return report::to_int(report::ExitCode::usage);
}

std::vector<OptionInfo> describe_options() {
    CLI::App app("", "clusterctl");
    GlobalOptions options;
    CommandTable table;
    define_commands(app, options, table);
    std::vector<OptionInfo> infos;
    auto add = [&](const std::string& command, const CLI::App& from) {
        for (const auto* opt : from.get_options()) {
            if (opt->get_lnames().empty() && opt->get_snames().empty() &&
                opt->get_positional() == false)
                continue;
            OptionInfo info;
            info.command = command;
            info.name = opt->get_lnames().empty() ? "" : "--" + opt->get_lnames().front();
            if (info.name.empty() && !opt->get_snames().empty())
                info.name = "-" + opt->get_snames().front();
            info.positional = info.name.empty();
            if (info.positional) info.name = opt->get_name();
            info.takes_value = opt->get_items_expected_max() != 0;
            info.type = opt->get_type_name();
            if (info.name == "--help" || info.name == "--version") continue;
            infos.push_back(std::move(info));
        }
    };
    add("", app);
    for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; }))
        add(sub->get_name(), *sub);
    return infos;
}

int run(const std::vector<std::string>& args, const util::Environment& env, std::ostream& out,
        std::ostream& err, Terminal terminal) {
    // `clusterctl help [COMMAND]` is `clusterctl [COMMAND] --help`.
    if (args.size() >= 2 && args[1] == "help") {
        std::vector<std::string> asked(args.begin(), args.end());
        asked.erase(asked.begin() + 1);
        asked.push_back("--help");
        return run(asked, env, out, err, terminal);
    }
    CommandLine line(args);
    CLI::App app("", "clusterctl");
    GlobalOptions options;
    CommandTable table;
    define_commands(app, options, table);

    std::vector<std::string> reversed(line.args().rbegin(), line.args().rend() - 1);
    try {
        app.parse(reversed);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e, out, err);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e, out, err);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e, out, err);
    } catch (const CLI::ParseError& e) {
        if (args.size() <= 1) {
            err << app.help();
            return report::to_int(report::ExitCode::usage);
        }
        err << parse_error(e, app, line).str() << "\n";
        return report::to_int(report::ExitCode::usage);
    }
    Context ctx{options, line, env, out, err, terminal};
    ctx.config_given = app.count("--config") > 0;
    set_up_logging(options, err);
    for (auto* sub : app.get_subcommands())
        if (auto it = table.find(sub); it != table.end()) return it->second(ctx);
    err << app.help();
    return report::to_int(report::ExitCode::usage);
}

} // namespace clusterctl::cli
