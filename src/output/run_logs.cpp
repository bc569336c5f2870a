#include "clusterctl/output/run_logs.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace clusterctl::output {
namespace {
// Per host that prints: a write for every 32 KiB of its log (2 MB of output is 31,000 lines).
constexpr std::size_t k_chunk = 32 * 1024;
constexpr std::size_t k_summary_room_base = 64 * 1024;
constexpr std::size_t k_summary_room_per_host = 4 * 1024;
} // namespace

RunLogs::RunLogs(std::string dir, std::vector<std::string> hosts)
    : m_dir(std::move(dir)), m_hosts(std::move(hosts)), m_logs(m_hosts.size()) {
    std::error_code ec;
    std::filesystem::create_directories(m_dir, ec);
    if (ec) {
        m_error = fmt::format("cannot create log directory '{}': {}", m_dir, ec.message());
        incomplete(m_dir, "cannot create it: " + ec.message());
        return;
    }
    std::string path = m_dir + "/summary.json";
    m_summary_fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (m_summary_fd < 0) {
        incomplete(path, std::strerror(errno));
        return;
    }
    // Room for a summary of this many hosts (each keeps at most 20 lines of 512 bytes;
    // most keep far less); a larger one grows past it, if the disk lets it.
    off_t room = static_cast<off_t>(k_summary_room_base + k_summary_room_per_host * m_hosts.size());
    if (int e = ::posix_fallocate(m_summary_fd, 0, room); e != 0 && e != EOPNOTSUPP && e != EINVAL)
        incomplete(path, fmt::format("cannot reserve {} KiB: {}", room >> 10, std::strerror(e)));
}

RunLogs::~RunLogs() {
    flush_all();
    if (m_summary_fd >= 0) ::close(m_summary_fd);
}

std::string RunLogs::log_path(std::size_t host) const {
    // Host names are file names here; a '/' cannot be in one.
    std::string name = m_hosts[host];
    std::replace(name.begin(), name.end(), '/', '_');
    return fmt::format("{}/{}.log", m_dir, name);
}

void RunLogs::incomplete(const std::string& path, const std::string& reason) {
    m_incomplete.push_back(fmt::format("{}: {}", path, reason));
}

void RunLogs::line(std::size_t host, std::string_view text) {
    if (!m_error.empty()) return;
    HostLog& log = m_logs[host];
    if (log.fd < 0) {
        if (log.open_failed) return;
        log.fd = ::open(log_path(host).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (log.fd < 0) {
            log.open_failed = true;
            return incomplete(log_path(host), std::strerror(errno));
        }
    }
    if (log.buffer.empty()) log.buffer.reserve(k_chunk + 512); // its first line, or a new chunk
    log.buffer += text;
    log.buffer += '\n';
    if (log.buffer.size() < k_chunk) return;
    m_writer.write(log.fd, std::move(log.buffer));
    log.buffer.clear(); // moved from: valid, its contents unspecified
}

void RunLogs::flush_all() {
    for (HostLog& log : m_logs)
        if (log.fd >= 0 && !log.buffer.empty()) m_writer.write(log.fd, std::move(log.buffer));
    const auto& failures = m_writer.finish();
    for (std::size_t host = 0; host < m_logs.size(); ++host) {
        HostLog& log = m_logs[host];
        for (const auto& f : failures)
            if (f.fd == log.fd) incomplete(log_path(host), f.reason);
        if (log.fd >= 0) ::close(log.fd);
        log.fd = -1;
        log.buffer.clear();
    }
}

std::vector<std::string> RunLogs::write_summary(nlohmann::json& summary) {
    flush_all();
    summary["logs_incomplete"] = m_incomplete;
    if (m_summary_fd < 0) return m_incomplete;
    std::string path = m_dir + "/summary.json";
    std::string text = summary.dump(2) + "\n";
    std::size_t done = 0;
    while (done < text.size()) {
        ssize_t n = ::pwrite(m_summary_fd, text.data() + done, text.size() - done,
                             static_cast<off_t>(done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            incomplete(path, std::strerror(n < 0 ? errno : ENOSPC));
            break;
        }
        done += static_cast<std::size_t>(n);
    }
    if (::ftruncate(m_summary_fd, static_cast<off_t>(done)) != 0 && done == text.size())
        incomplete(path, std::strerror(errno));
    ::close(m_summary_fd);
    m_summary_fd = -1;
    summary["logs_incomplete"] = m_incomplete;
    return m_incomplete;
}

} // namespace clusterctl::output
