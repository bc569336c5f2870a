// The engine's loop: stages one after another, the fan-out queue, one poll() for every
// host's fds and the transport's own, the timer heap, progress, and the run's summary.
#include "clusterctl/exec/ssh_transport.hpp"
#include "engine.hpp"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>

namespace clusterctl::exec {
namespace {

constexpr std::size_t k_interrupt_owner = SIZE_MAX;
constexpr std::size_t k_shared_owner = SIZE_MAX - 1; // a poll entry of the transport's own

} // namespace

using report::HostState;

Executor::Executor(const plan::LaunchPlan& plan, const config::SecretStore& secrets,
                   const ExecutorOptions& options, RunObserver& observer,
                   InterruptWatch& interrupts, Transport& transport)
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
        bool done =
            !m_cancelling && !m_aborted && (h.tasks_left == 0 || h.mode == HostRun::Mode::idle);
        finish(h, done ? HostState::done : HostState::cancelled, report::FailureStage::none,
               done ? "" : "not run");
    }
    m_observer.flush();
    return summary(began);
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
    if (stage.hang && stage.hang->timeout_s > 0) {
        m_hang.emplace(*stage.hang, m_hosts.size(), m_transport.now());
        for (auto& h : m_hosts)
            h.lines->watch_for_hang(&*m_hang);
    }
    while (!m_aborted && (!m_queue.empty() || m_active > 0)) {
        start_queued(m_transport.now());
        if (m_queue.empty() && m_active == 0) break; // they all ended as they started
        poll_once();
    }
    for (auto& h : m_hosts)
        h.lines->watch_for_hang(nullptr);
    m_hang.reset();
}

// Starts what the fan-out allows; a host waiting out a retry backoff keeps its turn.
void Executor::start_queued(Clock::time_point now) {
    std::size_t waiting = m_queue.size();
    while (m_active < static_cast<std::size_t>(std::max(1, m_options.fanout)) && waiting-- > 0) {
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
}

// One turn of the loop: wait for any fd or the next deadline (1 s at most: a task waiting
// for its retry slot wakes the loop when its time comes), then step whatever moved.
void Executor::poll_once() {
    m_fds.clear();
    m_owners.clear();
    m_fds.push_back({m_interrupts.fd(), POLLIN, 0});
    m_owners.push_back(k_interrupt_owner);
    for (auto& h : m_hosts) {
        if (!h.active() || !h.link) continue;
        h.link->poll_set(m_fds);
        m_owners.resize(m_fds.size(), h.index);
    }
    m_transport.shared_fds(m_fds);
    m_owners.resize(m_fds.size(), k_shared_owner);

    int timeout_ms = 1000;
    if (auto next = m_timers.next()) {
        auto ms = std::chrono::ceil<std::chrono::milliseconds>(*next - m_transport.now()).count();
        timeout_ms = static_cast<int>(std::clamp<long long>(ms, 0, 1000));
    }
    int ready = m_transport.wait(m_fds, timeout_ms);
    if (ready < 0 && errno != EINTR) {
        // Nothing can be waited on any more: every host ends now, its connection dropped.
        std::string why = fmt::format("poll: {}", std::strerror(errno));
        m_aborted = true;
        for (auto& h : m_hosts)
            if (h.mode != HostRun::Mode::finished)
                finish(h, HostState::failed, report::FailureStage::in_step, why);
        return;
    }
    handle_interrupts();
    if (m_aborted) return;
    bool shared_ready = false;
    for (std::size_t i = 1; ready > 0 && i < m_fds.size(); ++i) {
        if (m_fds[i].revents == 0) continue;
        if (m_owners[i] == k_shared_owner) {
            shared_ready = true;
            continue;
        }
        // A host with several fds ready is stepped once.
        if (m_owners[i] == m_owners[i - 1] && m_fds[i - 1].revents != 0) continue;
        HostRun& h = m_hosts[m_owners[i]];
        if (h.active()) step(h);
    }
    if (shared_ready) {
        m_transport.advance_shared();
        step_behind_shared();
    }
    m_timers.expire(m_transport.now(), [&](std::size_t owner) {
        HostRun& h = m_hosts[owner];
        if (h.mode != HostRun::Mode::finished) on_deadline(h, m_transport.now());
    });
    check_hang(m_transport.now());
    m_observer.flush();
    report_progress();
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

report::RunSummary Executor::summary(Clock::time_point began) {
    report::RunSummary summary;
    summary.action = plan::to_string(m_plan.action);
    summary.job_id = m_plan.job_id;
    summary.interrupted = m_interrupted;
    summary.duration_s = seconds_between(began, m_transport.now());
    summary.first_failure = m_first_failure;
    summary.hang = std::move(m_hang_report);
    for (const auto& stage : m_plan.stages)
        summary.stages.push_back(stage.name);
    for (auto& h : m_hosts)
        summary.hosts.push_back(std::move(h.outcome));
    return summary;
}

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
