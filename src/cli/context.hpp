#pragma once
// What every subcommand receives: the global options, the command line (for locating
// errors), the environment and the two output streams. Private to cli/.

#include "clusterctl/cli/app.hpp"
#include "clusterctl/cli/command_line.hpp"
#include "clusterctl/util/environment.hpp"
#include "clusterctl/util/result.hpp"

#include <CLI/CLI.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>

namespace clusterctl::cli {

struct GlobalOptions {
    std::string config_path = "clusterctl.yaml";
    std::string hostfile;
    std::string hosts;   // -w
    std::string exclude; // -x
    std::string ssh_config;
    std::string fanout;          // validated later, so a bad value gets its column
    std::string connect_timeout; // seconds
    std::string timeout;         // seconds
    std::string log_dir;
    std::string job_id;            // names the run: logs, rendezvous id
    std::string retries;           // connection attempts after the first
    std::vector<std::string> sets; // --set KEY=VALUE over the config's values
    std::vector<std::string> envs; // --env NAME=VALUE into its env:
    bool no_prefix = false;
    bool gather = false;
    bool dry_run = false;
    bool json = false;
    int verbose = 0;
    bool quiet = false;
};

struct Context {
    GlobalOptions options;
    const CommandLine& line;
    const util::Environment& env;
    std::ostream& out;
    std::ostream& err;
    Terminal terminal;
    bool config_given = false;
    bool fail_fast = false;       // set by the commands that take --fail-fast
    bool secrets_needed = true;   // false: status, logs, stop (they mask what they can)
    bool lines_to_stderr = false; // the hosts' lines go to stderr (train --detach: stdout is
                                  // the job id alone)
    // The warnings said so far in this run, shared by its rebound copies: a warning about
    // the inputs is said once, however often they are read.
    std::shared_ptr<std::set<std::string>> warned = std::make_shared<std::set<std::string>>();
};

// `ctx` as it is, but with another environment and stdout (a run inside an allocation, a
// run whose lines are not shown).
inline Context rebound(const Context& ctx, const util::Environment& env, std::ostream& out) {
    return Context{ctx.options,
                   ctx.line,
                   env,
                   out,
                   ctx.err,
                   ctx.terminal,
                   ctx.config_given,
                   ctx.fail_fast,
                   ctx.secrets_needed,
                   ctx.lines_to_stderr,
                   ctx.warned};
}

using CommandAction = std::function<int(Context&)>;
using CommandTable = std::map<CLI::App*, CommandAction>;

// Prints "FILE:LINE:COL: error: ..." on stderr and returns exit code 2.
int report_error(Context& ctx, const util::Diagnostic& d);

// The whole command line (global options, every subcommand, its flags, help and action):
// what run() parses, and what the man page and the shell completions are made from.
void define_commands(CLI::App& app, GlobalOptions& options, CommandTable& table);

// Every subcommand registers itself here: its flags, its help example, its action.
void set_hosts_command(CLI::App& app, CommandTable& table);
void set_validate_command(CLI::App& app, CommandTable& table);
void set_init_command(CLI::App& app, CommandTable& table);
void set_render_command(CLI::App& app, CommandTable& table);
void set_schema_command(CLI::App& app, CommandTable& table);
void set_completion_command(CLI::App& app, CommandTable& table); // and the hidden `manpage`

// Made from define_commands (cli/help_formats.cpp): the man page (roff), and the
// completion script of "bash" or "zsh".
std::string man_page();
std::string completion_script(std::string_view shell);
void set_exec_command(CLI::App& app, CommandTable& table);
void set_push_command(CLI::App& app, CommandTable& table);
void set_setup_command(CLI::App& app, CommandTable& table);
void set_download_command(CLI::App& app, CommandTable& table);
void set_check_command(CLI::App& app, CommandTable& table);
void set_train_command(CLI::App& app, CommandTable& table);
void set_job_commands(CLI::App& app, CommandTable& table); // status, logs, stop, supervise, jobs,
                                                           // stacks

} // namespace clusterctl::cli
