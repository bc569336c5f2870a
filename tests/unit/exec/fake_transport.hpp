#pragma once
// A transport for the engine's tests: hosts that do what a script says, on a clock of the
// transport's own that wait() moves to the next deadline at once. Nothing is connected and
// nothing sleeps, so a rule that takes seconds in a real run is checked in microseconds.
//
// A fake host connects after connect_ms (or fails, retryable or not, for its first
// failed_connects attempts), then runs each task: it says the wrapper's pgid line, prints
// its lines at their times and exits with exit_code after run_ms; a hanging one runs until
// cancelled and then ends by TERM after stop_ms (or never, when it ignores the cancel).

#include "clusterctl/exec/transport.hpp"
#include "clusterctl/plan/control_line.hpp"

#include <csignal>
#include <map>

namespace clusterctl::exec::fake {

struct HostScript {
    int connect_ms = 5;
    int failed_connects = 0; // the first attempts that fail
    util::FailureStage connect_stage = util::FailureStage::connect;
    bool retryable = true;
    int run_ms = 20;
    int exit_code = 0;
    std::vector<std::pair<int, std::string>> lines; // (ms after the start, line)
    bool hang = false;                              // runs until cancelled
    int stop_ms = 5;                                // from the cancel to its end by TERM
    bool ignores_cancel = false;
};

class FakeTransport;

class FakeLink final : public HostLink {
public:
    FakeLink(FakeTransport& transport, std::string name, const HostScript& script, bool fails);
    ~FakeLink() override;

    Phase phase() const override { return m_phase; }
    const LinkFailure& failure() const override { return m_failure; }
    util::FailureStage stage() const override { return util::FailureStage::connect; }
    void fail(util::FailureStage stage, std::string message, bool retryable) override {
        m_phase = Phase::failed;
        m_failure = {stage, std::move(message), retryable};
    }
    bool behind_shared() const override { return false; }
    void poll_set(std::vector<pollfd>&) const override {}
    void advance(const OutputSink& output) override;
    Clock::time_point deadline() const override;
    void on_deadline(Clock::time_point) override {}
    std::string start(TaskSpec task, Clock::time_point now) override;
    bool task_done() const override { return m_task_done; }
    bool transfer_started() const override { return !m_is_script && m_running; }
    bool cancel() override;
    TaskEnd task_end() const override;
    void end_task() override;

private:
    FakeTransport& m_transport;
    std::string m_name;
    const HostScript& m_script;
    Phase m_phase = Phase::connecting;
    bool m_will_fail;
    LinkFailure m_failure;
    Clock::time_point m_ready_at;
    // The task
    bool m_running = false, m_task_done = false, m_is_script = true, m_pgid_said = false;
    std::size_t m_next_line = 0;
    Clock::time_point m_started{}, m_ends_at = k_never;
    std::string m_signal;
    int m_exit = 0;
};

class FakeTransport final : public Transport {
public:
    explicit FakeTransport(std::map<std::string, HostScript> scripts)
        : m_scripts(std::move(scripts)) {}

    std::string prepare(std::size_t, int) override { return ""; }
    std::unique_ptr<HostLink> connect(const config::HostSpec& host) override {
        int attempt = ++attempts[host.name];
        connect_times[host.name].push_back(m_now);
        const HostScript& script = m_scripts[host.name];
        return std::make_unique<FakeLink>(*this, host.name, script,
                                          attempt <= script.failed_connects);
    }
    void shared_fds(std::vector<pollfd>&) override {}
    void advance_shared() override {}
    std::vector<std::string> take_warnings() override { return {}; }

    Clock::time_point now() const override { return m_now; }
    int wait(std::vector<pollfd>&, int timeout_ms) override {
        Clock::time_point until = m_now + std::chrono::milliseconds(timeout_ms);
        if (!m_interrupts.empty() && m_interrupts.front() <= until) {
            m_now = std::max(m_now, m_interrupts.front());
            m_interrupts.erase(m_interrupts.begin());
            ::raise(SIGINT); // InterruptWatch's handler counts it, as a user's Ctrl-C
            return 0;
        }
        m_now = until;
        return 0;
    }

