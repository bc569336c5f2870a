#include "clusterctl/exec/task_result.hpp"

#include <algorithm>
#include <csignal>
#include <fmt/format.h>

namespace clusterctl::exec {
namespace {

using report::HostState;
using util::FailureStage;

struct SignalName {
    int number;
    const char* name; // as sshd reports it: no "SIG"
};
constexpr SignalName k_signals[] = {
    {SIGHUP, "HUP"},   {SIGINT, "INT"},   {SIGQUIT, "QUIT"}, {SIGILL, "ILL"},   {SIGABRT, "ABRT"},
    {SIGFPE, "FPE"},   {SIGKILL, "KILL"}, {SIGSEGV, "SEGV"}, {SIGPIPE, "PIPE"}, {SIGALRM, "ALRM"},
    {SIGTERM, "TERM"}, {SIGUSR1, "USR1"}, {SIGUSR2, "USR2"}, {SIGBUS, "BUS"}};

constexpr const char* k_server_log_hint =
    "the server's log says why (a ChrootDirectory, ForceCommand or Subsystem it refused, "
    "a login shell that fails)";

// A command whose session ended before the wrapper's first line: what it printed, if
// anything, is the best clue.
std::string never_started(int code, const LineTail& tail) {
    auto lines = tail.lines();
    if (lines.empty())
        return fmt::format("the server closed the session after login, before the command "
                           "started (exit {}, nothing printed); {}",
                           code, k_server_log_hint);
    return fmt::format("the command did not start (exit {}): {}", code, lines.back());
}

// An exit status (or signal) as the step's verdict.
TaskVerdict judge_exit(const TaskEnd& end, const LineTail& tail) {
    TaskVerdict v;
    int code = end.exit_status;
    if (!end.exit_signal.empty()) {
        v.signal = end.exit_signal;
        code = 128 + signal_number(end.exit_signal);
    } else if (code > 128 && signal_name(code - 128)) {
        v.signal = signal_name(code - 128);
    } else {
        v.signal = "";
    }
    v.exit_code = code;
    if (code == 0) return v;
    v.state = HostState::failed;
    v.stage = FailureStage::exec;
    if (v.signal->empty() && (code == k_exit_not_found || code == k_exit_not_executable))
        v.message = code == k_exit_not_found ? "command not found (exit 127)"
                                             : "command not executable (exit 126)";
    if (!end.started && !end.cancelled && !end.timed_out) {
        // The wrapper's first act is its pgid line: the command never started.
        v.stage = FailureStage::session;
        v.message = never_started(code, tail);
    }
    return v;
}

} // namespace

int signal_number(const std::string& name) {
    for (const auto& s : k_signals)
        if (name == s.name) return s.number;
    return 0;
}

const char* signal_name(int number) {
    for (const auto& s : k_signals)
        if (number == s.number) return s.name;
    return nullptr;
}

TaskVerdict judge(const TaskEnd& end, int command_timeout_s, const LineTail& tail) {
    TaskVerdict v;
    switch (end.how) {
    case TaskEnd::How::exited:
        v = judge_exit(end, tail);
        break;
    case TaskEnd::How::channel_failed:
        v = {HostState::failed, FailureStage::channel, end.error, std::nullopt, std::nullopt};
        break;
    case TaskEnd::How::transfer_failed:
        v = {HostState::failed, end.transfer_stage, end.error, std::nullopt, std::nullopt};
        break;
    case TaskEnd::How::transferred:
        break;
    case TaskEnd::How::host_lost:
        v = {HostState::failed, FailureStage::lost, end.error, std::nullopt, std::nullopt};
        break;
    }
    if (end.timed_out) {
        v.state = HostState::failed;
        v.stage = FailureStage::timeout;
        v.message = fmt::format("still running after --timeout {} s; its process group was killed",
                                command_timeout_s);
    } else if (end.reported_exit) {
        v.state = HostState::failed;
        v.stage = FailureStage::exec;
        // torchrun writes a worker killed by signal N as exit code -N.
        int code = *end.reported_exit;
        const char* name = code < 0 ? signal_name(-code) : nullptr;
        v.signal = name ? name : "";
        v.exit_code = name ? 128 - code : code;
        v.message = "stopped after it reported the failure";
    } else if (end.cancelled || end.stopped_with_others) {
        v.state = HostState::cancelled;
        v.stage = FailureStage::in_step;
        v.message = "stopped";
    }
    return v;
}

std::string start_timed_out(const std::string& what, int seconds) {
    return fmt::format("the server closed the session after login: {} did not start within {} s "
                       "of login (ConnectTimeout); {}",
                       what, seconds, k_server_log_hint);
}

bool retry_command(const TaskVerdict& verdict, bool cancelling, int attempts, int retries) {
    bool missing =
        verdict.exit_code == k_exit_not_found || verdict.exit_code == k_exit_not_executable;
    return verdict.state == HostState::failed && verdict.stage == FailureStage::exec && !missing &&
           !cancelling && attempts < retries;
}

std::chrono::seconds retry_delay(int attempt) {
    return std::chrono::seconds(std::min(30, 1 << std::min(std::max(attempt, 1) - 1, 5)));
}

} // namespace clusterctl::exec
