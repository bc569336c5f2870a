#pragma once
// The result policy: how a task's end becomes the host's verdict. Whatever reached the host
// (an SSH channel, SFTP) reports a TaskEnd; judge() says whether the step passed, and if
// not, in which stage it failed and why, with the exit code and signal shown; a command
// that failed may be run again (Stage::retries) when retry_command() says so. Pure: the
// rules are tested without a host.

#include "clusterctl/exec/line_tail.hpp"
#include "clusterctl/report/host_outcome.hpp"
#include "clusterctl/util/failure.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace clusterctl::exec {

struct TaskEnd {
    enum class How {
        exited,          // the command ended with exit_status or exit_signal
        channel_failed,  // the channel broke before an exit status came (error says how)
        transfer_failed, // a copy failed (transfer_stage push or fetch, error says how)
        transferred,     // SFTP done
        host_lost,       // the host went away under the task (Slurm's node failure)
    };
    How how = How::exited;
    int exit_status = 0;
    std::string exit_signal; // "TERM": the command died of it, as sshd says
    std::string error;
    util::FailureStage transfer_stage = util::FailureStage::push; // or fetch
    bool started = true; // the wrapper's first line came: the command ran at all
    bool timed_out = false, cancelled = false;
    // The transport stopped it because another host of the stage failed (a Slurm step's
    // --kill-on-bad-exit): stopped, as a fail-fast cancel would have.
    bool stopped_with_others = false;
    std::optional<int> reported_exit; // the stage's failure line said so (torchrun)
};

struct TaskVerdict {
    report::HostState state = report::HostState::done;
    util::FailureStage stage = util::FailureStage::none; // where it failed
    std::string message;                                 // why, for a human
    std::optional<int> exit_code;
    std::optional<std::string> signal; // when set, what the host's outcome says died of
};

// `tail` is what the command printed last. A cancelled task's stage is in_step: the step it
// was stopped in.
TaskVerdict judge(const TaskEnd& end, int command_timeout_s, const LineTail& tail);

// The shell's exit codes for a command it could not find, or could not run: said in words,
// never retried.
inline constexpr int k_exit_not_found = 127, k_exit_not_executable = 126;

// A command that failed on its own (not a connection, not a timeout, not a cancel) and has
// attempts left: the stage's retries are for commands that may fail for a while (a download),
// not for a missing tool.
bool retry_command(const TaskVerdict& verdict, bool cancelling, int attempts, int retries);

// How long before attempt `attempt` + 1, of a connection or a command: 1, 2, 4 ... 30 s (a
// host rebooting, an sshd at MaxStartups or a flaky download recovers).
std::chrono::seconds retry_delay(int attempt);

// A task whose start (the wrapper's first line, SFTP's version) did not come within the
// login's limit: the server closed the session it opened after login.
std::string start_timed_out(const std::string& what, int seconds);

// Signal names as sshd reports them (no "SIG"): "TERM" <-> 15; 0 and nullptr when unknown.
int signal_number(const std::string& name);
const char* signal_name(int number);

} // namespace clusterctl::exec
