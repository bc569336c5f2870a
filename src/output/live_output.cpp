#include "clusterctl/output/live_output.hpp"

#include "clusterctl/config/host_list.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <map>
#include <nlohmann/json.hpp>

namespace clusterctl::output {
namespace {

constexpr std::size_t k_flush_at = 256 * 1024;
// Foreground colours that read on dark and light terminals alike.
constexpr int k_colors[] = {32, 33, 34, 35, 36, 92, 93, 94, 95, 96};

} // namespace

LiveOutput::LiveOutput(std::ostream& out, std::ostream& err, std::vector<std::string> hosts,
                       LiveOutputOptions options)
    : m_out(out), m_err(err), m_hosts(std::move(hosts)), m_options(options) {
    std::size_t width = 0;
    for (const auto& h : m_hosts)
        width = std::max(width, h.size());
    for (std::size_t i = 0; i < m_hosts.size(); ++i) {
        std::string pad(width - m_hosts[i].size(), ' ');
        m_prefixes.push_back(m_options.color
                                 ? fmt::format("\033[{}m{}\033[0m: {}",
                                               k_colors[i % std::size(k_colors)], m_hosts[i], pad)
                                 : fmt::format("{}: {}", m_hosts[i], pad));
    }
    if (m_options.gather) m_gathered.resize(m_hosts.size());
}

void LiveOutput::append(std::string& buffer, std::size_t host, std::string_view text) {
    if (m_options.prefix) buffer += m_prefixes[host];
    buffer += text;
    buffer += '\n';
}

void LiveOutput::line(std::size_t host, bool is_stderr, std::string_view text) {
    if (m_options.json) {
        nlohmann::json j{{"host", m_hosts[host]},
                         {"stream", is_stderr ? "stderr" : "stdout"},
                         {"line", std::string(text)}};
        m_out_buffer += j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        m_out_buffer += '\n';
    } else if (m_options.gather && !is_stderr) {
        m_gathered[host] += text;
        m_gathered[host] += '\n';
        return;
    } else {
        append(is_stderr ? m_err_buffer : m_out_buffer, host, text);
    }
    if (m_out_buffer.size() + m_err_buffer.size() >= k_flush_at) flush();
}

void LiveOutput::step_end(std::size_t host, const report::StepResult& step) {
    if (!m_options.json) return;
    nlohmann::json j{{"host", m_hosts[host]},
                     {"event", "exit"},
                     {"step", step.name},
                     {"status", report::to_string(step.status)},
                     {"code", step.exit_code ? nlohmann::json(*step.exit_code) : nullptr},
                     {"duration_s", step.duration_s}};
    m_out_buffer += j.dump() + "\n";
}

void LiveOutput::flush() {
    // One write per buffer (the streams' buffers are sized for it by main).
    if (!m_err_buffer.empty()) {
        m_err.write(m_err_buffer.data(), static_cast<std::streamsize>(m_err_buffer.size()));
        m_err.flush();
        m_err_buffer.clear();
    }
    if (!m_out_buffer.empty()) {
        m_out.write(m_out_buffer.data(), static_cast<std::streamsize>(m_out_buffer.size()));
        m_out.flush();
        m_out_buffer.clear();
    }
}

void LiveOutput::finish() {
    flush();
    if (!m_options.gather) return;
    // Hosts by identical output, each block placed where its first host stands.
    std::map<std::string_view, std::vector<std::size_t>> by_output;
    for (std::size_t i = 0; i < m_gathered.size(); ++i)
        if (!m_gathered[i].empty()) by_output[m_gathered[i]].push_back(i);
    std::vector<const std::vector<std::size_t>*> blocks;
    for (const auto& [text, hosts] : by_output)
        blocks.push_back(&hosts);
    std::sort(blocks.begin(), blocks.end(),
              [](const auto* a, const auto* b) { return a->front() < b->front(); });
    std::string rule(15, '-');
    for (const auto* indexes : blocks) {
        std::vector<std::string> hosts;
        for (std::size_t i : *indexes)
            hosts.push_back(m_hosts[i]);
        std::string header = config::fold_host_list(hosts);
        if (hosts.size() > 1) header += fmt::format(" ({})", hosts.size());
        m_out_buffer +=
            fmt::format("{}\n{}\n{}\n{}", rule,
                        m_options.color ? fmt::format("\033[1m{}\033[0m", header) : header, rule,
                        m_gathered[indexes->front()]);
        flush();
    }
}

} // namespace clusterctl::output
