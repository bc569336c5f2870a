#include "clusterctl/exec/line_stream.hpp"

#include "clusterctl/exec/remote_wrapper.hpp"

#include <cstdlib>
#include <cstring>

namespace clusterctl::exec {

std::string_view after_carriage_return(std::string_view line) {
    // Most lines have no '\r': one memchr says so.
    if (!std::memchr(line.data(), '\r', line.size())) return line;
    while (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
    auto cr = line.rfind('\r');
    return cr == std::string_view::npos ? line : line.substr(cr + 1);
}

void LineStream::begin(std::string_view failure_line) {
    m_failure_line = failure_line;
    m_skipped = m_tail_frozen = m_lines_apart = false;
    m_process_group.reset();
    m_reported_exit.reset();
    m_job_state.clear();
    m_tail.clear(); // the summary shows the failing step's lines
}

void LineStream::feed(bool is_stderr, std::string_view data, Clock::time_point now) {
    m_now = now;
    LineSplitter& splitter = is_stderr ? m_err : m_out;
    splitter.feed(data, [&](std::string_view line) { on_line(is_stderr, line); });
    std::string_view partial = splitter.partial();
    if (partial.find('\r') == std::string_view::npos) return;
    if (now < m_next_status) return;
    // The last complete rewrite: what lies between the last two '\r'.
    partial = partial.substr(0, partial.rfind('\r'));
    std::string_view status = after_carriage_return(partial);
    if (status.empty()) return;
    m_next_status = now + std::chrono::milliseconds(250);
    std::string masked = m_secrets->empty() ? std::string(status) : m_secrets->mask(status);
    m_observer->on_status(m_host, masked);
}

void LineStream::flush() {
    m_out.flush([&](std::string_view line) { on_line(false, line); });
    m_err.flush([&](std::string_view line) { on_line(true, line); });
}

void LineStream::on_line(bool is_stderr, std::string_view line) {
    if (is_stderr) {
        if (auto control = parse_control_line(line)) {
            if (control->word == plan::k_control_skipped) m_skipped = true;
            if (control->word == plan::k_control_pgid)
                m_process_group = std::atol(control->argument.c_str());
            if (control->word == plan::k_control_job) m_job_state = control->argument;
            return;
        }
    }
    line = after_carriage_return(line); // a progress bar's last state, or CRLF's line
    if (m_hang && !m_lines_apart) m_hang->on_line(m_host, line, m_now);
    if (!m_failure_line.empty() && !m_reported_exit) {
        if (auto at = line.find(m_failure_line); at != std::string_view::npos) {
            int code = std::atoi(std::string(line.substr(at + m_failure_line.size(), 4)).c_str());
            m_reported_exit = code != 0 ? code : 1;
        }
    }
    std::string masked;
    if (!m_secrets->empty()) {
        masked = m_secrets->mask(line);
        line = masked;
    }
    if (m_lines_apart) {
        m_observer->on_teardown_line(m_host, is_stderr, line);
        return;
    }
    if (!m_tail_frozen) m_tail.push(line);
    m_observer->on_line(m_host, is_stderr, line);
}

} // namespace clusterctl::exec
