#include "clusterctl/exec/executor.hpp"

#include "clusterctl/config/host_list.hpp"
#include "clusterctl/exec/line_stream.hpp"
#include "clusterctl/exec/remote_wrapper.hpp"
#include "clusterctl/exec/ssh_transport.hpp"
#include "clusterctl/exec/task_result.hpp"
#include "clusterctl/exec/timer_heap.hpp"
#include "clusterctl/exec/transport.hpp"

#include <algorithm>
#include <deque>
#include <fmt/format.h>
#include <memory>
#include <poll.h>

namespace clusterctl::exec {
namespace {

using report::HostState;
using report::StepStatus;

constexpr std::size_t k_shared_owner = SIZE_MAX - 1; // a poll entry of the transport's own

// How long a stopping host has: the wrapper's grace period (TERM .. KILL), and 5 s more for
// its exit status to come back, before the connection is dropped.
std::chrono::seconds stop_window(const ExecutorOptions& options) {
    return std::chrono::seconds(options.grace_s + 5);
}

// 1, 2, 4 ... 30 s: a host rebooting, an sshd at MaxStartups or a flaky download recovers.
std::chrono::seconds retry_delay(int attempt) {
    return std::chrono::seconds(std::min(30, 1 << std::min(std::max(attempt, 1) - 1, 5)));
}

double seconds_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

// One host through the whole run.
struct HostRun {
    enum class Mode { waiting, connecting, idle, running, finished };

    std::size_t index = 0;
    const config::HostSpec* spec = nullptr;
    std::unique_ptr<HostLink> link; // its way in, kept from stage to stage
    Mode mode = Mode::waiting;
    int tasks_left = 0;

    // The task of the current stage.
    const plan::Task* task = nullptr;
    bool running_script = false; // a script (else a transfer)
    bool timed_out = false, cancelled = false;
    int task_attempts = 0; // of the current stage's command, for Stage::retries

    Clock::time_point started = k_never, task_started = k_never;
    Clock::time_point connect_deadline = k_never, task_deadline = k_never;
    Clock::time_point stop_deadline = k_never, retry_at = k_never;
    Clock::time_point start_deadline = k_never; // the task's start must be seen by then
    Clock::time_point armed = k_never;          // the deadline the timer heap holds

    std::optional<LineStream> lines; // what its commands print
    report::HostOutcome outcome;
};

class Executor {
public:
    Executor(const plan::LaunchPlan& plan, const config::SecretStore& secrets,
             const ExecutorOptions& options, RunObserver& observer, InterruptWatch& interrupts,
             Transport& transport)
        : m_plan(plan), m_secrets(secrets), m_options(options), m_observer(observer),
          m_interrupts(interrupts), m_transport(transport) {
        m_hosts.resize(plan.hosts.size());
        for (std::size_t i = 0; i < m_hosts.size(); ++i) {
            m_hosts[i].index = i;
            m_hosts[i].spec = &plan.hosts[i];
            m_hosts[i].outcome.host = plan.hosts[i].name;
            m_hosts[i].lines.emplace(i, secrets, observer);
        }
        for (const auto& stage : plan.stages)
            for (const auto& task : stage.tasks)
                ++m_hosts[task.host].tasks_left;
    }

    report::RunSummary run();

private:
    void run_stage(const plan::Stage& stage);
    void start(HostRun& h);
    void begin_task(HostRun& h);
    void step(HostRun& h);
    void on_data(HostRun& h, bool is_stderr, std::string_view data);
    void on_reported_failure(HostRun& h);
    void end_task(HostRun& h);
    TaskEnd task_end(const HostRun& h) const;
    void connection_failed(HostRun& h);
    void on_deadline(HostRun& h, Clock::time_point now);
    void rearm(HostRun& h);
    void finish(HostRun& h, HostState state, std::string stage, std::string message);
    void cancel_all(const std::string& why);
    void stop_after_stage(const plan::Stage& stage);
    void abort_all();
    void handle_interrupts();
    void report_progress();
    void step_behind_shared();
    bool is_active(const HostRun& h) const {
        return h.mode == HostRun::Mode::connecting || h.mode == HostRun::Mode::running;
    }

