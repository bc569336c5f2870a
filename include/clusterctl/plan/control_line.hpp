#pragma once
// The one protocol by which a remote script talks to clusterctl: lines on stderr that start
// with k_control_prefix (an ASCII record separator, then "clusterctl:"), a word and an
// optional argument. The executor takes them out of the output the user sees. Words:
//   pgid N    the remote wrapper, first thing: the command's process group (summary.json)
//   skipped   a setup step whose `creates:` path exists did not run
//   job S     a detached job's state on the node (status, logs -f, the supervisor's watch):
//             "running PID", "exited CODE", "stopped CODE", "lost" or "none"
// and, on both stdout and stderr, the Slurm transport's own (exec/slurm_transport.cpp takes
// them out before the executor sees a line; plan/slurm.hpp writes them):
//   node NAME the task's Slurm node, before anything else: binds srun's label to a host
//   exit N    the node's script ended with N: everything it printed has come
// Both sides are here: the shell that writes a line, and the parser that reads it.

#include <optional>
#include <string>
#include <string_view>

namespace clusterctl::plan {

inline constexpr std::string_view k_control_prefix = "\x1e"
                                                     "clusterctl:";
inline constexpr std::string_view k_control_pgid = "pgid";
inline constexpr std::string_view k_control_skipped = "skipped";
inline constexpr std::string_view k_control_job = "job";
inline constexpr std::string_view k_control_node = "node";
inline constexpr std::string_view k_control_exit = "exit";

struct ControlLine {
    std::string word;
    std::string argument;
};

std::optional<ControlLine> parse_control_line(std::string_view line);

// The shell command that writes the control line WORD with the shell text ARGUMENT
// (already shell: "$$"), e.g. printf '\036clusterctl:pgid %s\n' "$$" >&2; on stdout when
// `to_stdout`.
std::string control_line_command(std::string_view word, std::string_view shell_argument = {},
                                 bool to_stdout = false);

} // namespace clusterctl::plan
