#pragma once
// What happened on one host, and on the whole run: the record the summary line, the
// JSON summary and the exit code are all made from.

#include "clusterctl/report/hang_report.hpp"
#include "clusterctl/util/failure.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace clusterctl::report {

// How a host ended. The executor's live modes (connecting, running, ...) are its own;
// an outcome is pending only until the host ends, which every host does before a summary.
enum class HostState {
    pending,
    done,      // every command ran and exited 0 (or was skipped)
    failed,    // a command failed or the host could not be reached; `stage` says where
    cancelled, // stopped by Ctrl-C or --fail-fast
};

std::string_view to_string(HostState state);

using util::FailureStage;

enum class StepStatus { ok, skipped, failed, cancelled };
std::string_view to_string(StepStatus status);

// One stage of the plan on one host.
struct StepResult {
    std::string name;
    StepStatus status = StepStatus::ok;
    std::optional<int> exit_code;
    double duration_s = 0;
    std::optional<long> process_group; // the command's on the host, as its wrapper said
    std::string job; // a detached job's state there, as the step said it ("exited 1", ...)
};

struct HostOutcome {
    std::string host;
    HostState state = HostState::pending;
    FailureStage stage = FailureStage::none; // where it failed or was cancelled
    std::string step;                        // the plan step it was in then ("" between steps)
    std::string message;                     // why, for a human
    std::optional<int> exit_code;
    std::string signal; // "TERM" when the command died of a signal (exit code 128+N)
    double duration_s = 0;
    std::uint64_t bytes_out = 0, bytes_err = 0;
    int attempts = 0;
    std::vector<StepResult> steps;
    std::vector<std::string> last_lines; // the last lines it printed, secrets masked
};

// The stage a host ended in, as summary.json and the summary line name it: connect, auth,
// exec, timeout, ..., or the plan step's name when it was stopped in one.
std::string_view stage_label(const HostOutcome& outcome);

struct RunSummary {
    std::string action;
    std::string job_id;
    std::string log_dir;
    std::vector<HostOutcome> hosts;
    bool interrupted = false;
    double duration_s = 0;
    std::optional<std::size_t> first_failure; // index into hosts: the first host to fail
    std::vector<std::string> stages;          // the plan's stage names, in order
    std::optional<HangReport> hang;           // a hang was declared (train.hang_timeout)
};

} // namespace clusterctl::report
