#include "clusterctl/output/progress_line.hpp"

namespace clusterctl::output {

void ProgressLine::update(const std::string& text) {
    if (!m_enabled || text == m_text) return;
    auto now = std::chrono::steady_clock::now();
    if (m_shown && now - m_last < std::chrono::milliseconds(100)) return;
    m_text = text;
    m_last = now;
    redraw();
}

void ProgressLine::clear() {
    if (!m_shown) return;
    m_err << "\r\033[K" << std::flush;
    m_shown = false;
}

void ProgressLine::redraw() {
    if (!m_enabled || m_text.empty()) return;
    m_err << "\r\033[K" << m_text << std::flush;
    m_shown = true;
}

} // namespace clusterctl::output
