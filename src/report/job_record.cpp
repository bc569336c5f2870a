#include "clusterctl/report/job_record.hpp"

#include "clusterctl/report/host_outcome.hpp"
#include "clusterctl/util/strings.hpp"

#include <algorithm>
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

namespace {
constexpr std::string_view k_outcomes[] = {"", "succeeded", "failed", "lost", "stopped"};
} // namespace

std::string_view to_string(JobOutcome outcome) {
    return k_outcomes[static_cast<int>(outcome)];
}

JobOutcome parse_job_outcome(std::string_view text) {
    for (int i = 1; i < static_cast<int>(std::size(k_outcomes)); ++i)
        if (k_outcomes[i] == text) return static_cast<JobOutcome>(i);
    return JobOutcome::none;
}

namespace {
// By NodeJobState::Kind: what the `job` control line and status --json call each.
constexpr std::string_view k_node_states[] = {"none", "running", "exited", "stopped", "lost"};
} // namespace

std::string_view to_string(NodeJobState::Kind kind) {
    return k_node_states[static_cast<int>(kind)];
}

NodeJobState parse_job_state(std::string_view text) {
    NodeJobState state;
    auto space = text.find(' ');
    std::string_view word = text.substr(0, space);
    for (int i = 1; i < static_cast<int>(std::size(k_node_states)); ++i)
        if (word == k_node_states[i]) state.kind = static_cast<NodeJobState::Kind>(i);
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
        end.outcome = JobOutcome::succeeded;
    } else if (any_stopped) {
        end.outcome = JobOutcome::stopped;
    } else {
        end.outcome = JobOutcome::failed;
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
            // Its job did not fail: the node went away (its connection, or the node itself).
            NodeJobState s = parse_job_state(h.steps.empty() ? "" : h.steps.back().job);
            bool job_failed = h.stage == FailureStage::exec || h.stage == FailureStage::timeout ||
                              h.stage == FailureStage::hang;
            // A hang: what it found, and where every rank was, say more than its last lines.
            if (watch.hang && h.stage == FailureStage::hang) {
                end.first_failure->last_lines = hang_lines(*watch.hang);
                end.first_failure->exit_code.reset(); // the stopped watch's, not the job's
            }
            if (s.kind == Kind::lost || (!job_failed && s.kind != Kind::exited))
                end.outcome = JobOutcome::lost;
        }
    }
    return end;
}

JobEnd attached_end(const RunSummary& run) {
    JobEnd end;
    if (run.interrupted) {
        end.outcome = JobOutcome::stopped;
        return end;
    }
    if (!run.first_failure && std::all_of(run.hosts.begin(), run.hosts.end(), [](const auto& h) {
            return h.state == HostState::done;
        })) {
        end.outcome = JobOutcome::succeeded;
        return end;
    }
    end.outcome = JobOutcome::failed;
    std::size_t first = run.first_failure.value_or(0);
    if (first >= run.hosts.size()) return end;
    const HostOutcome& h = run.hosts[first];
    end.first_failure = JobRecord::FirstFailure{h.host, std::string(stage_label(h)), h.message,
                                                h.exit_code, h.last_lines};
    if (run.hang && h.stage == FailureStage::hang)
        end.first_failure->last_lines = hang_lines(*run.hang);
    bool connection = h.stage == FailureStage::lost || h.stage == FailureStage::channel ||
                      h.stage == FailureStage::connect || h.stage == FailureStage::handshake;
    if (connection) end.outcome = JobOutcome::lost;
    return end;
}

void close_attempt(AttemptRecord& attempt, const JobEnd& end, std::string ended) {
    attempt.outcome = end.outcome;
    attempt.ended = std::move(ended);
    if (end.first_failure)
        attempt.failed = fmt::format(
            "{} {}", end.first_failure->node,
            end.outcome == JobOutcome::lost ? "lost" : "failed: " + end.first_failure->stage);
}

