#include "stack_collection.hpp"

#include "clusterctl/config/host_list.hpp"
#include "clusterctl/exec/executor.hpp"
#include "clusterctl/plan/detached_job.hpp"
#include "plan_runner.hpp"

#include <algorithm>
#include <chrono>
#include <fmt/format.h>
#include <fstream>

namespace clusterctl::cli {
namespace {

// The stacks come back as the nodes' lines, "NODE: LINE", as report::parse_rank_stacks
// reads them.
class Capture : public exec::RunObserver {
public:
    explicit Capture(const plan::LaunchPlan& plan) : m_plan(plan) {}
    void on_line(std::size_t host, bool is_stderr, std::string_view line) override {
        if (is_stderr) return;
        m_text.append(m_plan.hosts[host].name).append(": ").append(line).append("\n");
    }
    const std::string& text() const { return m_text; }

private:
    const plan::LaunchPlan& m_plan;
    std::string m_text;
};

} // namespace

TakenStacks take_stacks(const Inputs& inputs, const std::string& job_id,
                        const std::vector<std::string>& nodes, exec::InterruptWatch& interrupts,
                        const std::string& agent_socket) {
    auto began = std::chrono::steady_clock::now();
    TakenStacks taken;
    plan::PlanInputs in{inputs.inventory, inputs.config_ptr(), job_id};
    auto plan = plan::plan_job_query(in, {job_id, nodes, plan::JobAction::stacks});
    if (!plan) {
        taken.error = plan.error().message;
        return taken;
    }
    exec::ExecutorOptions options;
    options.fanout = plan->fanout;
    options.command_timeout_s = 30; // the nodes' script gives the ranks 5 s to write
    options.agent_socket = agent_socket;
    Capture capture(*plan);
    auto transport = make_transport(inputs, agent_socket);
    auto summary = exec::execute(*plan, inputs.secrets, options, capture, interrupts, *transport);
    taken.stacks = report::parse_rank_stacks(capture.text());
    std::sort(taken.stacks.begin(), taken.stacks.end(),
              [](const auto& a, const auto& b) { return a.rank < b.rank; });
    std::vector<std::string> failed;
    for (const auto& h : summary.hosts)
        if (h.state != report::HostState::done)
            failed.push_back(fmt::format("{}: {}", h.host,
                                         !h.last_lines.empty() ? h.last_lines.back() : h.message));
    for (const auto& f : failed)
        taken.error += (taken.error.empty() ? "" : "; ") + f;
    taken.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    return taken;
}

void write_stack_files(const std::vector<report::RankStack>& stacks, const std::string& dir) {
    if (dir.empty()) return;
    for (const auto& s : stacks)
        std::ofstream(fmt::format("{}/rank-{}.txt", dir, s.rank))
            << fmt::format("# rank {} on {}, pid {}\n", s.rank, s.node, s.pid) << s.text;
}

void add_stacks_to(report::HangReport& hang, const TakenStacks& taken, const std::string& dir) {
    write_stack_files(taken.stacks, dir);
    hang.ranks = static_cast<int>(taken.stacks.size());
    hang.stacks_s = taken.seconds;
    hang.stacks_dir = taken.stacks.empty() ? "" : dir;
    hang.places = report::summarize_stacks(taken.stacks);
    for (const auto& s : report::odd_ranks_out(taken.stacks)) {
        hang.suspects.push_back(fmt::format("rank {} ({})", s.rank, s.node));
        if (hang.suspect_node.empty()) hang.suspect_node = s.node;
    }
    hang.stacks_error = taken.error;
    if (taken.stacks.empty() && hang.stacks_error.empty())
        hang.stacks_error = "no rank's stack came back";
}

} // namespace clusterctl::cli
