#include "clusterctl/plan/remote_command.hpp"

#include "clusterctl/util/shell_quote.hpp"

#include <fmt/format.h>

namespace clusterctl::plan {

using util::shell_quote;

std::string skipped_control_line() {
    return "printf '\\036clusterctl:skipped\\n' >&2";
}

std::string render_script(const RemoteCommand& command, const SecretValue& secret_value) {
    std::string script;
    for (const auto& var : command.env)
        script += fmt::format("export {}={}\n", var.name, shell_quote(var.value));
    for (const auto& name : command.secrets)
        script += fmt::format("export {}={}\n", name, shell_quote(secret_value(name)));
    if (command.activate) script += *command.activate + "\n";
    if (!command.workdir.empty())
        script += fmt::format("cd -- {} || exit 1\n", shell_quote(command.workdir));
    if (command.creates) {
        script += fmt::format("if [ -e {} ]; then {}; exit 0; fi\n", shell_quote(*command.creates),
                              skipped_control_line());
    }
    script += command.body;
    if (script.empty() || script.back() != '\n') script += '\n';
    return script;
}

} // namespace clusterctl::plan