nlohmann::json attempts_json(const std::vector<AttemptRecord>& attempts) {
    nlohmann::json all = nlohmann::json::array();
    for (const auto& a : attempts)
        all.push_back(
            {{"nodes", a.nodes},
             {"started", a.started},
             {"ended", a.ended.empty() ? nlohmann::json() : nlohmann::json(a.ended)},
             {"state", a.outcome == JobOutcome::none ? "running" : to_string(a.outcome)},
             {"failed", a.failed.empty() ? nlohmann::json() : nlohmann::json(a.failed)},
             {"next", a.next.empty() ? nlohmann::json() : nlohmann::json(a.next)},
             {"resumed_from", a.resumed_from ? nlohmann::json(*a.resumed_from) : nullptr}});
    return all;
}

std::string describe_attempt(std::size_t index, const AttemptRecord& a) {
    std::string nodes;
    for (const auto& n : a.nodes)
        nodes += (nodes.empty() ? "" : ",") + n;
    std::string text = fmt::format("attempt {} on {}: {}", index, nodes,
                                   a.outcome == JobOutcome::none ? std::string_view("running")
                                                                 : to_string(a.outcome));
    if (!a.failed.empty()) text += fmt::format(" ({})", a.failed);
    if (a.resumed_from) text += fmt::format(", resumed from step {}", *a.resumed_from);
    if (!a.next.empty()) text += fmt::format("; {}", a.next);
    return text;
}

nlohmann::json first_failure_json(const JobRecord::FirstFailure& f) {
    return {{"node", f.node},
            {"stage", f.stage},
            {"message", f.message},
            {"exit_code", f.exit_code ? nlohmann::json(*f.exit_code) : nullptr},
            {"last_lines", f.last_lines}};
}

std::string job_lock_path(const std::string& dir, const std::string& job_id) {
    return fmt::format("{}/{}.lock", dir, job_id);
}

std::string supervisor_log_path(const std::string& dir, const std::string& job_id) {
    return fmt::format("{}/{}.supervisor.log", dir, job_id);
}

std::string slurm_output_path(const std::string& dir, const std::string& job_id) {
    return fmt::format("{}/{}.slurm.out", dir, job_id);
}

std::string write_job_record(const std::string& dir, const JobRecord& r) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return fmt::format("cannot create {}: {}", dir, ec.message());
    nlohmann::json j{{"job_id", r.job_id},         {"started", r.started}, {"config", r.config},
                     {"hostfile", r.hostfile},     {"hosts", r.hosts},     {"exclude", r.exclude},
                     {"ssh_config", r.ssh_config}, {"nodes", r.nodes}};
    if (!r.sets.empty()) j["set"] = r.sets;
    if (!r.envs.empty()) j["env"] = r.envs;
    if (!r.stop_requested.empty()) j["stop_requested"] = r.stop_requested;
    if (r.supervisor_pid > 0) j["supervisor_pid"] = r.supervisor_pid;
    if (!r.slurm_job.empty()) j["slurm"] = {{"job", r.slurm_job}, {"batch", r.slurm_batch}};
    if (r.attached) {
        j["attached"] = true;
        j["log_dir"] = r.log_dir;
    }
    if (r.outcome != JobOutcome::none) j["state"] = to_string(r.outcome);
    if (!r.ended.empty()) j["ended"] = r.ended;
    if (const auto& f = r.first_failure) j["first_failure"] = first_failure_json(*f);
    if (!r.after.empty()) j["after"] = r.after;
    if (!r.attempts.empty()) {
        j["attempts"] = attempts_json(r.attempts);
        j["spares"] = r.spares;
        j["left_out"] = r.left_out;
        j["restarts_used"] = r.restarts_used;
    }
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

