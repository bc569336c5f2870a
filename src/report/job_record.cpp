#include "clusterctl/report/job_record.hpp"

#include "clusterctl/report/host_outcome.hpp"
#include "clusterctl/util/strings.hpp"

#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <system_error>

namespace clusterctl::report {
namespace {

namespace fs = std::filesystem;

} // namespace

std::string job_record_dir(const std::string& home) {
    return home + "/.clusterctl/jobs";
}

NodeJobState parse_job_state(std::string_view text) {
    using Kind = NodeJobState::Kind;
    static constexpr std::pair<std::string_view, Kind> k_kinds[] = {{"running", Kind::running},
                                                                    {"exited", Kind::exited},
                                                                    {"stopped", Kind::stopped},
                                                                    {"lost", Kind::lost}};
    NodeJobState state;
    auto space = text.find(' ');
    std::string_view word = text.substr(0, space);
    for (auto [name, kind] : k_kinds)
        if (word == name) state.kind = kind;
    if (space != std::string_view::npos)
        state.value = std::atol(std::string(text.substr(space + 1)).c_str());
    return state;
}

JobEnd job_end(const RunSummary& watch, const JobRecord& record) {
    using Kind = NodeJobState::Kind;
    JobEnd end;
    if (watch.interrupted) return end;
    bool all_succeeded = !watch.hosts.empty(), any_stopped = !record.stop_requested.empty();
    for (const auto& h : watch.hosts) {
        NodeJobState s = parse_job_state(h.steps.empty() ? "" : h.steps.back().job);
        any_stopped = any_stopped || s.kind == Kind::stopped;
        all_succeeded = all_succeeded && s.kind == Kind::exited && s.value == 0;
    }
    if (all_succeeded) {
        end.state = "succeeded";
    } else if (any_stopped) {
        end.state = "stopped";
    } else {
        end.state = "failed";
        std::size_t first = watch.first_failure.value_or(0);
        for (std::size_t i = 0; !watch.first_failure && i < watch.hosts.size(); ++i)
            if (watch.hosts[i].state != HostState::done) {
                first = i;
                break;
            }
        if (first < watch.hosts.size()) {
            const HostOutcome& h = watch.hosts[first];
            end.first_failure = JobRecord::FirstFailure{h.host, std::string(stage_label(h)),
                                                        h.message, h.exit_code, h.last_lines};
        }
    }
    return end;
}

std::string job_lock_path(const std::string& dir, const std::string& job_id) {
    return fmt::format("{}/{}.lock", dir, job_id);
}

std::string supervisor_log_path(const std::string& dir, const std::string& job_id) {
    return fmt::format("{}/{}.supervisor.log", dir, job_id);
}

std::string write_job_record(const std::string& dir, const JobRecord& r) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return fmt::format("cannot create {}: {}", dir, ec.message());
    nlohmann::json j{{"job_id", r.job_id},         {"started", r.started}, {"config", r.config},
                     {"hostfile", r.hostfile},     {"hosts", r.hosts},     {"exclude", r.exclude},
                     {"ssh_config", r.ssh_config}, {"nodes", r.nodes}};
    if (!r.stop_requested.empty()) j["stop_requested"] = r.stop_requested;
    if (r.supervisor_pid > 0) j["supervisor_pid"] = r.supervisor_pid;
    if (!r.state.empty()) j["state"] = r.state;
    if (!r.ended.empty()) j["ended"] = r.ended;
    if (const auto& f = r.first_failure)
        j["first_failure"] = {{"node", f->node},
                              {"stage", f->stage},
                              {"message", f->message},
                              {"exit_code", f->exit_code ? nlohmann::json(*f->exit_code) : nullptr},
                              {"last_lines", f->last_lines}};
    std::string path = fmt::format("{}/{}.json", dir, r.job_id);
    std::string partial = path + ".partial";
    std::ofstream out(partial, std::ios::trunc);
    out << j.dump(2) << "\n";
    out.close();
    if (!out) return fmt::format("cannot write {}", partial);
    fs::rename(partial, path, ec);
    if (ec) return fmt::format("cannot write {}: {}", path, ec.message());
    return "";
}

util::Result<JobRecord> read_job_record(const std::string& dir, const std::string& job_id,
                                        const util::SourceLocation& where) {
    auto job_error = [&](std::string message, std::string hint = "") {
        return util::Diagnostic{where, std::move(message), std::move(hint)};
    };
    std::string path;
    if (!job_id.empty() && !util::is_valid_job_id(job_id))
        return util::fail(
            job_error(fmt::format("bad job id {}", util::quoted(job_id)), util::k_job_id_hint));
    if (!job_id.empty()) {
        path = fmt::format("{}/{}.json", dir, job_id);
        if (!fs::exists(path))
            return util::fail(
                job_error(fmt::format("no detached job {} ({} not found)", job_id, path),
                          "clusterctl status lists the latest; ls " + dir));
    } else {
        // The latest: job ids sort by their start time only within one config's stem, and
        // a supervisor rewrites a record when its job ends; so go by the time each record
        // says it started (ISO 8601 sorts as text), then by the file's time.
        std::error_code ec;
        std::pair<std::string, fs::file_time_type> newest{};
        for (const auto& e : fs::directory_iterator(dir, ec)) {
            if (e.path().extension() != ".json") continue;
            std::ifstream in(e.path());
            nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
            std::string started = j.is_object() && j.contains("started") && j["started"].is_string()
                                      ? j["started"].get<std::string>()
                                      : "";
            std::pair<std::string, fs::file_time_type> when{started, e.last_write_time(ec)};
            if (path.empty() || when > newest) {
                newest = when;
                path = e.path().string();
            }
        }
        if (path.empty())
            return util::fail(job_error(fmt::format("no detached job in {}", dir),
                                        "start one with clusterctl train --detach"));
    }
    std::ifstream in(path);
    nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("job_id") || !j.contains("nodes"))
        return util::fail(job_error(fmt::format("{}: not a clusterctl job record", path)));
    JobRecord r;
    auto text = [&](const char* key) { return j.value(key, std::string()); };
    r.job_id = text("job_id");
    r.started = text("started");
    r.config = text("config");
    r.hostfile = text("hostfile");
    r.hosts = text("hosts");
    r.exclude = text("exclude");
    r.ssh_config = text("ssh_config");
    for (const auto& n : j["nodes"])
        if (n.is_string()) r.nodes.push_back(n.get<std::string>());
    if (j.contains("supervisor_pid") && j["supervisor_pid"].is_number_integer())
        r.supervisor_pid = j["supervisor_pid"].get<long>();
    r.stop_requested = text("stop_requested");
    r.state = text("state");
    r.ended = text("ended");
    if (j.contains("first_failure") && j["first_failure"].is_object()) {
        const auto& f = j["first_failure"];
        JobRecord::FirstFailure failure;
        failure.node = f.value("node", std::string());
        failure.stage = f.value("stage", std::string());
        failure.message = f.value("message", std::string());
        if (f.contains("exit_code") && f["exit_code"].is_number_integer())
            failure.exit_code = f["exit_code"].get<int>();
        if (f.contains("last_lines") && f["last_lines"].is_array())
            for (const auto& line : f["last_lines"])
                if (line.is_string()) failure.last_lines.push_back(line.get<std::string>());
        r.first_failure = std::move(failure);
    }
    return r;
}

} // namespace clusterctl::report
