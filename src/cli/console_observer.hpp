#pragma once
// Shows a run on the console and on disk: live lines (LiveOutput), the progress line on
// a terminal, per-host logs, and warnings on stderr. Private to cli/.

#include "clusterctl/exec/executor.hpp"
#include "clusterctl/output/live_output.hpp"
#include "clusterctl/output/progress_line.hpp"
#include "clusterctl/output/run_logs.hpp"

#include <fmt/format.h>
#include <ostream>
#include <string>
#include <vector>

namespace clusterctl::cli {

class ConsoleObserver : public exec::RunObserver {
public:
    ConsoleObserver(const std::vector<std::string>& names, output::LiveOutput& live,
                    output::ProgressLine& progress, output::RunLogs* logs, std::ostream& err,
                    bool quiet)
        : m_names(names), m_live(live), m_progress(progress), m_logs(logs), m_err(err),
          m_quiet(quiet) {}

    void on_line(std::size_t host, bool is_stderr, std::string_view line) override {
        m_live.line(host, is_stderr, line);
        if (m_logs) m_logs->line(host, line);
        m_progress.status(m_names[host], ""); // its progress bar, if any, is done
    }
    // What stopped hosts print (a wall of SignalException tracebacks) would bury the
    // failure: it goes to the host's log only, and is counted. Without logs it is shown.
    void on_teardown_line(std::size_t host, bool is_stderr, std::string_view line) override {
        if (!m_logs) return on_line(host, is_stderr, line);
        m_logs->line(host, line);
        ++m_teardown_lines;
    }
    std::size_t teardown_lines() const { return m_teardown_lines; }
    // A progress bar on a terminal: one updating line per host under the counts. Not on
    // a terminal: only the bar's last state, as an ordinary line when it ends.
    void on_status(std::size_t host, std::string_view text) override {
        m_progress.status(m_names[host], std::string(text));
    }
    void on_step_end(std::size_t host, const report::StepResult& step) override {
        m_live.step_end(host, step);
    }
    // A host that could not be reached or went away is said at once; a command's own
    // failure shows in its output, and both in the summary at the end.
    void on_host_end(std::size_t, const report::HostOutcome& outcome) override {
        if (outcome.state == report::HostState::failed &&
            outcome.stage != report::FailureStage::exec)
            on_warning(fmt::format("{} {}: {}", outcome.host, report::stage_label(outcome),
                                   outcome.message));
    }
    void on_progress(const exec::Progress& p) override;
    void on_warning(std::string_view message) override {
        if (m_quiet) return;
        m_progress.clear();
        m_live.flush();
        m_err << "clusterctl: " << message << "\n" << std::flush;
        m_progress.redraw();
    }
    void flush() override {
        if (!m_live.pending()) return;
        m_progress.clear();
        m_live.flush();
        m_progress.redraw();
    }

private:
    const std::vector<std::string>& m_names;
    output::LiveOutput& m_live;
    output::ProgressLine& m_progress;
    output::RunLogs* m_logs;
    std::ostream& m_err;
    bool m_quiet;
    std::size_t m_teardown_lines = 0;
};

} // namespace clusterctl::cli
