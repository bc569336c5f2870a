#pragma once
// Whoever shows a run (the console, JSON lines, the per-host logs): the executor tells it
// what happens, from the loop's one thread. Lines arrive complete, secrets masked.

#include "clusterctl/report/host_outcome.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace clusterctl::exec {

struct Progress {
    std::size_t total = 0, waiting = 0, connecting = 0, running = 0, done = 0, failed = 0;
    std::string stage;
};

class RunObserver {
public:
    virtual ~RunObserver() = default;
    virtual void on_line(std::size_t host, bool is_stderr, std::string_view line) = 0;
    // A line the host printed after clusterctl began stopping it (Ctrl-C, fail-fast, its
    // own reported failure, a timeout): teardown noise, such as torchrun's SignalException
    // tracebacks, not the failure. Shown as any line unless the observer keeps it aside.
    virtual void on_teardown_line(std::size_t host, bool is_stderr, std::string_view line) {
        on_line(host, is_stderr, line);
    }
    // A line being rewritten in place with '\r' (a progress bar): its latest state, at
    // most a few times a second per host. The line itself comes to on_line at its '\n'.
    virtual void on_status(std::size_t /*host*/, std::string_view /*text*/) {}
    virtual void on_step_end(std::size_t /*host*/, const report::StepResult& /*step*/) {}
    virtual void on_host_end(std::size_t /*host*/, const report::HostOutcome& /*outcome*/) {}
    virtual void on_progress(const Progress& /*progress*/) {}
    virtual void on_warning(std::string_view /*message*/) {}
    virtual void flush() {} // end of a loop turn
};

} // namespace clusterctl::exec
