#include "clusterctl/report/job_record.hpp"

#include "clusterctl/util/strings.hpp"

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

std::string write_job_record(const std::string& dir, const JobRecord& r) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return fmt::format("cannot create {}: {}", dir, ec.message());
    nlohmann::json j{{"job_id", r.job_id},         {"started", r.started}, {"config", r.config},
                     {"hostfile", r.hostfile},     {"hosts", r.hosts},     {"exclude", r.exclude},
                     {"ssh_config", r.ssh_config}, {"nodes", r.nodes}};
    std::string path = fmt::format("{}/{}.json", dir, r.job_id);
    std::ofstream out(path, std::ios::trunc);
    out << j.dump(2) << "\n";
    out.close();
    if (!out) return fmt::format("cannot write {}", path);
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
        // The latest: job ids sort by their start time only within one config's stem, so
        // go by the file's time.
        std::error_code ec;
        fs::file_time_type newest{};
        for (const auto& e : fs::directory_iterator(dir, ec)) {
            if (e.path().extension() != ".json") continue;
            auto t = e.last_write_time(ec);
            if (!ec && (path.empty() || t > newest)) {
                newest = t;
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
    return r;
}

} // namespace clusterctl::report
