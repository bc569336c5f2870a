#pragma once
// The local transport (cluster.backend: local): every host is this machine. A script runs
// as sshd would run it, through the same remote wrapper, in a session of its own with its
// stdin, stdout and stderr on pipes the loop polls: closing stdin stops it, exactly as a
// dropped SSH channel does. Files are copied, not sent. For a job on one GPU box with the
// same config, and for the engine without SSH. No process is left: the wrapper's watchdog
// sees stdin close when clusterctl stops or goes.

#include "clusterctl/exec/transport.hpp"

#include <memory>

namespace clusterctl::exec {

std::unique_ptr<Transport> make_local_transport();

} // namespace clusterctl::exec
