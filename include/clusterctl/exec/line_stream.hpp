#pragma once
// What one host's command prints, as the run shows it. Bytes from its stdout and stderr
// become whole lines; the remote wrapper's control lines (plan/control_line.hpp, on
// stderr) are taken out and kept as facts (the command's process group, a skipped step); a
// line holding the stage's failure line (torchrun's "failed (exitcode: N)") is noticed;
// secrets are masked; a line rewritten with '\r' (a progress bar) shows its latest state at
// most four times a second. The last lines are kept for the summary. Passive and
// clock-free: the caller says what time it is.

#include "clusterctl/config/secrets.hpp"
#include "clusterctl/exec/hang_watch.hpp"
#include "clusterctl/exec/line_splitter.hpp"
#include "clusterctl/exec/line_tail.hpp"
#include "clusterctl/exec/run_observer.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace clusterctl::exec {

class LineStream {
public:
    using Clock = std::chrono::steady_clock;

    LineStream(std::size_t host, const config::SecretStore& secrets, RunObserver& observer)
        : m_host(host), m_secrets(&secrets), m_observer(&observer) {}

    // A new task on the host: `failure_line` ("" for none) is watched for; what the last
    // task said is forgotten.
    void begin(std::string_view failure_line);
    void feed(bool is_stderr, std::string_view data, Clock::time_point now);
    // The task has ended: a last line without its '\n' is a line too.
    void flush();
    // clusterctl is stopping the command (it reported its failure, fail-fast, Ctrl-C, a
    // timeout): the tail keeps the lines from before, and with `lines_apart` the lines from
    // now on are the teardown's (RunObserver::on_teardown_line).
    void stopping(bool lines_apart) {
        m_tail_frozen = true;
        m_lines_apart = lines_apart;
    }

    // The stage is watched for a hang: every line (not the teardown's) goes to `watch` too;
    // nullptr: none.
    void watch_for_hang(HangWatch* watch) { m_hang = watch; }

    bool skipped() const { return m_skipped; }
    std::optional<long> process_group() const { return m_process_group; }
    // A detached job's state on the host, as its `job` control line said ("" when none).
    const std::string& job_state() const { return m_job_state; }
    std::optional<int> reported_exit() const { return m_reported_exit; }
    const LineTail& tail() const { return m_tail; }

private:
    void on_line(bool is_stderr, std::string_view line);

    std::size_t m_host;
    const config::SecretStore* m_secrets;
    RunObserver* m_observer;
    LineSplitter m_out, m_err;
    LineTail m_tail;
    std::string m_failure_line;
    Clock::time_point m_next_status{}, m_now{};
    HangWatch* m_hang = nullptr;
    bool m_skipped = false, m_tail_frozen = false, m_lines_apart = false;
    std::optional<long> m_process_group;
    std::optional<int> m_reported_exit;
    std::string m_job_state;
};

// A '\r'-rewritten line: the text after its last '\r' that has text (tqdm ends with one).
std::string_view after_carriage_return(std::string_view line);

} // namespace clusterctl::exec
