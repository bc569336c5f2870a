#pragma once
// What a run leaves on disk: LOG_DIR/HOST.log with each host's output (secrets masked,
// as shown), and LOG_DIR/summary.json. Written as lines arrive, 32 KiB at a time per host
// by a LogWriter thread, never held whole in memory.
//
// Records are never lost in silence: summary.json's room is taken on the disk when the run
// starts, before any host log is written (a disk the logs fill up still takes the summary),
// and a log that could not be created or written whole is named, with the reason, in the
// summary ("logs_incomplete") and by the caller on stderr.

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
    // Writes out what is buffered and waits for it, then `summary` into summary.json with
    // "logs_incomplete" set. Returns that list: "FILE: REASON" for each file that is not
    // whole (summary.json included, when even it could not be written).
    std::vector<std::string> write_summary(nlohmann::json& summary);

private:
    struct HostLog {
        int fd = -1;
        bool open_failed = false;
        std::string buffer; // up to 32 KiB not handed to the writer yet
    };
    void flush_all();
    std::string log_path(std::size_t host) const;
    void incomplete(const std::string& path, const std::string& reason);

    std::string m_dir;
    std::vector<std::string> m_hosts;
    std::vector<HostLog> m_logs;
    std::string m_error;
    int m_summary_fd = -1;
    std::vector<std::string> m_incomplete;
    LogWriter m_writer;
};

} // namespace clusterctl::output
