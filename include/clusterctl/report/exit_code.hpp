#pragma once
// clusterctl's exit codes: a contract with the scripts and CI jobs that call it.

namespace clusterctl::report {

enum class ExitCode : int {
    success = 0,
    remote_failure = 1, // a remote command failed or a host could not be reached
    usage = 2,          // bad flags, config, hostfile or ssh_config: nothing was run
    internal = 70,      // a bug in clusterctl (sysexits' EX_SOFTWARE): please report it
    interrupted = 130,  // Ctrl-C (SIGINT) or SIGTERM
};

constexpr int to_int(ExitCode code) {
    return static_cast<int>(code);
}

} // namespace clusterctl::report
