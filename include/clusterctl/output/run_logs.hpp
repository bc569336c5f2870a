#pragma once
// What a run leaves on disk: LOG_DIR/HOST.log with each host's output (secrets masked,
// as shown), and LOG_DIR/summary.json. Written as lines arrive, 32 KiB at a time per host
// by a LogWriter thread, never held whole in memory.

#include "clusterctl/output/log_writer.hpp"

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace clusterctl::output {

class RunLogs {
public:
    RunLogs(std::string dir, std::vector<std::string> hosts);
    ~RunLogs();
    RunLogs(const RunLogs&) = delete;
    RunLogs& operator=(const RunLogs&) = delete;

    // Empty when the directory was made, else the reason; logs are then not kept.
    const std::string& error() const { return m_error; }
    const std::string& dir() const { return m_dir; }

    void line(std::size_t host, std::string_view text);
    // Writes out what is buffered and waits for it, then summary.json. Empty, or why a
    // host log is incomplete (a full disk).
    std::string write_summary(const nlohmann::json& summary);

private:
    struct HostLog {
        int fd = -1;
        std::string buffer; // up to 32 KiB not handed to the writer yet
    };
    std::string flush_all();

    std::string m_dir;
    std::vector<std::string> m_hosts;
    std::vector<HostLog> m_logs;
    std::string m_error;
    LogWriter m_writer;
};

} // namespace clusterctl::output
