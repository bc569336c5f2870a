#include "clusterctl/report/run_report.hpp"

#include "clusterctl/config/host_list.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <map>
#include <nlohmann/json.hpp>

namespace clusterctl::report {

std::string_view to_string(HostState state) {
    switch (state) {
    case HostState::pending:
        return "pending";
    case HostState::done:
        return "done";
    case HostState::failed:
        return "failed";
    case HostState::cancelled:
        return "cancelled";
    }
    return "unknown";
}

std::string_view stage_label(const HostOutcome& outcome) {
    return outcome.stage == FailureStage::in_step ? std::string_view(outcome.step)
                                                  : util::to_string(outcome.stage);
}

std::string_view to_string(StepStatus status) {
    switch (status) {
    case StepStatus::ok:
        return "ok";
    case StepStatus::skipped:
        return "skipped";
    case StepStatus::failed:
        return "failed";
    case StepStatus::cancelled:
        return "cancelled";
    }
    return "unknown";
}

ExitCode exit_code_of(const RunSummary& summary) {
    if (summary.interrupted) return ExitCode::interrupted;
    for (const auto& h : summary.hosts)
        if (h.state != HostState::done) return ExitCode::remote_failure;
    return ExitCode::success;
}

int exit_status(const RunSummary& summary) {
    ExitCode code = exit_code_of(summary);
    if (summary.action != "exec" || code != ExitCode::remote_failure) return to_int(code);
    int largest = 0;
    for (const auto& h : summary.hosts) {
        if (h.state == HostState::done) continue;
        int status = h.exit_code && h.stage == FailureStage::exec ? *h.exit_code : 1;
        largest = std::max(largest, status);
    }
    return std::max(largest, 1);
}

namespace {

std::string paint(std::string_view text, const char* code, bool color) {
    return color ? fmt::format("\033[{}m{}\033[0m", code, text) : std::string(text);
}

std::string describe(const HostOutcome& h) {
    std::string what(stage_label(h));
    if (h.exit_code && h.stage == FailureStage::exec) {
        what = h.signal.empty() ? fmt::format("exit {}", *h.exit_code)
                                : fmt::format("exit {} (SIG{})", *h.exit_code, h.signal);
    }
    if (!h.message.empty()) what += ": " + h.message;
    return what;
}

} // namespace

std::string render_summary_text(const RunSummary& summary, bool color) {
    // A host the plan gave nothing to do (a step `on: first`) is not counted.
    std::map<HostState, std::vector<std::string>> by_state;
    std::size_t counted = 0;
    for (const auto& h : summary.hosts) {
        if (h.state == HostState::done && h.steps.empty()) continue;
        by_state[h.state].push_back(h.host);
        ++counted;
    }
    std::string counts;
    auto add = [&](HostState s, std::string_view label, const char* code) {
        auto it = by_state.find(s);
        if (it == by_state.end()) return;
        counts += fmt::format("{}{}", counts.empty() ? "" : ", ",
                              paint(fmt::format("{} {}", it->second.size(), label), code, color));
    };
    add(HostState::done, "ok", "32");
    add(HostState::failed, "failed", "31");
    add(HostState::cancelled, "cancelled", "33");
    add(HostState::pending, "not started", "33");
    std::string text =
        fmt::format("clusterctl: {} {}: {} host{}: {} ({:.1f} s){}\n", summary.action,
                    summary.job_id, counted, counted == 1 ? "" : "s", counts, summary.duration_s,
                    summary.interrupted ? ", interrupted" : "");
    if (summary.hang)
        for (const auto& line : hang_lines(*summary.hang))
            text += fmt::format("  {}\n", line);
    // The first failures in full, with their last lines; the rest by name only, so a
    // run where 256 hosts fail still ends with a summary that fits a screen.
    constexpr std::size_t k_detailed = 8;
    std::size_t failed = 0;
    std::vector<std::string> more;
    // The host that failed first leads: under fail-fast the others only followed it.
    std::vector<const HostOutcome*> failures;
    if (summary.first_failure && *summary.first_failure < summary.hosts.size())
        failures.push_back(&summary.hosts[*summary.first_failure]);
    for (const auto& h : summary.hosts)
        if (h.state == HostState::failed && (failures.empty() || &h != failures.front()))
            failures.push_back(&h);
    for (const HostOutcome* h : failures) {
        if (failed++ >= k_detailed) {
            more.push_back(h->host);
            continue;
        }
        // Named when others were stopped, or failed, after it.
        bool stopped_others =
            std::any_of(summary.hosts.begin(), summary.hosts.end(),
                        [](const auto& o) { return o.state == HostState::cancelled; });
        bool first = (failures.size() > 1 || stopped_others) && h == failures.front() &&
                     summary.first_failure;
        text += fmt::format("  {} {}{}\n", paint(h->host, "1", color), describe(*h),
                            first ? " (first to fail)" : "");
        for (const auto& line : h->last_lines)
            text += fmt::format("    | {}\n", line);
    }
    if (!more.empty())
        text += fmt::format("  and {} more failed: {} (see summary.json)\n", more.size(),
                            config::fold_host_list(more));
    std::map<std::string, std::vector<std::string>> cancelled; // by why
    for (const auto& h : summary.hosts)
        if (h.state == HostState::cancelled) cancelled[h.message].push_back(h.host);
    for (const auto& [why, hosts] : cancelled)
        text += fmt::format("  cancelled {}{}{}\n", config::fold_host_list(hosts),
                            why.empty() ? "" : ": ", why);
    if (!summary.log_dir.empty()) text += fmt::format("  logs: {}\n", summary.log_dir);
    return text;
}

std::string render_step_table(const RunSummary& summary, bool color) {
    if (summary.stages.empty()) return {};
    // Each host's row, then hosts with the same row folded into one host list.
    std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>> rows;
    for (const auto& h : summary.hosts) {
        std::vector<std::string> cells;
        for (const auto& stage : summary.stages) {
            auto it = std::find_if(h.steps.begin(), h.steps.end(),
                                   [&](const StepResult& s) { return s.name == stage; });
            if (it == h.steps.end())
                cells.emplace_back("-");
            else if (it->status == StepStatus::failed && it->exit_code)
                cells.push_back(fmt::format("exit {}", *it->exit_code));
            else
                cells.emplace_back(to_string(it->status));
        }
        if (h.state == HostState::failed &&
            (h.steps.empty() || h.steps.back().status != StepStatus::failed)) {
            // It failed outside a step (connect, auth, lost): say so where it stopped.
            auto dash = std::find(cells.begin(), cells.end(), "-");
            if (dash != cells.end()) *dash = stage_label(h);
        }
        auto same = std::find_if(rows.begin(), rows.end(),
                                 [&](const auto& row) { return row.first == cells; });
        if (same == rows.end())
            rows.push_back({cells, {h.host}});
        else
            same->second.push_back(h.host);
    }
    std::vector<std::string> first_column{"host"};
    for (const auto& row : rows)
        first_column.push_back(config::fold_host_list(row.second));
    std::vector<std::size_t> width{0};
    for (const auto& name : first_column)
        width[0] = std::max(width[0], name.size());
    for (std::size_t c = 0; c < summary.stages.size(); ++c) {
        std::size_t w = summary.stages[c].size();
        for (const auto& row : rows)
            w = std::max(w, row.first[c].size());
        width.push_back(w);
    }
    auto cell = [&](const std::string& text, std::size_t w, bool last) {
        const char* code = text == "ok"        ? "32"
                           : text == "skipped" ? "36"
                           : text == "-"       ? "2"
                                               : "31";
        std::string padded = last ? text : text + std::string(w - text.size(), ' ');
        return color && text != "host" ? paint(padded, code, true) : padded;
    };
    std::string out = "  " + first_column[0] + std::string(width[0] - 4, ' ');
    for (std::size_t c = 0; c < summary.stages.size(); ++c)
        out += "  " + (c + 1 == summary.stages.size()
                           ? summary.stages[c]
                           : summary.stages[c] +
                                 std::string(width[c + 1] - summary.stages[c].size(), ' '));
    out += "\n";
    for (std::size_t r = 0; r < rows.size(); ++r) {
        const std::string& name = first_column[r + 1];
        out += "  " + name + std::string(width[0] - name.size(), ' ');
        for (std::size_t c = 0; c < rows[r].first.size(); ++c)
            out += "  " + cell(rows[r].first[c], width[c + 1], c + 1 == rows[r].first.size());
        out += "\n";
    }
    return out;
}

nlohmann::json summary_json(const RunSummary& summary) {
    nlohmann::json hosts = nlohmann::json::array();
    for (const auto& h : summary.hosts) {
        nlohmann::json j{{"host", h.host},
                         {"state", to_string(h.state)},
                         {"stage", stage_label(h)},
                         {"message", h.message},
                         {"exit_code", h.exit_code ? nlohmann::json(*h.exit_code) : nullptr},
                         {"signal", h.signal.empty() ? nlohmann::json() : nlohmann::json(h.signal)},
                         {"duration_s", h.duration_s},
                         {"bytes", {{"stdout", h.bytes_out}, {"stderr", h.bytes_err}}},
                         {"attempts", h.attempts}};
        nlohmann::json steps = nlohmann::json::array();
        for (const auto& s : h.steps) {
            steps.push_back(
                {{"name", s.name},
                 {"status", to_string(s.status)},
                 {"exit_code", s.exit_code ? nlohmann::json(*s.exit_code) : nullptr},
                 {"duration_s", s.duration_s},
                 {"process_group", s.process_group ? nlohmann::json(*s.process_group) : nullptr}});
            if (!s.job.empty()) steps.back()["job"] = s.job;
        }
        j["steps"] = std::move(steps);
        if (h.state == HostState::failed) j["last_lines"] = h.last_lines;
        hosts.push_back(std::move(j));
    }
    std::map<std::string, int> counts;
    for (const auto& h : summary.hosts)
        ++counts[std::string(to_string(h.state))];
    nlohmann::json json = {
        {"event", "summary"},
        {"action", summary.action},
        {"job_id", summary.job_id},
        {"exit_code", exit_status(summary)},
        {"interrupted", summary.interrupted},
        {"duration_s", summary.duration_s},
        {"counts", counts},
        {"log_dir", summary.log_dir},
        {"first_failure", summary.first_failure
                              ? nlohmann::json(summary.hosts[*summary.first_failure].host)
                              : nlohmann::json()},
        {"hosts", std::move(hosts)}};
    if (summary.hang) json["hang"] = hang_json(*summary.hang);
    return json;
}

} // namespace clusterctl::report
