#include "clusterctl/exec/remote_wrapper.hpp"

#include "clusterctl/plan/remote_command.hpp"
#include "clusterctl/util/shell_quote.hpp"

#include <fmt/format.h>

namespace clusterctl::exec {
namespace {

// bash, run by the session's own shell process (sshd makes it a session leader, so its
// process group is the command's). The header and then exactly LEN bytes of script are
// read with builtins (LC_ALL=C makes `read -N` count bytes), so nothing of the stream that
// follows is consumed. The watchdog is the one process forked: it holds stdin, and EOF
// there (a cancel, or a dropped connection) kills the group: TERM, then KILL once the
// shell is gone or the grace period is over. The script runs in the shell itself, and when
// it ends the EXIT trap sends TERM to what it left in the group. That TERM can miss a
// child forked just before the end, while bash is still between fork and exec (one run in
// twenty, here, with `sleep 9 &` as the whole script), so the watchdog, seeing the shell
// gone, KILLs what is left; it ignores TERM from birth (forked with TERM ignored, which a
// subshell keeps), because such a script also ends before the watchdog has run a line of
// its own. If the script replaces that trap or execs, the watchdog sees the shell gone
// within a second (it polls with `read -t 1`; the shell is gone when the watchdog's parent
// is not it any more, which a zombie shell cannot hide) and kills the rest. A command that
// ends within that second costs the watchdog no look at /proc. The group's id goes back as
// a control line ("pgid N") for the run's summary.
constexpr std::string_view k_bootstrap_head = R"SH(unset b s
IFS=' ' read -r n g || exit 255
LC_ALL=C IFS= read -r -N "$n" p || exit 255
trap '' TERM
{
a() { kill -0 "$$" || return; s=; read -r s </proc/self/stat || return 0; set -- ${s##*) }; [ "$2" = "$$" ]; }
while :; do
IFS= read -r -t 1 l
s=$?
[ "$s" -eq 0 ] || [ "$s" -gt 128 ] || break
a || break
done
kill -TERM -"$$"
i=0
while [ "$i" -lt "$((g * 10))" ] && a; do sleep 0.1; i=$((i + 1)); done
kill -KILL -"$$"
} <&0 >/dev/null 2>&1 &
trap - TERM
exec </dev/null
trap 'r=$?; trap "" TERM; kill -TERM 0 2>/dev/null; exit "$r"' EXIT
)SH";
// ... here the pgid control line (plan/control_line.hpp), then:
constexpr std::string_view k_bootstrap_tail = R"SH(unset n g
eval "$p")SH";

} // namespace

const std::string& wrapper_command() {
    // Any login shell can run this part. The bootstrap kills its process group, so it
    // must lead one: sshd's session shell does (field 3 after the name in
    // /proc/PID/stat is the group); anything else goes through setsid first. A bash
    // login shell runs the bootstrap itself, saving an exec of bash per command. (Asking
    // with `kill -0 -$$` instead made Detach.RunsOnThenStatusLogsAndStop fail one run in
    // six, a `logs -f` ending by SIGTERM, for a saving too small to measure.)
    static const std::string command = fmt::format(
        "b={}\n"
        "s=; read -r s </proc/$$/stat 2>/dev/null; set -- ${{s##*) }}\n"
        "if [ \"${{3-}}\" != \"$$\" ]; then exec setsid -w bash -c \"$b\" clusterctl; fi\n"
        "if [ -n \"${{BASH_VERSION-}}\" ]; then eval \"$b\"; else exec bash -c \"$b\" clusterctl; "
        "fi",
        util::shell_quote(std::string(k_bootstrap_head) +
                          plan::control_line_command(plan::k_control_pgid, "\"$$\"") + "\n" +
                          std::string(k_bootstrap_tail)));
    return command;
}

std::string wrapper_input(std::string_view script, int grace_s) {
    return fmt::format("{} {}\n{}", script.size(), grace_s, script);
}

} // namespace clusterctl::exec
