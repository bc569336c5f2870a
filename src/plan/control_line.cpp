#include "clusterctl/plan/control_line.hpp"

namespace clusterctl::plan {

std::optional<ControlLine> parse_control_line(std::string_view line) {
    if (line.substr(0, k_control_prefix.size()) != k_control_prefix) return std::nullopt;
    line.remove_prefix(k_control_prefix.size());
    ControlLine control;
    auto space = line.find(' ');
    control.word = std::string(line.substr(0, space));
    if (space != std::string_view::npos) control.argument = std::string(line.substr(space + 1));
    return control;
}

std::string control_line_command(std::string_view word, std::string_view shell_argument,
                                 bool to_stdout) {
    // printf's octal escape spells the record separator: the script stays plain text.
    std::string command = "printf '\\036";
    command.append(k_control_prefix.substr(1));
    command.append(word);
    std::string redirect = to_stdout ? "" : " >&2";
    if (shell_argument.empty()) return command + "\\n'" + redirect;
    return command + " %s\\n' " + std::string(shell_argument) + redirect;
}

} // namespace clusterctl::plan
