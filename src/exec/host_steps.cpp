// One host's life in the engine: connect (again after a retryable failure), start the
// stage's task on its link, stream what it prints, judge how the task ended, and act on
// its deadlines (connect timeout, the task's start, --timeout, the stop window, the link's
// own keepalives).
#include "clusterctl/exec/task_result.hpp"
#include "clusterctl/exec/task_spec.hpp"
#include "engine.hpp"

#include <fmt/format.h>

namespace clusterctl::exec {

using report::FailureStage;
using report::HostState;
using report::StepStatus;

void Executor::finish(HostRun& h, HostState state, FailureStage stage, std::string message) {
    if (h.mode == HostRun::Mode::finished) return;
    if (h.active()) --m_active;
    if (!h.hung.empty() && state == HostState::cancelled) {
        // Its ranks were the silent ones, or not where the others were: the job's failure.
        state = HostState::failed;
        stage = FailureStage::hang;
        message = h.hung;
    }
    h.mode = HostRun::Mode::finished;
    h.outcome.state = state;
    h.outcome.stage = stage;
    h.outcome.step = h.task && m_stage ? m_stage->name : "";
    h.outcome.message = std::move(message);
    h.outcome.duration_s = h.started == k_never ? 0 : seconds_between(h.started, m_transport.now());
    h.outcome.last_lines = h.lines->tail().lines();
    h.link.reset(); // an SSH link shuts its socket down first: a hung host cannot block this
    m_timers.disarm(h.index);
    h.armed = k_never;
    m_observer.on_host_end(h.index, h.outcome);
    if (state == HostState::failed) after_failure(h);
}

void Executor::start(HostRun& h) {
    Clock::time_point now = m_transport.now();
    if (h.started == k_never) h.started = now;
    ++m_active;
    if (h.link && h.link->phase() == HostLink::Phase::ready) {
        h.mode = HostRun::Mode::running;
        begin_task(h);
        return;
    }
    ++h.outcome.attempts;
    h.mode = HostRun::Mode::connecting;
    h.connect_deadline = now + std::chrono::seconds(std::max(1, h.spec->connect_timeout_s));
    h.link.reset(); // a failed attempt's first
    h.link = m_transport.connect(*h.spec);
    if (h.link->behind_shared()) step_behind_shared();
    step(h);
}

// The transport's shared parts (jump sessions, a Slurm step's srun) moved: the hosts
// waiting on them, connecting or running, go on.
void Executor::step_behind_shared() {
    for (auto& h : m_hosts)
        if ((h.mode == HostRun::Mode::connecting || h.mode == HostRun::Mode::running) && h.link &&
            h.link->behind_shared())
            step(h);
}

void Executor::begin_task(HostRun& h) {
    h.task_started = m_transport.now();
    h.timed_out = false;
    h.lines->begin(m_stage->failure_line);
    // A server may log a user in, then close the session it opens for the command (a
    // ChrootDirectory or ForceCommand it refuses): the command's start (the wrapper's
    // pgid line, SFTP's version) must come within the login's own limit.
    h.start_deadline =
        h.task_started + std::chrono::seconds(std::max(1, h.spec->connect_timeout_s));
    h.task_deadline = m_options.command_timeout_s > 0
                          ? h.task_started + std::chrono::seconds(m_options.command_timeout_s)
                          : k_never;
    h.running_script = m_stage->kind == plan::StageKind::run;
    TaskSpec task = task_for(*m_stage, *h.task, m_secrets, m_options.grace_s);
    if (std::string error = h.link->start(std::move(task), h.task_started); !error.empty()) {
        finish(h, HostState::failed, FailureStage::push, std::move(error));
        return;
    }
    step(h);
}

void Executor::step(HostRun& h) {
    if (h.mode == HostRun::Mode::connecting) {
        h.link->advance([](bool, std::string_view) {});
        if (h.link->phase() == HostLink::Phase::failed) return connection_failed(h);
        if (h.link->phase() != HostLink::Phase::ready) return rearm(h);
        h.mode = HostRun::Mode::running;
        if (m_cancelling) {
            finish(h, HostState::cancelled, FailureStage::connect, "cancelled before it started");
            return;
        }
        begin_task(h);
        return;
    }
    if (h.mode != HostRun::Mode::running) return;
    h.link->advance([&](bool is_stderr, std::string_view data) { on_data(h, is_stderr, data); });
    if (h.running_script && h.lines->reported_exit() && !h.cancelled) return on_reported_failure(h);
    if (!h.running_script && h.link->transfer_started()) h.start_deadline = k_never;
    if (!h.link->task_done()) return rearm(h);
    end_task(h);
}

void Executor::on_data(HostRun& h, bool is_stderr, std::string_view data) {
    (is_stderr ? h.outcome.bytes_err : h.outcome.bytes_out) += data.size();
    h.lines->feed(is_stderr, data, m_transport.now());
    if (h.lines->process_group()) h.start_deadline = k_never; // the wrapper has started
}

// What the host's transport says of the task that ended.
TaskEnd Executor::task_end(const HostRun& h) const {
    TaskEnd end = h.link->task_end();
    end.started = h.lines->process_group().has_value();
    end.timed_out = h.timed_out;
    end.cancelled = h.cancelled;
    end.reported_exit = h.lines->reported_exit();
    return end;
}

void Executor::end_task(HostRun& h) {
    Clock::time_point now = m_transport.now();
    h.lines->flush();
    report::StepResult step{m_stage->name,
                            StepStatus::ok,
                            std::nullopt,
                            seconds_between(h.task_started, now),
                            h.lines->process_group(),
                            h.lines->job_state()};
    TaskVerdict verdict = judge(task_end(h), m_options.command_timeout_s, h.lines->tail());
    if (verdict.signal) h.outcome.signal = *verdict.signal;
    if (verdict.exit_code) step.exit_code = h.outcome.exit_code = verdict.exit_code;
    if (retry_command(verdict, m_cancelling, h.task_attempts, m_stage->retries)) {
        // A command that may fail for a while (a download): again on the same session.
        ++h.task_attempts;
        auto delay = retry_delay(h.task_attempts);
        m_observer.on_warning(fmt::format(
            "{}: {} failed (exit {}); attempt {} of {} in {} s", h.outcome.host, m_stage->name,
            *step.exit_code, h.task_attempts + 1, m_stage->retries + 1, delay.count()));
        h.link->end_task();
        requeue(h, now + delay);
        return;
    }
    step.status = verdict.state == HostState::done
                      ? (h.lines->skipped() ? StepStatus::skipped : StepStatus::ok)
                  : verdict.state == HostState::failed ? StepStatus::failed
                                                       : StepStatus::cancelled;
    h.outcome.steps.push_back(step);
    m_observer.on_step_end(h.index, step);
    h.link->end_task();
    if (verdict.state != HostState::done) {
        if (verdict.exit_code == k_exit_not_found && !m_stage->not_found_hint.empty())
            verdict.message += "; " + m_stage->not_found_hint;
        finish(h, verdict.state, verdict.stage, std::move(verdict.message));
        return;
    }
    // Idle, it keeps its connection for the next stage (and no longer counts as active).
    h.task = nullptr;
    --m_active;
    h.mode = HostRun::Mode::idle;
    h.clear_task_deadlines();
    rearm(h);
    if (--h.tasks_left == 0) finish(h, HostState::done, FailureStage::none, "");
}

// Back in the queue, its turn at `at` (a retry's backoff).
void Executor::requeue(HostRun& h, Clock::time_point at) {
    --m_active;
    h.mode = HostRun::Mode::waiting;
    h.clear_task_deadlines();
    h.retry_at = at;
    m_queue.push_back(h.task);
    rearm(h);
}

void Executor::connection_failed(HostRun& h) {
    LinkFailure failure = h.link->failure();
    h.link.reset();
    if (failure.retryable && h.outcome.attempts <= m_options.retries && !m_cancelling) {
        auto delay = retry_delay(h.outcome.attempts);
        m_observer.on_warning(fmt::format("{}: {} failed ({}); retrying in {} s", h.outcome.host,
                                          util::to_string(failure.stage), failure.message,
                                          delay.count()));
        requeue(h, m_transport.now() + delay);
        return;
    }
    finish(h, HostState::failed, failure.stage, failure.message);
}

void Executor::rearm(HostRun& h) {
    Clock::time_point when = h.next_deadline();
    if (when == h.armed) return;
    h.armed = when;
    if (when == k_never)
        m_timers.disarm(h.index);
    else
        m_timers.arm(h.index, when);
}

void Executor::on_deadline(HostRun& h, Clock::time_point now) {
    h.armed = k_never; // the heap let go of it
    if (h.mode == HostRun::Mode::connecting && now < h.connect_deadline) {
        step(h); // the link's own deadline: it may have got somewhere
        return;
    }
    if (h.mode == HostRun::Mode::connecting) {
        h.link->fail(h.link->stage(),
                     fmt::format("no answer within {} s (ConnectTimeout, covers TCP, key "
                                 "exchange and login)",
                                 h.spec->connect_timeout_s),
                     true);
        connection_failed(h);
        return;
    }
    if (h.mode != HostRun::Mode::running) return; // waiting: the start loop takes it
    if (now >= h.stop_deadline) {
        // It did not stop in time: drop the connection. sshd then closes the wrapper's
        // stdin, and its watchdog kills the process group on the host.
        bool timed_out = h.timed_out;
        finish(h, timed_out ? HostState::failed : HostState::cancelled,
               timed_out ? FailureStage::timeout : FailureStage::in_step,
               fmt::format("did not stop within {} s; connection dropped, the host kills the "
                           "command when it sees the connection go",
                           stop_window(m_options).count()));
        return;
    }
    if (now >= h.start_deadline) {
        finish(
            h, HostState::failed, FailureStage::session,
            start_timed_out(h.running_script ? "the command" : "SFTP", h.spec->connect_timeout_s));
        return;
    }
    if (now >= h.link->deadline()) {
        h.link->on_deadline(now); // keepalives; a silent host is lost
        if (h.link->phase() == HostLink::Phase::failed) {
            const LinkFailure& failure = h.link->failure();
            finish(h, HostState::failed, failure.stage, failure.message);
            return;
        }
    }
    if (now >= h.task_deadline && !h.timed_out) {
        h.timed_out = true;
        h.lines->stopping(m_stage->quiet_teardown);
        h.task_deadline = k_never;
        h.stop_deadline = now + stop_window(m_options);
        if (h.running_script) h.link->cancel();
    }
    if (h.mode == HostRun::Mode::running) step(h);
    if (h.mode == HostRun::Mode::running) rearm(h);
}

} // namespace clusterctl::exec
