#include "clusterctl/exec/remote_wrapper.hpp"

#include "clusterctl/plan/remote_command.hpp"
#include "clusterctl/util/shell_quote.hpp"

#include <fmt/format.h>

namespace clusterctl::exec {
namespace {

// POSIX sh. `read` takes the header a byte at a time and `head -c` exactly the script,
// so nothing of the stream that follows (kept open as the watchdog's stdin) is lost.
constexpr std::string_view k_bootstrap = R"SH(IFS=' ' read -r n g || exit 255
p=$(head -c "$n"; printf .) || exit 255
p=${p%.}
exec 3<&0
CLUSTERCTL_SCRIPT=$p setsid bash -c 'p=$CLUSTERCTL_SCRIPT; unset CLUSTERCTL_SCRIPT; eval "$p"' clusterctl </dev/null &
c=$!
unset p
printf '\036clusterctl:pgid %s\n' "$c" >&2
(
while IFS= read -r l; do :; done
kill -TERM -"$c" 2>/dev/null || exit 0
i=0
while [ "$i" -lt "$((g * 10))" ] && kill -0 -"$c" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
kill -KILL -"$c" 2>/dev/null
) <&3 >/dev/null 2>&1 &
w=$!
exec 3<&-
wait "$c"
r=$?
kill "$w" 2>/dev/null
kill -KILL -"$c" 2>/dev/null
exit "$r")SH";

} // namespace

std::string wrapper_command() {
    return "sh -c " + util::shell_quote(k_bootstrap);
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
