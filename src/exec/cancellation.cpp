// Stopping hosts: what a failure sets off (--fail-fast, a stage's own fail-fast), a
// failure a command reports before it exits (torchrun at its exit barrier), a stage every
// host had to pass, a hang (exec/hang_watch.hpp), and the interrupts (the first stops every host
// politely, the second drops every connection).
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

// Once a second is often enough: a hang is minutes of silence.
void Executor::check_hang(Clock::time_point now) {
    if (!m_hang || m_cancelling || now < m_hang_check) return;
    m_hang_check = now + std::chrono::seconds(1);
    if (auto found = m_hang->check(now)) declare_hang(*found);
}

// The hang is named, every rank's stack taken (ExecutorOptions::on_hang) while the ranks
// still run, and then, unless the job is to be left running, the job is torn down as
// fail-fast would: the node of the rank that is not where the others are (else the
// longest silent) counts as the failure, the others as stopped.
void Executor::declare_hang(const HangFinding& found) {
    report::HangReport hang;
    hang.kind = found.kind;
    hang.limit_s = found.limit_s;
    hang.silence_s = found.silence_s;
    hang.stopped = m_stage->hang->stop;
    for (const auto& s : found.silent)
        hang.silent.push_back({m_hosts[s.host].outcome.host, s.local_rank, s.silent_s});
    m_observer.on_warning(fmt::format("hang: {}; taking every rank's stack", describe(hang)));
    if (m_options.on_hang) m_options.on_hang(hang);
    m_hang_report = hang;
    if (!hang.stopped) {
        m_observer.on_warning("train.on_hang is wait: the job is left running");
        return;
    }
    // Who is named: the node of a rank not where the others are (the stacks say), else
    // the silent ranks' nodes (all silent: the longest silent's).
    std::vector<std::size_t> named;
    for (auto& h : m_hosts) {
        bool silent = std::any_of(found.silent.begin(), found.silent.end(),
                                  [&](const auto& s) { return s.host == h.index; });
        if (!hang.suspect_node.empty()) {
            if (h.outcome.host != hang.suspect_node) continue;
            h.hung = fmt::format("hang: {} not where the others are (see the stacks)",
                                 hang.suspects.front());
        } else if (found.kind == report::HangReport::Kind::all_silent) {
            if (found.silent.empty() || found.silent.front().host != h.index) continue;
            h.hung = "hang: silent longest, " + describe(hang.silent.front());
        } else if (silent) {
            h.hung = "hang: " + describe(hang);
        } else {
            continue;
        }
        named.push_back(h.index);
    }
    if (!m_first_failure && !named.empty()) m_first_failure = named.front();
    cancel_all("hang: " + describe(hang));
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
