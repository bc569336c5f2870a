#pragma once
// ProxyCommand: a local process whose stdin and stdout carry one SSH connection (nc, ssh
// -W, a corporate proxy's helper), as ssh(1) runs it: /bin/sh -c "exec COMMAND", in a
// process group of its own. Its stdin and stdout are one end of a socketpair; the other end
// is the connection's socket, so the loop polls it as it polls a TCP socket. What it writes
// to stderr is kept (in memory, never blocking it) to explain a connection that fails.
// The process is ended (SIGHUP to its group, as ssh does, then SIGKILL) and reaped when
// this is destroyed: nothing is left behind.

#include "clusterctl/util/unique_fd.hpp"

#include <string>
#include <sys/types.h>

namespace clusterctl::ssh {

class ProxyCommand {
public:
    // `command` has its %-tokens expanded already (config::expand_proxy_command).
    explicit ProxyCommand(const std::string& command);
    ~ProxyCommand();
    ProxyCommand(const ProxyCommand&) = delete;
    ProxyCommand& operator=(const ProxyCommand&) = delete;

    // Empty when it started; else why not.
    const std::string& error() const { return m_error; }
    // The connection's end of the socketpair; the caller owns it from then on.
    int take_socket() { return m_socket.release(); }
    // For a failed connection: "ProxyCommand 'nc x 22' exited 1: nc: ..." (what it said on
    // stderr, the last line or two), or that it is still running.
    std::string explain() const;

private:
    std::string m_command, m_error;
    pid_t m_pid = -1;
    util::UniqueFd m_socket;
    util::UniqueFd m_stderr; // a memfd the process writes its stderr to
};

} // namespace clusterctl::ssh
