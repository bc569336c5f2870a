#include "clusterctl/output/host_table.hpp"

#include "json_plan.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace clusterctl::output {

std::string describe_jump(const config::HostSpec& host) {
    std::string out;
    if (host.ssh.proxy_command) out = "ProxyCommand";
    for (const auto& jump : host.ssh.jumps)
        out += fmt::format("{}{}@{}", out.empty() ? "" : ",", jump.user,
                           config::endpoint(jump.address, jump.port));
    return out.empty() ? "-" : out;
}

nlohmann::ordered_json host_to_json(const config::HostSpec& h) {
    nlohmann::ordered_json j;
    j["name"] = h.name;
    j["address"] = h.address;
    j["port"] = h.ssh.port;
    j["user"] = h.ssh.user;
    j["jump"] = h.ssh.jumps.empty() && !h.ssh.proxy_command
                    ? nlohmann::ordered_json()
                    : nlohmann::ordered_json(describe_jump(h));
    j["slots"] = h.slots;
    j["rank"] = h.spare ? nlohmann::ordered_json() : nlohmann::ordered_json(h.rank);
    j["spare"] = h.spare;
    j["known_hosts"] = std::string(config::to_string(h.ssh.known_hosts));
    j["connect_timeout_s"] = h.connect_timeout_s;
    return j;
}

std::string render_host_table(const std::vector<config::HostSpec>& hosts) {
    std::vector<std::vector<std::string>> rows{
        {"RANK", "NAME", "ADDRESS", "PORT", "USER", "JUMP", "SLOTS"}};
    for (const auto& h : hosts)
        rows.push_back({h.spare ? "spare" : std::to_string(h.rank), h.name, h.address,
                        std::to_string(h.ssh.port), h.ssh.user, describe_jump(h),
                        std::to_string(h.slots)});
    std::vector<std::size_t> width(rows.front().size(), 0);
    for (const auto& row : rows)
        for (std::size_t c = 0; c < row.size(); ++c)
            width[c] = std::max(width[c], row[c].size());
    std::string out;
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t c = 0; c < row.size(); ++c)
            line += c + 1 < row.size() ? fmt::format("{:<{}}  ", row[c], width[c]) : row[c];
        out += line + "\n";
    }
    return out;
}

std::string render_hosts_json(const std::vector<config::HostSpec>& hosts) {
    nlohmann::ordered_json j = nlohmann::ordered_json::array();
    for (const auto& h : hosts)
        j.push_back(host_to_json(h));
    return j.dump(2) + "\n";
}

} // namespace clusterctl::output
