#pragma once
// The end of a run, told three ways: the exit code, a summary for people (stderr) and a
// summary for programs (summary.json, and the last line of --json).

#include "clusterctl/report/exit_code.hpp"
#include "clusterctl/report/host_outcome.hpp"

#include <nlohmann/json_fwd.hpp>
#include <string>

namespace clusterctl::report {

// 0 when every host is done, 130 when interrupted, 1 otherwise.
ExitCode exit_code_of(const RunSummary& summary);

// The process's exit code: exit_code_of's, except for `exec`, which returns the largest
// exit code of the remote command (as pdsh -S, clush and srun do), and at least 1 when a
// host could not run it.
int exit_status(const RunSummary& summary);

// "16 hosts: 15 ok, 1 failed (1.2 s)" and, per failed host, its stage, why, and its last
// lines. `color` only on a terminal.
std::string render_summary_text(const RunSummary& summary, bool color);

// Setup's host x step table: one row per group of hosts whose steps ended alike
// ("node-[001-007]  ok  skipped  ok"), a column per stage ("-": not run there).
std::string render_step_table(const RunSummary& summary, bool color);

nlohmann::json summary_json(const RunSummary& summary);

} // namespace clusterctl::report