namespace {

// A record from its JSON; nothing when it is not one.
std::optional<JobRecord> parse_record(const nlohmann::json& j) {
    if (!j.is_object() || !j.contains("job_id") || !j.contains("nodes") || !j["nodes"].is_array())
        return std::nullopt;
    JobRecord r;
    auto text = [&](const char* key) {
        return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
    };
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
    r.attached = j.value("attached", false);
    if (j.contains("slurm") && j["slurm"].is_object()) {
        const auto& sl = j["slurm"];
        if (sl.contains("job") && sl["job"].is_string()) r.slurm_job = sl["job"].get<std::string>();
        r.slurm_batch = sl.contains("batch") && sl["batch"].is_boolean() && sl["batch"].get<bool>();
    }
    r.log_dir = text("log_dir");
    r.outcome = parse_job_outcome(text("state"));
    r.ended = text("ended");
    r.after = text("after");
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
    auto names = [&](const char* key) {
        std::vector<std::string> out;
        if (j.contains(key) && j[key].is_array())
            for (const auto& n : j[key])
                if (n.is_string()) out.push_back(n.get<std::string>());
        return out;
    };
    r.spares = names("spares");
    r.sets = names("set");
    r.envs = names("env");
    r.left_out = names("left_out");
    r.restarts_used = j.value("restarts_used", 0);
    if (j.contains("attempts") && j["attempts"].is_array())
        for (const auto& a : j["attempts"]) {
            if (!a.is_object()) continue;
            AttemptRecord attempt;
            if (a.contains("nodes") && a["nodes"].is_array())
                for (const auto& n : a["nodes"])
                    if (n.is_string()) attempt.nodes.push_back(n.get<std::string>());
            auto field = [&](const char* key) {
                return a.contains(key) && a[key].is_string() ? a[key].get<std::string>()
                                                             : std::string();
            };
            attempt.started = field("started");
            attempt.ended = field("ended");
            attempt.outcome = parse_job_outcome(field("state"));
            attempt.failed = field("failed");
            attempt.next = field("next");
            if (a.contains("resumed_from") && a["resumed_from"].is_number_integer())
                attempt.resumed_from = a["resumed_from"].get<long>();
            r.attempts.push_back(std::move(attempt));
        }
    return r;
}

std::optional<JobRecord> load_record(const std::string& path) {
    std::ifstream in(path);
    return parse_record(nlohmann::json::parse(in, nullptr, false));
}

} // namespace

std::vector<JobRecord> list_job_records(const std::string& dir) {
    // Job ids sort by their start time only within one config's stem, and a supervisor
    // rewrites a record when its job ends; so by the time each record says it started (ISO
    // 8601 sorts as text), then by the file's time.
    std::vector<std::pair<std::pair<std::string, fs::file_time_type>, JobRecord>> found;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        if (e.path().extension() != ".json") continue;
        auto record = load_record(e.path().string());
        if (!record) continue;
        std::error_code time_ec;
        auto when = std::make_pair(record->started, e.last_write_time(time_ec));
        found.emplace_back(when, std::move(*record));
    }
    std::sort(found.begin(), found.end(),
              [](const auto& a, const auto& b) { return a.first > b.first; });
    std::vector<JobRecord> records;
    for (auto& [when, record] : found)
        records.push_back(std::move(record));
    return records;
}

util::Result<JobRecord> read_job_record(const std::string& dir, const std::string& job_id,
                                        const util::SourceLocation& where) {
    auto job_error = [&](std::string message, std::string hint = "") {
        return util::Diagnostic{where, std::move(message), std::move(hint)};
    };
    if (job_id.empty()) {
        auto records = list_job_records(dir);
        if (records.empty())
            return util::fail(job_error(fmt::format("no detached job in {}", dir),
                                        "start one with clusterctl train --detach"));
        return std::move(records.front());
    }
    if (!util::is_valid_job_id(job_id))
        return util::fail(
            job_error(fmt::format("bad job id {}", util::quoted(job_id)), util::k_job_id_hint));
    std::string path = fmt::format("{}/{}.json", dir, job_id);
    if (!fs::exists(path))
        return util::fail(job_error(fmt::format("no detached job {} ({} not found)", job_id, path),
                                    "clusterctl jobs lists them; ls " + dir));
    auto record = load_record(path);
    if (!record) return util::fail(job_error(fmt::format("{}: not a clusterctl job record", path)));
    return std::move(*record);
}

} // namespace clusterctl::report
