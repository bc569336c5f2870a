#include "clusterctl/output/progress_line.hpp"

#include <fmt/format.h>

namespace clusterctl::output {
namespace {

constexpr std::size_t k_status_lines = 8; // more hosts than that: "and N more"

} // namespace

void ProgressLine::update(const std::string& text) {
    if (!m_enabled) return;
    if (text != m_text) {
        m_text = text;
        m_stale = true;
    }
    // The same text again still draws a change that came too soon after the last redraw.
    if (m_stale) maybe_redraw();
}

void ProgressLine::status(const std::string& host, const std::string& text) {
    if (!m_enabled) return;
    if (text.empty()) {
        if (m_status.erase(host) == 0) return;
    } else {
        m_status[host] = text;
    }
    m_stale = true;
    maybe_redraw();
}

void ProgressLine::maybe_redraw() {
    auto now = std::chrono::steady_clock::now();
    if (m_shown_lines > 0 && now - m_last < std::chrono::milliseconds(100)) return;
    m_last = now;
    redraw();
}

void ProgressLine::clear() {
    if (m_shown_lines == 0) return;
    std::string up = m_shown_lines > 1 ? fmt::format("\033[{}A", m_shown_lines - 1) : "";
    m_err << "\r" << up << "\033[J" << std::flush;
    m_shown_lines = 0;
}

void ProgressLine::redraw() {
    if (!m_enabled || (m_text.empty() && m_status.empty())) return;
    clear();
    auto cut = [&](std::string line) {
        if (line.size() >= m_width) line.resize(m_width - 1);
        return line;
    };
    std::string area = cut(m_text);
    std::size_t lines = 1, shown = 0;
    for (const auto& [host, text] : m_status) {
        if (shown++ == k_status_lines) {
            area += "\n" + cut(fmt::format("  and {} more", m_status.size() - k_status_lines));
            ++lines;
            break;
        }
        area += "\n" + cut(fmt::format("  {}: {}", host, text));
        ++lines;
    }
    m_err << area << std::flush;
    m_shown_lines = lines;
    m_stale = false;
}

} // namespace clusterctl::output
