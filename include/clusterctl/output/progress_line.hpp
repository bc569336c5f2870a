#pragma once
// One status line on a terminal's stderr while a run goes on ("setup: 12/64 done, 40
// running, 9 connecting, 3 failed"), redrawn at most 10 times a second and cleared
// before any output line is written. Nothing at all when stderr is not a terminal.

#include <chrono>
#include <ostream>
#include <string>

namespace clusterctl::output {

class ProgressLine {
public:
    ProgressLine(std::ostream& err, bool enabled) : m_err(err), m_enabled(enabled) {}

    // Redraws when the text changed and 100 ms have passed.
    void update(const std::string& text);
    void clear();  // before other output
    void redraw(); // after it

private:
    std::ostream& m_err;
    bool m_enabled;
    bool m_shown = false;
    std::string m_text;
    std::chrono::steady_clock::time_point m_last{};
};

} // namespace clusterctl::output
