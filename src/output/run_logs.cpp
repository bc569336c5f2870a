#include "clusterctl/output/run_logs.hpp"

#include <algorithm>
#include <fcntl.h>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace clusterctl::output {
namespace {
// Per host that prints: a write for every 32 KiB of its log (2 MB of output is 31,000 lines).
constexpr std::size_t k_chunk = 32 * 1024;
} // namespace

RunLogs::RunLogs(std::string dir, std::vector<std::string> hosts)
    : m_dir(std::move(dir)), m_hosts(std::move(hosts)), m_logs(m_hosts.size()) {
    std::error_code ec;
    std::filesystem::create_directories(m_dir, ec);
    if (ec) m_error = fmt::format("cannot create log directory '{}': {}", m_dir, ec.message());
}

RunLogs::~RunLogs() {
    flush_all();
}

void RunLogs::line(std::size_t host, std::string_view text) {
    if (!m_error.empty()) return;
    HostLog& log = m_logs[host];
    if (log.fd < 0) {
        // Host names are file names here; a '/' cannot be in one.
        std::string name = m_hosts[host];
        std::replace(name.begin(), name.end(), '/', '_');
        log.fd = ::open(fmt::format("{}/{}.log", m_dir, name).c_str(),
                        O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (log.fd < 0) return;
    }
    if (log.buffer.empty()) log.buffer.reserve(k_chunk + 512); // its first line, or a new chunk
    log.buffer += text;
    log.buffer += '\n';
    if (log.buffer.size() < k_chunk) return;
    m_writer.write(log.fd, std::move(log.buffer));
    log.buffer.clear(); // moved from: valid, its contents unspecified
}

std::string RunLogs::flush_all() {
    for (HostLog& log : m_logs)
        if (log.fd >= 0 && !log.buffer.empty()) m_writer.write(log.fd, std::move(log.buffer));
    std::string error = m_writer.finish();
    for (HostLog& log : m_logs) {
        if (log.fd >= 0) ::close(log.fd);
        log = HostLog();
    }
    return error;
}

std::string RunLogs::write_summary(const nlohmann::json& summary) {
    if (!m_error.empty()) return "";
    std::string error = flush_all();
    std::ofstream(m_dir + "/summary.json") << summary.dump(2) << "\n";
    return error;
}

} // namespace clusterctl::output
