#pragma once
// The small program every host runs for every command. Its command line is fixed and
// holds no value: the script (with the environment and secrets) arrives on stdin, so no
// secret is ever in an argv or /proc/PID/cmdline. The session's shell runs the script in
// a process group of its own, with one forked watchdog that keeps reading stdin: EOF
// there, because clusterctl cancelled or because the connection dropped, kills the whole
// group (TERM, then KILL after the grace period). When the script ends, whatever it left
// in its group is killed too. So no process outlives its clusterctl run.

#include "clusterctl/plan/control_line.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace clusterctl::exec {

// What the exec channel runs: the bootstrap in the login shell when that is bash and
// leads its process group (as sshd's session shell does), else `bash -c '...'` (any
// login shell can start it), through `setsid -w` when the shell leads no group.
const std::string& wrapper_command();

// The wrapper's stdin: "LENGTH GRACE_SECONDS\n" and the script.
std::string wrapper_input(std::string_view script, int grace_s);

// Control lines (the wrapper's "pgid N"): plan/control_line.hpp.
using plan::ControlLine;
using plan::parse_control_line;

} // namespace clusterctl::exec
