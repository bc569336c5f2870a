#pragma once
// The SSH transport: every libssh2 call the engine needs lives below this line (and in
// ssh/). A link is one non-blocking libssh2 session to the host (through a shared jump
// session when ProxyJump says so), kept for all of a plan's stages; a script runs on an
// exec channel through the remote wrapper, files go over SFTP. The link keeps the
// session's keepalives and says a silent host is lost (ServerAliveInterval x
// ServerAliveCountMax, never fewer than two periods of libssh2 1.10's two seconds).

#include "clusterctl/exec/transport.hpp"

#include <memory>

namespace clusterctl::exec {

std::unique_ptr<Transport> make_ssh_transport(std::string agent_socket);

} // namespace clusterctl::exec
