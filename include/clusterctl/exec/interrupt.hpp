#pragma once
// SIGINT and SIGTERM turned into something the event loop can poll: the handler only
// counts and writes a byte to a pipe. The first asks for an orderly stop (remote process
// groups killed, report, exit 130); the second for an immediate one.

#include <signal.h>

namespace clusterctl::exec {

class InterruptWatch {
public:
    InterruptWatch();  // installs the handlers (SA_RESTART)
    ~InterruptWatch(); // restores the previous ones
    InterruptWatch(const InterruptWatch&) = delete;
    InterruptWatch& operator=(const InterruptWatch&) = delete;

    int fd() const; // readable after a signal
    int count();    // signals received so far; drains the pipe

private:
    struct ::sigaction m_saved[2] = {};
};

} // namespace clusterctl::exec