    const plan::LaunchPlan& m_plan;
    const config::SecretStore& m_secrets;
    const ExecutorOptions& m_options;
    RunObserver& m_observer;
    InterruptWatch& m_interrupts;
    Transport& m_transport;
    std::vector<HostRun> m_hosts;
    TimerHeap m_timers;
    std::deque<const plan::Task*> m_queue; // tasks of this stage not started yet
    const plan::Stage* m_stage = nullptr;
    std::size_t m_active = 0;
    std::vector<std::size_t> m_stage_failures; // hosts that failed the current stage
    std::optional<std::size_t> m_first_failure;
    bool m_cancelling = false, m_interrupted = false, m_aborted = false;
    int m_interrupts_seen = 0;
    Clock::time_point m_last_progress{};
};

void Executor::finish(HostRun& h, HostState state, std::string stage, std::string message) {
    if (h.mode == HostRun::Mode::finished) return;
    if (is_active(h)) --m_active;
    h.mode = HostRun::Mode::finished;
    h.outcome.state = state;
    h.outcome.stage = std::move(stage);
    h.outcome.message = std::move(message);
    h.outcome.duration_s = h.started == k_never ? 0 : seconds_between(h.started, m_transport.now());
    h.outcome.last_lines = h.lines->tail().lines();
    h.link.reset(); // an SSH link shuts its socket down first: a hung host cannot block this
    m_timers.disarm(h.index);
    h.armed = k_never;
    m_observer.on_host_end(h.index, h.outcome);
    if (state != HostState::failed) return;
    if (!m_first_failure) m_first_failure = h.index;
    if (m_stage) m_stage_failures.push_back(h.index);
    if (!m_cancelling && m_options.fail_fast)
        cancel_all(fmt::format("{} failed (--fail-fast)", h.outcome.host));
    else if (!m_cancelling && m_stage && m_stage->fail_fast)
        cancel_all(fmt::format("{} failed its {}", h.outcome.host, m_stage->name));
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

// The transport's shared parts (jump sessions) moved: the hosts waiting on them go on.
void Executor::step_behind_shared() {
    for (auto& h : m_hosts)
        if (h.mode == HostRun::Mode::connecting && h.link && h.link->behind_shared()) step(h);
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
    TaskSpec task;
    if (m_stage->kind == plan::StageKind::fetch) {
        task = FetchTask{h.task->files.front()};
    } else if (m_stage->kind == plan::StageKind::push) {
        task = PushTask{h.task->files};
    } else {
        std::string script = plan::render_script(h.task->command, [&](std::string_view name) {
            const std::string* value = m_secrets.find(name);
            return value ? *value : std::string();
        });
        task = RunTask{wrapper_input(script, m_options.grace_s)};
    }
    if (std::string error = h.link->start(std::move(task), h.task_started); !error.empty()) {
        finish(h, HostState::failed, "push", std::move(error));
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
            finish(h, HostState::cancelled, "connect", "cancelled before it started");
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

// The command said it failed but has not exited (torchrun waiting at its exit barrier):
// it counts as failed now, is stopped like a cancelled one, and fail-fast acts at once.
void Executor::on_reported_failure(HostRun& h) {
    h.cancelled = true;
    h.lines->freeze_tail();
    h.link->cancel();
    h.stop_deadline = m_transport.now() + stop_window(m_options);
    if (!m_first_failure) m_first_failure = h.index;
    if (!m_cancelling && (m_options.fail_fast || m_stage->fail_fast))
        cancel_all(fmt::format("{} reported a failure (exit {}) in its {}", h.outcome.host,
                               *h.lines->reported_exit(), m_stage->name));
    if (h.mode == HostRun::Mode::running) step(h);
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
    report::StepResult step{m_stage->name, StepStatus::ok, std::nullopt,
                            seconds_between(h.task_started, now), h.lines->process_group()};
    TaskVerdict verdict =
        judge(task_end(h), m_stage->name, m_options.command_timeout_s, h.lines->tail());
    if (verdict.signal) h.outcome.signal = *verdict.signal;
    if (verdict.exit_code) step.exit_code = h.outcome.exit_code = verdict.exit_code;
    HostState state = verdict.state;
    if (retry_command(verdict, m_cancelling, h.task_attempts, m_stage->retries)) {
        // A command that may fail for a while (a download): again on the same session.
        ++h.task_attempts;
        auto delay = retry_delay(h.task_attempts);
        m_observer.on_warning(fmt::format(
            "{}: {} failed (exit {}); attempt {} of {} in {} s", h.outcome.host, m_stage->name,
            *step.exit_code, h.task_attempts + 1, m_stage->retries + 1, delay.count()));
        h.link->end_task();
        --m_active;
        h.mode = HostRun::Mode::waiting;
        h.task_deadline = h.stop_deadline = h.start_deadline = k_never;
        h.retry_at = now + delay;
        m_queue.push_back(h.task);
        rearm(h);
        return;
    }
    step.status = state == HostState::done
                      ? (h.lines->skipped() ? StepStatus::skipped : StepStatus::ok)
                  : state == HostState::failed ? StepStatus::failed
                                               : StepStatus::cancelled;
    h.outcome.steps.push_back(step);
    m_observer.on_step_end(h.index, step);
    h.link->end_task();
    h.task = nullptr;
    if (state != HostState::done) {
        finish(h, state, std::move(verdict.stage), std::move(verdict.message));
        return;
    }
    // Idle, it keeps its connection for the next stage (and no longer counts as active).
    --m_active;
    h.mode = HostRun::Mode::idle;
    h.task_deadline = h.stop_deadline = h.start_deadline = k_never;
    rearm(h);
    if (--h.tasks_left == 0) finish(h, HostState::done, "", "");
}

void Executor::connection_failed(HostRun& h) {
    LinkFailure failure = h.link->failure();
    h.link.reset();
    if (failure.retryable && h.outcome.attempts <= m_options.retries && !m_cancelling) {
        auto delay = retry_delay(h.outcome.attempts);
        m_observer.on_warning(fmt::format("{}: {} failed ({}); retrying in {} s", h.outcome.host,
                                          failure.stage, failure.message, delay.count()));
        --m_active;
        h.mode = HostRun::Mode::waiting;
        h.retry_at = m_transport.now() + delay;
        m_queue.push_back(h.task);
        rearm(h);
        return;
    }
    finish(h, HostState::failed, failure.stage, failure.message);
}

void Executor::rearm(HostRun& h) {
    Clock::time_point when = k_never;
    if (h.mode == HostRun::Mode::connecting)
        when = std::min(h.connect_deadline, h.link->deadline());
    else if (h.mode == HostRun::Mode::running)
        when = std::min({h.task_deadline, h.stop_deadline, h.start_deadline, h.link->deadline()});
    else if (h.mode == HostRun::Mode::waiting)
        when = h.retry_at;
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
    if (h.mode == HostRun::Mode::connecting && now >= h.connect_deadline) {
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
               timed_out ? "timeout" : (m_stage ? m_stage->name : "exec"),
               fmt::format("did not stop within {} s; connection dropped, the host kills the "
                           "command when it sees the connection go",
                           stop_window(m_options).count()));
        return;
    }
    if (now >= h.start_deadline) {
        finish(
            h, HostState::failed, "session",
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
        h.task_deadline = k_never;
        h.stop_deadline = now + stop_window(m_options);
        if (h.running_script) h.link->cancel();
    }
    if (h.mode == HostRun::Mode::running) step(h);
    if (h.mode == HostRun::Mode::running) rearm(h);
}

void Executor::cancel_all(const std::string& why) {
    if (m_cancelling) return;
    m_cancelling = true;
    m_observer.on_warning(fmt::format("stopping every host: {}", why));
    Clock::time_point now = m_transport.now();
    for (const plan::Task* task : m_queue) {
        HostRun& h = m_hosts[task->host];
        if (h.mode == HostRun::Mode::waiting || h.mode == HostRun::Mode::idle)
            finish(h, HostState::cancelled, m_stage->name, "not started");
    }
    m_queue.clear();
    for (auto& h : m_hosts) {
        if (h.mode == HostRun::Mode::connecting) {
            finish(h, HostState::cancelled, "connect", "cancelled while connecting");
        } else if (h.mode == HostRun::Mode::running && !h.cancelled) {
            h.cancelled = true;
            if (h.running_script && h.link->cancel()) {
                h.stop_deadline = std::min(h.stop_deadline, now + stop_window(m_options));
                step(h);
            } else {
                finish(h, HostState::cancelled, m_stage->name, "stopped");
            }
        } else if (h.mode == HostRun::Mode::idle || h.mode == HostRun::Mode::waiting) {
            finish(h, HostState::cancelled, "", "later steps not run");
        }
    }
}

void Executor::abort_all() {
    m_aborted = true;
    for (auto& h : m_hosts)
        if (h.mode != HostRun::Mode::finished)
            finish(h, HostState::cancelled, h.mode == HostRun::Mode::running ? "exec" : "",
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

void Executor::report_progress() {
    for (const auto& warning : m_transport.take_warnings())
        m_observer.on_warning(warning);
    // Counting every host on every loop turn would sit on the output path: 10 times a
    // second is what a progress line shows anyway.
    Clock::time_point now = m_transport.now();
    if (now - m_last_progress < std::chrono::milliseconds(100)) return;
    m_last_progress = now;
    Progress p;
    p.total = m_hosts.size();
    p.stage = m_stage ? m_stage->name : "";
    for (const auto& h : m_hosts) {
        switch (h.mode) {
        case HostRun::Mode::waiting:
        case HostRun::Mode::idle:
            ++p.waiting;
            break;
        case HostRun::Mode::connecting:
            ++p.connecting;
            break;
        case HostRun::Mode::running:
            ++p.running;
            break;
        case HostRun::Mode::finished:
            ++(h.outcome.state == HostState::done ? p.done : p.failed);
            break;
        }
    }
    m_observer.on_progress(p);
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
        if (h.mode != HostRun::Mode::finished) finish(h, HostState::cancelled, "", why);
}

void Executor::run_stage(const plan::Stage& stage) {
    m_stage = &stage;
    m_stage_failures.clear();
    for (const auto& task : stage.tasks) {
        HostRun& h = m_hosts[task.host];
        if (h.mode == HostRun::Mode::finished) continue;
        h.task = &task;
        h.task_attempts = 0;
        m_queue.push_back(&task);
    }
    std::vector<pollfd> fds;
    std::vector<std::size_t> owners;
    std::vector<std::pair<int, short>> shared_fds, link_fds;
    while (!m_aborted && (!m_queue.empty() || m_active > 0)) {
        Clock::time_point now = m_transport.now();
        // Start what the fan-out allows; a host waiting out a retry backoff keeps its turn.
        std::size_t waiting = m_queue.size();
        while (m_active < static_cast<std::size_t>(std::max(1, m_options.fanout)) &&
               waiting-- > 0) {
            const plan::Task* task = m_queue.front();
            m_queue.pop_front();
            HostRun& h = m_hosts[task->host];
            if (h.mode == HostRun::Mode::finished) continue;
            if (h.retry_at != k_never && h.retry_at > now) {
                m_queue.push_back(task);
                continue;
            }
            h.retry_at = k_never;
            h.task = task;
            start(h);
        }
        if (m_queue.empty() && m_active == 0) break; // they all ended as they started
        fds.clear();
        owners.clear();
        fds.push_back({m_interrupts.fd(), POLLIN, 0});
        owners.push_back(SIZE_MAX);
        for (auto& h : m_hosts) {
            if (!is_active(h) || !h.link) continue;
            link_fds.clear();
            h.link->poll_set(link_fds);
            for (auto [fd, events] : link_fds) {
                fds.push_back({fd, events, 0});
                owners.push_back(h.index);
            }
        }
        shared_fds.clear();
        m_transport.shared_fds(shared_fds);
        for (auto [fd, events] : shared_fds) {
            fds.push_back({fd, events, 0});
            owners.push_back(k_shared_owner);
        }
        int timeout_ms = 1000;
        if (auto next = m_timers.next()) {
            auto ms = std::chrono::ceil<std::chrono::milliseconds>(*next - now).count();
            timeout_ms = static_cast<int>(std::clamp<long long>(ms, 0, 1000));
        }
        // A task waiting for its retry slot wakes the loop when its time comes.
        int ready = m_transport.wait(fds, timeout_ms);
        if (ready < 0 && errno != EINTR) break;
        handle_interrupts();
        if (m_aborted) break;
        bool shared_ready = false;
        for (std::size_t i = 1; ready > 0 && i < fds.size(); ++i) {
            if (fds[i].revents == 0) continue;
            if (owners[i] == k_shared_owner) {
                shared_ready = true;
                continue;
            }
            // A host with several fds ready is stepped once.
            if (i > 1 && owners[i] == owners[i - 1] && fds[i - 1].revents != 0) continue;
            HostRun& h = m_hosts[owners[i]];
            if (is_active(h)) step(h);
        }
        if (shared_ready) {
            m_transport.advance_shared();
            step_behind_shared();
        }
        m_timers.expire(m_transport.now(), [&](std::size_t owner) {
            HostRun& h = m_hosts[owner];
            if (h.mode != HostRun::Mode::finished) on_deadline(h, m_transport.now());
        });
        m_observer.flush();
        report_progress();
    }
}

report::RunSummary Executor::run() {
    Clock::time_point began = m_transport.now();
    if (std::string warning = m_transport.prepare(m_hosts.size(), m_options.fanout);
        !warning.empty())
        m_observer.on_warning(warning);
    for (const auto& stage : m_plan.stages) {
        if (m_cancelling || m_aborted) break;
        run_stage(stage);
        if (stage.all_must_pass && !m_stage_failures.empty() && !m_cancelling && !m_aborted)
            stop_after_stage(stage);
    }
    for (auto& h : m_hosts) {
        if (h.mode == HostRun::Mode::finished) continue;
        if (m_cancelling || m_aborted)
            finish(h, HostState::cancelled, "", "not run");
        else if (h.tasks_left == 0 || h.mode == HostRun::Mode::idle)
            finish(h, HostState::done, "", "");
        else
            finish(h, HostState::cancelled, "", "not run");
    }
    m_observer.flush();
    report::RunSummary summary;
    summary.action = m_plan.action;
    summary.job_id = m_plan.job_id;
    summary.interrupted = m_interrupted;
    summary.duration_s = seconds_between(began, m_transport.now());
    summary.first_failure = m_first_failure;
    for (const auto& stage : m_plan.stages)
        summary.stages.push_back(stage.name);
    for (auto& h : m_hosts)
        summary.hosts.push_back(std::move(h.outcome));
    return summary;
}

} // namespace

report::RunSummary execute(const plan::LaunchPlan& plan, const config::SecretStore& secrets,
                           const ExecutorOptions& options, RunObserver& observer,
                           InterruptWatch& interrupts) {
    auto transport = make_ssh_transport(options.agent_socket);
    return execute(plan, secrets, options, observer, interrupts, *transport);
}

report::RunSummary execute(const plan::LaunchPlan& plan, const config::SecretStore& secrets,
                           const ExecutorOptions& options, RunObserver& observer,
                           InterruptWatch& interrupts, Transport& transport) {
    Executor executor(plan, secrets, options, observer, interrupts, transport);
    return executor.run();
}

} // namespace clusterctl::exec
