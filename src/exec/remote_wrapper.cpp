#include "clusterctl/exec/remote_wrapper.hpp"

#include "clusterctl/plan/remote_command.hpp"
#include "clusterctl/util/shell_quote.hpp"

#include <fmt/format.h>

namespace clusterctl::exec {
namespace {

// bash. The header and then exactly LEN bytes of script are read with builtins (LC_ALL=C
// makes `read -N` count bytes), so nothing of the stream that follows is consumed and no
// process is started for it. Under `set -m` the script's subshell leads a process group
// of its own; bash's job notices ("[1]+ Done") go to /dev/null while it is on. The watchdog is a
// forked subshell too: it holds stdin, and EOF there (a cancel, or a dropped connection) kills that
// group. Two forks and no exec per command.
constexpr std::string_view k_bootstrap = R"SH(IFS=' ' read -r n g || exit 255
LC_ALL=C IFS= read -r -N "$n" p || exit 255
exec 4>&2 2>/dev/null
set -m
( exec 2>&4 4>&-; unset n g; eval "$p" ) </dev/null &
c=$!
set +m
exec 2>&4 4>&-
unset p
printf '\036clusterctl:pgid %s\n' "$c" >&2
{
while IFS= read -r l; do :; done
kill -TERM -"$c" 2>/dev/null || exit 0
i=0
while [ "$i" -lt "$((g * 10))" ] && kill -0 -"$c" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
kill -KILL -"$c" 2>/dev/null
} <&0 >/dev/null 2>&1 &
w=$!
exec </dev/null
wait "$c"
r=$?
kill "$w" 2>/dev/null
kill -KILL -"$c" 2>/dev/null
exit "$r")SH";

} // namespace

std::string wrapper_command() {
    // A bash login shell runs the bootstrap itself; any other starts bash for it. That
    // saves an exec of bash per command on the usual cluster (one of its few costs).
    return fmt::format(
        "if [ -n \"${{BASH_VERSION-}}\" ]; then\n{}\nelse exec bash -c {} clusterctl; fi",
        k_bootstrap, util::shell_quote(k_bootstrap));
}

std::string wrapper_input(std::string_view script, int grace_s) {
    return fmt::format("{} {}\n{}", script.size(), grace_s, script);
}

std::optional<ControlLine> parse_control_line(std::string_view line) {
    if (line.substr(0, plan::k_control_prefix.size()) != plan::k_control_prefix)
        return std::nullopt;
    line.remove_prefix(plan::k_control_prefix.size());
    ControlLine control;
    auto space = line.find(' ');
    control.word = std::string(line.substr(0, space));
    if (space != std::string_view::npos) control.argument = std::string(line.substr(space + 1));
    return control;
}

} // namespace clusterctl::exec
