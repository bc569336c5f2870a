#include "clusterctl/exec/interrupt.hpp"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <unistd.h>

namespace clusterctl::exec {
namespace {

int g_pipe[2] = {-1, -1};
volatile std::sig_atomic_t g_count = 0;

void on_signal(int) {
    int saved = errno;
    g_count = g_count + 1;
    char byte = 1;
    [[maybe_unused]] auto n = ::write(g_pipe[1], &byte, 1);
    errno = saved;
}

} // namespace

InterruptWatch::InterruptWatch() {
    if (::pipe2(g_pipe, O_CLOEXEC | O_NONBLOCK) != 0) g_pipe[0] = g_pipe[1] = -1;
    g_count = 0;
    struct sigaction action {};
    action.sa_handler = on_signal;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGINT, &action, &m_saved[0]);
    ::sigaction(SIGTERM, &action, &m_saved[1]);
}

InterruptWatch::~InterruptWatch() {
    ::sigaction(SIGINT, &m_saved[0], nullptr);
    ::sigaction(SIGTERM, &m_saved[1], nullptr);
    for (int& fd : g_pipe) {
        if (fd >= 0) ::close(fd);
        fd = -1;
    }
}

int InterruptWatch::fd() const {
    return g_pipe[0];
}

int InterruptWatch::count() {
    char buffer[64];
    while (g_pipe[0] >= 0 && ::read(g_pipe[0], buffer, sizeof buffer) > 0) {
    }
    return static_cast<int>(g_count);
}

} // namespace clusterctl::exec
