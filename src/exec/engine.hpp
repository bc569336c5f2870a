#pragma once
// The engine behind exec::execute(), in three files, one concept each:
//   executor.cpp      stages one after another, the fan-out queue, the poll loop, progress,
//                     the summary;
//   host_steps.cpp    one host's life: connect (with retries), start its task, stream its
//                     output, judge its end, its deadlines;
//   cancellation.cpp  stopping hosts: fail-fast, a failure reported before exit, a stage
//                     every host had to pass, a hang, the first and second interrupt.
// A host's engine state is its HostRun; how it reaches the host is its HostLink (the
// transport's state), which the engine never looks inside.

#include "clusterctl/config/secrets.hpp"
#include "clusterctl/exec/executor.hpp"
#include "clusterctl/exec/hang_watch.hpp"
#include "clusterctl/exec/interrupt.hpp"
#include "clusterctl/exec/line_stream.hpp"
#include "clusterctl/exec/run_observer.hpp"
#include "clusterctl/exec/timer_heap.hpp"
#include "clusterctl/exec/transport.hpp"
#include "clusterctl/plan/launch_plan.hpp"
#include "clusterctl/report/host_outcome.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace clusterctl::exec {

// How long a stopping host has: the wrapper's grace period (TERM .. KILL), and 5 s more for
// its exit status to come back, before the connection is dropped.
inline std::chrono::seconds stop_window(const ExecutorOptions& options) {
    return std::chrono::seconds(options.grace_s + 5);
}

inline double seconds_between(Clock::time_point a, Clock::time_point b) {
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
    std::string hung;      // named by a declared hang (why): its stop is its failure
    int task_attempts = 0; // of the current stage's command, for Stage::retries

    Clock::time_point started = k_never, task_started = k_never;
    Clock::time_point connect_deadline = k_never, task_deadline = k_never;
    Clock::time_point stop_deadline = k_never, retry_at = k_never;
    Clock::time_point start_deadline = k_never; // the task's start must be seen by then
    Clock::time_point armed = k_never;          // the deadline the timer heap holds

    std::optional<LineStream> lines; // what its commands print
    report::HostOutcome outcome;

    bool active() const { return mode == Mode::connecting || mode == Mode::running; }
    // The deadline its mode waits for.
    Clock::time_point next_deadline() const {
        switch (mode) {
        case Mode::connecting:
            return std::min(connect_deadline, link->deadline());
        case Mode::running:
            return std::min({task_deadline, stop_deadline, start_deadline, link->deadline()});
        case Mode::waiting:
            return retry_at;
        case Mode::idle:
        case Mode::finished:
            break;
        }
        return k_never;
    }
    void clear_task_deadlines() { task_deadline = stop_deadline = start_deadline = k_never; }
};

class Executor {
public:
    Executor(const plan::LaunchPlan& plan, const config::SecretStore& secrets,
             const ExecutorOptions& options, RunObserver& observer, InterruptWatch& interrupts,
             Transport& transport);

    report::RunSummary run();

private:
    // executor.cpp
    void run_stage(const plan::Stage& stage);
    void start_queued(Clock::time_point now);
    void poll_once();
    void report_progress();
    report::RunSummary summary(Clock::time_point began);

    // host_steps.cpp
    void start(HostRun& h);
    void begin_task(HostRun& h);
    void step(HostRun& h);
    void step_behind_shared();
    void on_data(HostRun& h, bool is_stderr, std::string_view data);
    void end_task(HostRun& h);
    TaskEnd task_end(const HostRun& h) const;
    void requeue(HostRun& h, Clock::time_point at);
    void connection_failed(HostRun& h);
    void on_deadline(HostRun& h, Clock::time_point now);
    void rearm(HostRun& h);
    void finish(HostRun& h, report::HostState state, report::FailureStage stage,
                std::string message);

    // cancellation.cpp
    void on_reported_failure(HostRun& h);
    void after_failure(const HostRun& h);
    void cancel_all(const std::string& why);
    void stop_after_stage(const plan::Stage& stage);
    void abort_all();
    void handle_interrupts();
    void check_hang(Clock::time_point now);
    void declare_hang(const HangFinding& found);

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
    std::optional<HangWatch> m_hang; // the current stage's, when it is watched for one
    Clock::time_point m_hang_check{};
    std::optional<report::HangReport> m_hang_report;
    Clock::time_point m_last_progress{};
    std::vector<pollfd> m_fds;         // the loop's poll set
    std::vector<std::size_t> m_owners; // whose each entry of it is
};

} // namespace clusterctl::exec