    // A Ctrl-C at `ms` after the start.
    void interrupt_at(int ms) { m_interrupts.push_back(k_origin + std::chrono::milliseconds(ms)); }
    double ms_since_start(Clock::time_point t) const {
        return std::chrono::duration<double, std::milli>(t - k_origin).count();
    }

    // What the tests look at.
    std::map<std::string, int> attempts;
    std::map<std::string, std::vector<Clock::time_point>> connect_times;
    int running = 0, most_running = 0;
    std::vector<std::string> cancelled;

    static constexpr Clock::time_point k_origin = Clock::time_point{} + std::chrono::hours(1);

private:
    std::map<std::string, HostScript> m_scripts;
    Clock::time_point m_now = k_origin;
    std::vector<Clock::time_point> m_interrupts;
};

inline FakeLink::FakeLink(FakeTransport& transport, std::string name, const HostScript& script,
                          bool fails)
    : m_transport(transport), m_name(std::move(name)), m_script(script), m_will_fail(fails),
      m_ready_at(transport.now() + std::chrono::milliseconds(script.connect_ms)) {}

inline FakeLink::~FakeLink() {
    if (m_running) --m_transport.running;
}

inline void FakeLink::advance(const OutputSink& output) {
    Clock::time_point now = m_transport.now();
    if (m_phase == Phase::connecting) {
        if (now < m_ready_at) return;
        if (m_will_fail)
            fail(m_script.connect_stage, "fake: refused", m_script.retryable);
        else
            m_phase = Phase::ready;
        return;
    }
    if (!m_running) return;
    if (m_is_script && !m_pgid_said) {
        m_pgid_said = true;
        output(true, std::string(plan::k_control_prefix) + "pgid 4242\n");
    }
    while (m_is_script && m_next_line < m_script.lines.size() &&
           m_started + std::chrono::milliseconds(m_script.lines[m_next_line].first) <= now) {
        output(false, m_script.lines[m_next_line].second + "\n");
        ++m_next_line;
    }
    if (now >= m_ends_at) {
        m_running = false;
        m_task_done = true;
        --m_transport.running;
    }
}

inline Clock::time_point FakeLink::deadline() const {
    if (m_phase == Phase::connecting) return m_ready_at;
    if (!m_running) return k_never;
    Clock::time_point next = m_ends_at;
    if (m_is_script && m_next_line < m_script.lines.size())
        next = std::min(next,
                        m_started + std::chrono::milliseconds(m_script.lines[m_next_line].first));
    return next;
}

inline std::string FakeLink::start(TaskSpec task, Clock::time_point now) {
    m_is_script = std::holds_alternative<RunTask>(task);
    m_running = true;
    m_task_done = m_pgid_said = false;
    m_next_line = 0;
    m_started = now;
    m_signal.clear();
    m_exit = m_script.exit_code;
    m_ends_at = m_script.hang ? k_never : now + std::chrono::milliseconds(m_script.run_ms);
    m_transport.most_running = std::max(m_transport.most_running, ++m_transport.running);
    return "";
}

inline bool FakeLink::cancel() {
    if (!m_is_script) return false;
    m_transport.cancelled.push_back(m_name);
    if (m_script.ignores_cancel || !m_running) return true;
    Clock::time_point stop = m_transport.now() + std::chrono::milliseconds(m_script.stop_ms);
    if (stop < m_ends_at) {
        m_ends_at = stop;
        m_signal = "TERM";
    }
    return true;
}

inline TaskEnd FakeLink::task_end() const {
    TaskEnd end;
    if (!m_is_script) {
        end.how = TaskEnd::How::transferred;
        return end;
    }
    end.exit_status = m_signal.empty() ? m_exit : 0;
    end.exit_signal = m_signal;
    return end;
}

inline void FakeLink::end_task() {
    if (m_running) --m_transport.running;
    m_running = false;
    m_task_done = false;
}

} // namespace clusterctl::exec::fake
