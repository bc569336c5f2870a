#pragma once
// Why something failed, in which stage, and whether trying again may help: the one Failure
// of clusterctl. A host's connection fails with one, so does any transport's link. (A
// Result's error is a Diagnostic, carried by util::Unexpected.)

#include <string>
#include <string_view>

namespace clusterctl::util {

// Where a host failed or was stopped: the `stage` of summary.json and of the summary line.
enum class FailureStage {
    none,      // it did not fail
    resolve,   // its name did not resolve
    connect,   // TCP (or the jump host's tunnel) did not connect
    handshake, // SSH key exchange
    hostkey,   // known_hosts refused the host's key
    auth,      // no key was accepted
    lost,      // it stopped answering keepalives while connected
    session,   // logged in, but the server closed the session before the command started
    channel,   // the channel broke before an exit status came
    exec,      // the command ran and failed (its exit code says how)
    timeout,   // --timeout killed it
    push,      // copying files to it failed
    fetch,     // copying files from it failed
    hang,      // its ranks fell silent (train.hang_timeout) and it was stopped
    in_step,   // cancelled or stopped while in a plan step: the outcome's step names it
};

std::string_view to_string(FailureStage stage);

struct Failure {
    FailureStage stage = FailureStage::none;
    std::string message;
    bool retryable = false; // a connection failure that --retries may try again
};

} // namespace clusterctl::util
