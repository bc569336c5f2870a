#include "clusterctl/ssh/proxy_command.hpp"

#include "clusterctl/util/strings.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace clusterctl::ssh {
namespace {

constexpr std::size_t k_explained_bytes = 400;

// The status of a process that has ended, or "is still running".
std::string ended(pid_t pid) {
    siginfo_t info{};
    // WNOWAIT: look without reaping; the destructor reaps. A process that has just closed
    // the socket is usually a few milliseconds from being a zombie: wait that long for it.
    for (int tries = 0; tries < 20; ++tries) {
        if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0)
            return "has ended";
        if (info.si_pid != 0) break;
        ::usleep(5000);
    }
    if (info.si_pid == 0) return "is still running";
    if (info.si_code == CLD_EXITED) return fmt::format("exited {}", info.si_status);
    return fmt::format("was killed by signal {}", info.si_status);
}

} // namespace

ProxyCommand::ProxyCommand(const std::string& command) : m_command(command) {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
        m_error = fmt::format("socketpair: {}", std::strerror(errno));
        return;
    }
    util::UniqueFd ours(pair[0]), theirs(pair[1]);
    int err = ::memfd_create("clusterctl-proxycommand-stderr", MFD_CLOEXEC);
    if (err < 0) {
        m_error = fmt::format("memfd_create: {}", std::strerror(errno));
        return;
    }
    m_stderr.reset(err);
    std::string script = "exec " + command;
    m_pid = ::fork();
    if (m_pid == 0) {
        ::setsid();
        ::dup2(theirs.get(), 0);
        ::dup2(theirs.get(), 1);
        ::dup2(m_stderr.get(), 2);
        ::execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    if (m_pid < 0) {
        m_error = fmt::format("fork: {}", std::strerror(errno));
        return;
    }
    ::fcntl(ours.get(), F_SETFL, ::fcntl(ours.get(), F_GETFL) | O_NONBLOCK);
    m_socket = std::move(ours);
}

ProxyCommand::~ProxyCommand() {
    m_socket.reset();
    if (m_pid <= 0) return;
    ::kill(-m_pid, SIGHUP);
    if (::waitpid(m_pid, nullptr, WNOHANG) == m_pid) return;
    ::kill(-m_pid, SIGKILL);
    ::waitpid(m_pid, nullptr, 0);
}

std::string ProxyCommand::explain() const {
    std::string said;
    if (m_stderr) {
        off_t size = ::lseek(m_stderr.get(), 0, SEEK_END);
        if (size > 0) {
            off_t from = size > static_cast<off_t>(k_explained_bytes)
                             ? size - static_cast<off_t>(k_explained_bytes)
                             : 0;
            said.resize(static_cast<std::size_t>(size - from));
            ssize_t n = ::pread(m_stderr.get(), said.data(), said.size(), from);
            said.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
        }
    }
    while (!said.empty() && (said.back() == '\n' || said.back() == '\r'))
        said.pop_back();
    std::string text = fmt::format("ProxyCommand {} {}", util::quoted(m_command),
                                   m_pid > 0 ? ended(m_pid) : "did not start");
    if (!said.empty()) text += ": " + util::escape_control(said);
    return text;
}

} // namespace clusterctl::ssh
