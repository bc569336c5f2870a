#include "job_recovery.hpp"

#include "clusterctl/exec/interrupt.hpp"
#include "plan_runner.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <poll.h>
#include <sstream>

namespace clusterctl::cli {
namespace {

// A node the run could not reach, or lost while it ran: nothing of the job runs there.
bool unreachable(const report::HostOutcome& h) {
    using util::FailureStage;
    if (h.state != report::HostState::failed) return false;
    switch (h.stage) {
    case FailureStage::resolve:
    case FailureStage::connect:
    case FailureStage::handshake:
    case FailureStage::hostkey:
    case FailureStage::auth:
    case FailureStage::lost:
    case FailureStage::session:
    case FailureStage::channel:
        return true;
    default:
        return false;
    }
}

// A context whose runs show nothing (their lines are read, not shown), for the job's id,
// keeping their logs in `log_dir`.
Context quiet_context(Context& ctx, std::ostream& into, const std::string& job_id,
                      const std::string& log_dir) {
    Context run_ctx = capturing(ctx, into);
    run_ctx.fail_fast = false;
    run_ctx.options.dry_run = false;
    run_ctx.options.job_id = job_id;
    run_ctx.options.log_dir = log_dir;
    return run_ctx;
}

// Why a host failed the pre-flight check: its first "FAILED:" line, else how it ended.
std::string check_failure(const report::HostOutcome& h) {
    for (const auto& line : h.last_lines)
        if (auto at = line.find("FAILED: "); at != std::string::npos) return line.substr(at + 8);
    return fmt::format("{}: {}", report::stage_label(h), h.message);
}

// Waits `seconds`, or until Ctrl-C or SIGTERM: false then.
bool wait_unless_interrupted(int seconds) {
    exec::InterruptWatch interrupts;
    pollfd fd{interrupts.fd(), POLLIN, 0};
    int ready = ::poll(&fd, 1, seconds * 1000);
    return ready <= 0 && interrupts.count() == 0;
}

} // namespace

plan::AttemptEnd attempt_end(const report::RunSummary& run, const std::vector<std::string>& nodes,
                             double seconds) {
    plan::AttemptEnd end;
    end.nodes = nodes;
    end.seconds = seconds;
    end.stopped = run.interrupted;
    for (const auto& h : run.hosts) {
        auto job = report::parse_job_state(h.steps.empty() ? "" : h.steps.back().job);
        if (unreachable(h) || job.kind == report::NodeJobState::Kind::lost)
            end.lost.push_back(h.host);
    }
    if (run.first_failure && *run.first_failure < run.hosts.size())
        end.first_failure = run.hosts[*run.first_failure].host;
    return end;
}

JobRecovery::JobRecovery(Context& ctx, const config::TrainSettings& train,
                         const std::vector<config::HostSpec>& hosts, std::string job_id,
                         std::string log_root)
    : m_ctx(ctx), m_job_id(std::move(job_id)), m_log_root(std::move(log_root)) {
    std::size_t active = 0;
    for (const auto& h : hosts) {
        if (h.spare)
            m_all_spares.push_back(h.name);
        else
            ++active;
    }
    m_policy = plan::restart_policy(train, train.nnodes ? static_cast<std::size_t>(*train.nnodes)
                                                        : active);
    m_state.spares = m_all_spares;
}

void JobRecovery::restore(const report::JobRecord& record) {
    m_state.attempt = record.attempts.empty() ? 0 : static_cast<int>(record.attempts.size()) - 1;
    m_state.used = record.restarts_used;
    m_state.left_out = record.left_out;
    m_state.spares.clear();
    for (const auto& s : m_all_spares) {
        bool taken =
            std::find(record.nodes.begin(), record.nodes.end(), s) != record.nodes.end() ||
            std::find(record.left_out.begin(), record.left_out.end(), s) != record.left_out.end();
        if (!taken) m_state.spares.push_back(s);
    }
}

std::string JobRecovery::attempt_log_dir(int attempt) const {
    if (m_log_root.empty()) return "";
    return fmt::format("{}/attempt-{}", m_log_root, attempt);
}

std::optional<std::vector<std::string>>
JobRecovery::after(const plan::AttemptEnd& end, report::AttemptRecord& attempt, bool& interrupted) {
    interrupted = false;
    auto verdict = plan::may_restart(m_policy, m_state, end);
    if (!verdict.restart) {
        if (!end.succeeded && enabled()) {
            attempt.next = "not restarted: " + verdict.why;
            m_ctx.err << fmt::format("clusterctl: attempt {} failed; not restarted: {}\n",
                                     m_state.attempt, verdict.why);
        }
        return std::nullopt;
    }
    int next_attempt = m_state.attempt + 1;
    auto candidates = plan::restart_candidates(m_state, end);
    m_ctx.err << fmt::format(
        "clusterctl: attempt {} failed{}; restarting ({}); checking {}\n", m_state.attempt,
        end.first_failure ? fmt::format(" ({} first)", *end.first_failure) : std::string(),
        verdict.why, fmt::join(candidates, ", "));
    // The pre-flight check on every candidate: the nodes left, and each spare before it joins.
    std::map<std::string, std::string> failures;
    std::ostringstream captured;
    std::string check_logs = attempt_log_dir(next_attempt);
    Context check_ctx =
        quiet_context(m_ctx, captured, m_job_id, check_logs.empty() ? "" : check_logs + "/check");
    std::optional<report::RunSummary> checked;
    run_planned(
        check_ctx,
        [&](const plan::PlanInputs& in) {
            plan::PlanInputs probe = in;
            probe.nodes = candidates;
            return plan::plan_check(probe);
        },
        [&](const plan::LaunchPlan&, const report::RunSummary& summary, int code) {
            checked = summary;
            return code;
        });
    if (checked && checked->interrupted) {
        interrupted = true;
        attempt.next = "interrupted while checking the nodes";
        return std::nullopt;
    }
    for (const auto& name : candidates) {
        auto h = checked ? std::find_if(checked->hosts.begin(), checked->hosts.end(),
                                        [&](const auto& o) { return o.host == name; })
                         : std::vector<report::HostOutcome>::const_iterator{};
        if (!checked)
            failures[name] = "the check could not run";
        else if (h != checked->hosts.end() && h->state == report::HostState::failed)
            failures[name] = check_failure(*h);
    }
    auto next = plan::next_attempt(m_policy, m_state, end, failures);
    for (const auto& [node, why] : next.left_out)
        m_ctx.err << fmt::format("clusterctl: {} is left out for the rest of the job ({})\n", node,
                                 why);
    for (const auto& [spare, why] : next.skipped)
        m_ctx.err << fmt::format("clusterctl: spare {} skipped: {}\n", spare, why);
    std::vector<std::string> took;
    for (const auto& [spare, node] : next.replaced) {
        m_ctx.err << fmt::format("clusterctl: spare {} takes {}'s place\n", spare, node);
        took.push_back(fmt::format("{} for {}", spare, node));
    }
    if (next.nodes.empty()) {
        attempt.next = "not restarted: " + next.why;
        m_ctx.err << fmt::format("clusterctl: not restarted: {}\n", next.why);
        return std::nullopt;
    }
    m_state.used += verdict.cost;
    attempt.next =
        fmt::format("restarted after {} s on {}{}", verdict.backoff_s, fmt::join(next.nodes, ","),
                    took.empty() ? "" : fmt::format(" ({})", fmt::join(took, ", ")));
    m_ctx.err << fmt::format("clusterctl: attempt {} in {} s on {} node{}: {}\n", next_attempt,
                             verdict.backoff_s, next.nodes.size(),
                             next.nodes.size() == 1 ? "" : "s", fmt::join(next.nodes, ", "))
              << std::flush;
    if (verdict.backoff_s > 0 && !wait_unless_interrupted(verdict.backoff_s)) {
        interrupted = true;
        attempt.next = "interrupted while waiting to restart";
        return std::nullopt;
    }
    return next.nodes;
}

std::optional<long> JobRecovery::resume_step(const std::string& first_node) {
    std::ostringstream captured;
    std::string logs = attempt_log_dir(m_state.attempt);
    Context query_ctx =
        quiet_context(m_ctx, captured, m_job_id, logs.empty() ? "" : logs + "/checkpoint");
    int code = run_planned(query_ctx, [&](const plan::PlanInputs& in) {
        return plan::plan_checkpoint_query(in, first_node);
    });
    if (code != 0) return std::nullopt;
    // "node-001: 10"
    std::string text = captured.str();
    auto colon = text.rfind(": ");
    if (colon == std::string::npos) return std::nullopt;
    try {
        return std::stol(text.substr(colon + 2));
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

} // namespace clusterctl::cli
