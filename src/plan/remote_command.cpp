#include "clusterctl/plan/remote_command.hpp"

#include "clusterctl/plan/control_line.hpp"
#include "clusterctl/util/shell_script.hpp"

namespace clusterctl::plan {

std::string render_script(const RemoteCommand& command, const SecretValue& secret_value) {
    util::ShellScript script;
    for (const auto& var : command.env)
        script.add("export {}={}\n", util::ShellVariable{var.name}, var.value);
    for (const auto& name : command.secrets)
        script.add("export {}={}\n", util::ShellVariable{name}, secret_value(name));
    if (command.activate) script.add_command(*command.activate);
    if (!command.workdir.empty()) script.add("cd -- {} || exit 1\n", command.workdir);
    if (command.creates)
        script.add("if [ -e {} ]; then ", *command.creates)
            .add_command(control_line_command(k_control_skipped) + "; exit 0; fi");
    script.add(command.body);
    if (script.empty() || script.text().back() != '\n') script.add("\n");
    return std::move(script).str();
}

} // namespace clusterctl::plan
