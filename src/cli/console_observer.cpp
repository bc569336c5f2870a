#include "console_observer.hpp"

#include <fmt/format.h>

namespace clusterctl::cli {

void ConsoleObserver::on_progress(const exec::Progress& p) {
    std::string text = fmt::format("{}: {}/{} done", p.stage, p.done, p.total);
    if (p.running) text += fmt::format(", {} running", p.running);
    if (p.connecting) text += fmt::format(", {} connecting", p.connecting);
    if (p.waiting) text += fmt::format(", {} waiting", p.waiting);
    if (p.failed) text += fmt::format(", {} failed", p.failed);
    m_progress.update(text);
}

} // namespace clusterctl::cli
