// Stopping hosts: what a failure sets off (--fail-fast, a stage's own fail-fast), a
// failure a command reports before it exits (torchrun at its exit barrier), a stage every
// host had to pass, and the interrupts (the first stops every host politely, the second
// drops every connection).
#include "clusterctl/config/host_list.hpp"
#include "engine.hpp"

#include <fmt/format.h>

namespace clusterctl::exec {

using report::FailureStage;
using report::HostState;

void Executor::after_failure(const HostRun& h) {
    if (!m_first_failure) m_first_failure = h.index;
    if (m_stage) m_stage_failures.push_back(h.index);
    if (!m_cancelling && m_options.fail_fast)
        cancel_all(fmt::format("{} failed (--fail-fast)", h.outcome.host));
    else if (!m_cancelling && m_stage && m_stage->fail_fast)
        cancel_all(fmt::format("{} failed its {}", h.outcome.host, m_stage->name));
}

// The command said it failed but has not exited (torchrun waiting at its exit barrier):
// it counts as failed now, is stopped like a cancelled one, and fail-fast acts at once.
void Executor::on_reported_failure(HostRun& h) {
    h.cancelled = true;
    h.lines->stopping(m_stage->quiet_teardown);
    h.link->cancel();
    h.stop_deadline = m_transport.now() + stop_window(m_options);
    if (!m_first_failure) m_first_failure = h.index;
    if (!m_cancelling && (m_options.fail_fast || m_stage->fail_fast))
        cancel_all(fmt::format("{} reported a failure (exit {}) in its {}", h.outcome.host,
                               *h.lines->reported_exit(), m_stage->name));
    if (h.mode == HostRun::Mode::running) step(h);
}

void Executor::cancel_all(const std::string& why) {
    if (m_cancelling) return;
    m_cancelling = true;
    m_observer.on_warning(fmt::format("stopping every host: {}", why));
    Clock::time_point now = m_transport.now();
    for (const plan::Task* task : m_queue) {
        HostRun& h = m_hosts[task->host];
        if (h.mode == HostRun::Mode::waiting || h.mode == HostRun::Mode::idle)
            finish(h, HostState::cancelled, FailureStage::in_step, "not started");
    }
    m_queue.clear();
    for (auto& h : m_hosts) {
        if (h.mode == HostRun::Mode::connecting) {
            finish(h, HostState::cancelled, FailureStage::connect, "cancelled while connecting");
        } else if (h.mode == HostRun::Mode::running && !h.cancelled) {
            h.cancelled = true;
            h.lines->stopping(m_stage->quiet_teardown);
            if (h.running_script && h.link->cancel()) {
                h.stop_deadline = std::min(h.stop_deadline, now + stop_window(m_options));
                step(h);
            } else {
                finish(h, HostState::cancelled, FailureStage::in_step, "stopped");
            }
        } else if (h.mode == HostRun::Mode::idle || h.mode == HostRun::Mode::waiting) {
            finish(h, HostState::cancelled, FailureStage::none, "later steps not run");
        }
    }
}

// After a stage every host had to pass: the hosts still waiting for the next stages are
// told which hosts failed, and nothing more runs.
void Executor::stop_after_stage(const plan::Stage& stage) {
    std::vector<std::string> names;
    for (std::size_t i : m_stage_failures)
        names.push_back(m_hosts[i].outcome.host);
    m_cancelling = true;
    std::string why =
        fmt::format("not started: {} failed on {}", stage.name, config::fold_host_list(names));
    for (auto& h : m_hosts)
        if (h.mode != HostRun::Mode::finished)
            finish(h, HostState::cancelled, FailureStage::none, why);
}

void Executor::abort_all() {
    m_aborted = true;
    for (auto& h : m_hosts)
        if (h.mode != HostRun::Mode::finished)
            finish(h, HostState::cancelled,
                   h.mode == HostRun::Mode::running ? FailureStage::exec : FailureStage::none,
                   "aborted (second interrupt): connection dropped, the host kills the command "
                   "when it sees the connection go");
    m_queue.clear();
}

void Executor::handle_interrupts() {
    int seen = m_interrupts.count();
    if (seen == m_interrupts_seen) return;
    m_interrupts_seen = seen;
    m_interrupted = true;
    if (seen >= 2) {
        abort_all();
        return;
    }
    cancel_all("interrupted; press Ctrl-C again to drop every connection now");
}

} // namespace clusterctl::exec
