#include "clusterctl/report/exit_code.hpp"
#include "clusterctl/util/strings.hpp"
#include "clusterctl/util/text_file.hpp"
#include "context.hpp"

#include <filesystem>
#include <fmt/format.h>
#include <fstream>

namespace clusterctl::cli {
namespace {

namespace fs = std::filesystem;

// A first config: every section a job needs, commented, valid as it stands (validate
// accepts it), the optional ones shown commented out.
constexpr const char* k_starter =
    R"(# yaml-language-server: $schema=/usr/share/clusterctl/clusterctl.schema.json
# clusterctl's config: every key is in docs/CONFIG.md (/usr/share/doc/clusterctl/CONFIG.md).
#   clusterctl validate          # check it, and the hostfile (nothing connects)
#   clusterctl hosts             # the hosts and their node ranks
#   clusterctl train --dry-run   # every node's exact torchrun line
cluster:
  hostfile: {hostfile}          # one host per line: node-[001-008] slots=8
  # user: ubuntu                # default: ssh_config's User, else your user name
  # jump: ubuntu@head-node      # reach the workers through a head node (ProxyJump)

env:                            # exported to every remote command; ${VAR} is expanded here
  PATH_STORAGE: ${PATH_STORAGE:-/home/ubuntu/shared}

# secrets:                      # read here, exported on the nodes, never printed
#   HF_TOKEN: {env: HF_TOKEN}
#   WANDB_API_KEY: {env: WANDB_API_KEY}

# A line run before every remote command (non-interactive SSH skips .bashrc):
# activate: source /home/ubuntu/miniconda3/bin/activate pytorch

setup:                          # clusterctl setup: steps in order, on every host by default
  - name: workdir
    run: mkdir -p "$PATH_STORAGE/run"
    activate: false             # before the environment exists

train:                          # clusterctl train: torchrun on every node, one rendezvous
  workdir: ${PATH_STORAGE}/run
  torchrun: torchrun            # name the one on the nodes, e.g. /opt/conda/bin/torchrun
  nproc_per_node: auto          # the GPUs of each node; or a number
  script: train.py              # or module: axolotl.cli.train
  args: []
  # templates:                  # local files with ${VAR} expanded, shipped to workdir
  #   - {src: train.yaml.in, dst: train.yaml}
  # restarts: 2                 # relaunch after a lost node, from the last checkpoint

# after:                        # once training has succeeded
#   - {name: merge, run: python merge.py, on: first}
)";

constexpr const char* k_starter_hostfile =
    R"(# One host per line, MPI/DeepSpeed style: NAME [slots=N] [spare]
# ranges as in pdsh and clush; user@host:port when ssh_config does not say.
node-[001-002] slots=8
)";

bool write_new(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
    out.close();
    return static_cast<bool>(out);
}

} // namespace

void set_init_command(CLI::App& app, CommandTable& table) {
    auto* sub = app.add_subcommand("init", "Write a commented starter clusterctl.yaml (and a "
                                           "hostfile) that validate accepts");
    auto force = std::make_shared<bool>(false);
    sub->add_flag("--force", *force, "Overwrite an existing config");
    sub->footer("Examples:\n"
                "  clusterctl init && clusterctl validate\n"
                "  clusterctl init --hostfile /shared/hostfile   # use a hostfile you have\n"
                "  clusterctl -c llama.yaml init");
    table[sub] = [force](Context& ctx) {
        const std::string& config = ctx.options.config_path;
        if (util::file_exists(config) && !*force)
            return report_error(
                ctx, util::error_at(ctx.config_given ? ctx.line.at_value({"-c", "--config"})
                                                     : ctx.line.at_token("init"),
                                    fmt::format("{} exists already", config),
                                    "give --force to overwrite it, or -c OTHER.yaml"));
        std::string dir = util::parent_directory(config);
        std::string hostfile = ctx.options.hostfile;
        bool write_hostfile = hostfile.empty();
        if (write_hostfile) hostfile = "hostfile";
        if (!write_hostfile && !util::file_exists(hostfile))
            return report_error(ctx, util::error_at(ctx.line.at_value({"--hostfile"}),
                                                    fmt::format("no hostfile {}", hostfile),
                                                    "give an existing one, or leave "
                                                    "--hostfile out for a starter"));
        std::string written = util::resolve_path(dir, hostfile);
        if (write_hostfile && util::file_exists(written) && !*force)
            write_hostfile = false; // the one there is kept
        // The config names the hostfile relative to its own folder when it can.
        std::string shown = hostfile;
        if (!write_hostfile) {
            std::error_code ec;
            auto relative = fs::relative(fs::absolute(hostfile, ec), fs::absolute(dir, ec), ec);
            if (!ec && !relative.empty() && relative.native().rfind("..", 0) != 0)
                shown = relative.string();
            else
                shown = fs::absolute(hostfile, ec).string();
        }
        std::string text = k_starter;
        text.replace(text.find("{hostfile}"), 10, shown);
        if (!write_new(config, text))
            return report_error(ctx, util::error_at(ctx.line.at_arg(0),
                                                    fmt::format("cannot write {}", config),
                                                    "check the folder's permissions"));
        if (write_hostfile && !write_new(written, k_starter_hostfile))
            return report_error(ctx, util::error_at(ctx.line.at_arg(0),
                                                    fmt::format("cannot write {}", written),
                                                    "check the folder's permissions"));
        ctx.err << fmt::format("clusterctl: wrote {}{}; next: edit them, then clusterctl{} "
                               "validate\n",
                               config, write_hostfile ? " and " + written : "",
                               ctx.config_given ? " -c " + config : "");
        return report::to_int(report::ExitCode::success);
    };
}

} // namespace clusterctl::cli
