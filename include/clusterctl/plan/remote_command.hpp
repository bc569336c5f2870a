#pragma once
// What one host runs for one step: its environment, working directory and shell text.
// Secrets are named here, never valued; render_script() asks for each value, so the
// executor can write the real one (into the wrapper's stdin) and a dry run '***'.

#include "clusterctl/config/training_config.hpp"
#include "clusterctl/util/shell_script.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace clusterctl::plan {

struct RemoteCommand {
    std::vector<config::EnvVar> env;
    std::vector<std::string> secrets; // names
    std::optional<std::string> activate;
    std::string workdir;                // empty: the login directory
    std::optional<std::string> creates; // the step is skipped where this path exists
    util::ShellScript body;             // run by bash; values only ever quoted in it
};

using SecretValue = std::function<std::string(std::string_view name)>;

// The script as bash will run it: exports, activate, cd, the skip test, then the body.
std::string render_script(const RemoteCommand& command, const SecretValue& secret_value);

} // namespace clusterctl::plan
