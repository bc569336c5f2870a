#pragma once
// What a run leaves on disk: LOG_DIR/HOST.log with each host's output (secrets masked,
// as shown), and LOG_DIR/summary.json. Written as lines arrive, never held in memory.

#include <cstdio>
#include <memory>
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
    void write_summary(const nlohmann::json& summary);

private:
    std::string m_dir;
    std::vector<std::string> m_hosts;
    std::vector<std::FILE*> m_files;
    std::vector<std::unique_ptr<char[]>> m_buffers; // each file's stdio buffer, set up once
    std::string m_error;
};

} // namespace clusterctl::output
