#pragma once
// The status area on a terminal's stderr while a run goes on: one line of counts
// ("setup: 12/64 done, 40 running, 9 connecting, 3 failed") and, under it, one updating
// line per host whose command is drawing a '\r' progress bar (a download). Redrawn at
// most 10 times a second and cleared before any output line is written. Nothing at all
// when stderr is not a terminal.

#include <chrono>
#include <map>
#include <ostream>
#include <string>

namespace clusterctl::output {

class ProgressLine {
public:
    // `width`: the terminal's columns; lines are cut to it so the area can be redrawn.
    ProgressLine(std::ostream& err, bool enabled, std::size_t width = 80)
        : m_err(err), m_enabled(enabled), m_width(width < 20 ? 80 : width) {}

    // Redraws when something changed and 100 ms have passed since the last redraw; a
    // change that came sooner is drawn by a later call, even with the same text.
    void update(const std::string& text);
    // A host's progress bar; an empty text removes its line.
    void status(const std::string& host, const std::string& text);
    void clear();  // before other output
    void redraw(); // after it

private:
    void maybe_redraw();

    std::ostream& m_err;
    bool m_enabled;
    std::size_t m_width;
    std::size_t m_shown_lines = 0;
    bool m_stale = false; // something changed that the terminal does not show yet
    std::string m_text;
    std::map<std::string, std::string> m_status; // by host name
    std::chrono::steady_clock::time_point m_last{};
};

} // namespace clusterctl::output
