#include "clusterctl/plan/recovery.hpp"

#include "clusterctl/util/shell_script.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace clusterctl::plan {
namespace {

bool contains(const std::vector<std::string>& list, const std::string& name) {
    return std::find(list.begin(), list.end(), name) != list.end();
}

} // namespace

RestartPolicy restart_policy(const config::TrainSettings& train, std::size_t nnodes) {
    RestartPolicy policy;
    policy.restarts = train.restarts;
    policy.min_nodes = train.min_nnodes ? *train.min_nnodes : static_cast<int>(nnodes);
    policy.backoff_s = train.restart_backoff_s;
    policy.early_failure_s = train.early_failure_s;
    return policy;
}

RestartVerdict may_restart(const RestartPolicy& policy, const RecoveryState& state,
                           const AttemptEnd& end) {
    RestartVerdict v;
    if (end.succeeded) return v;
    if (end.stopped) {
        v.why = "it was stopped";
        return v;
    }
    if (policy.restarts == 0) {
        v.why = "train.restarts is 0";
        return v;
    }
    bool early = end.seconds < policy.early_failure_s;
    v.cost = early ? 2 : 1;
    int used = state.used + v.cost;
    std::string cost =
        early ? fmt::format("it failed {:.0f} s in (train.early_failure {} s): counts as 2",
                            end.seconds, policy.early_failure_s)
              : std::string("counts as 1");
    if (used > policy.restarts) {
        v.why = fmt::format("{}, and {} of train.restarts {} were used", cost, state.used,
                            policy.restarts);
        return v;
    }
    v.restart = true;
    v.why = fmt::format("{}; {} of {} used", cost, used, policy.restarts);
    long backoff = policy.backoff_s;
    for (int i = 0; i < state.attempt && backoff < k_max_backoff_s; ++i)
        backoff *= 2;
    v.backoff_s = static_cast<int>(std::min<long>(backoff, k_max_backoff_s));
    return v;
}

std::vector<std::string> restart_candidates(const RecoveryState& state, const AttemptEnd& end) {
    std::vector<std::string> out;
    for (const auto& n : end.nodes)
        if (!contains(end.lost, n)) out.push_back(n);
    for (const auto& s : state.spares)
        if (!contains(out, s)) out.push_back(s);
    return out;
}

NextAttempt next_attempt(const RestartPolicy& policy, RecoveryState& state, const AttemptEnd& end,
                         const std::map<std::string, std::string>& probe_failures) {
    NextAttempt next;
    auto probe_failed = [&](const std::string& n) { return probe_failures.count(n) > 0; };
    std::vector<std::pair<std::string, std::string>> out; // node, why
    for (const auto& n : end.nodes) {
        if (contains(end.lost, n))
            out.emplace_back(n, "lost");
        else if (probe_failed(n))
            out.emplace_back(n, "failed the check: " + probe_failures.at(n));
    }
    if (out.empty() && end.first_failure && contains(end.nodes, *end.first_failure))
        out.emplace_back(*end.first_failure, "its ranks failed first");
    next.left_out = out;

    std::vector<std::string> spares; // usable now, in order
    for (const auto& s : state.spares) {
        if (probe_failed(s))
            next.skipped.emplace_back(s, probe_failures.at(s));
        else
            spares.push_back(s);
    }
    std::size_t taken = 0;
    for (const auto& n : end.nodes) {
        auto gone =
            std::find_if(out.begin(), out.end(), [&](const auto& o) { return o.first == n; });
        if (gone == out.end()) {
            next.nodes.push_back(n);
        } else if (taken < spares.size()) {
            next.replaced.emplace_back(spares[taken], n);
            next.nodes.push_back(spares[taken++]);
        }
    }
    for (const auto& [node, why] : out)
        state.left_out.push_back(node);
    // A spare that failed its check is not tried again; one not needed stays a spare.
    std::vector<std::string> still;
    for (std::size_t i = taken; i < spares.size(); ++i)
        still.push_back(spares[i]);
    state.spares = still;
    ++state.attempt;
    if (static_cast<int>(next.nodes.size()) < policy.min_nodes) {
        next.why = fmt::format("{} node{} left, {} needed (train.nnodes{})", next.nodes.size(),
                               next.nodes.size() == 1 ? "" : "s", policy.min_nodes,
                               policy.min_nodes == static_cast<int>(end.nodes.size())
                                   ? ", and no spare left to take a lost node's place"
                                   : " MIN");
        next.nodes.clear();
    }
    return next;
}

util::Result<LaunchPlan> plan_checkpoint_query(const PlanInputs& in, const std::string& node) {
    LaunchPlan plan;
    plan.action = Action::exec;
    plan.job_id = in.job_id;
    auto it = std::find_if(in.inventory.hosts.begin(), in.inventory.hosts.end(),
                           [&](const auto& h) { return h.name == node; });
    if (it == in.inventory.hosts.end() || !in.config || !in.config->train)
        return util::fail(util::error_at(in.command_at, fmt::format("no host {}", node)));
    plan.hosts.push_back(*it);
    const config::TrainSettings& train = *in.config->train;
    RemoteCommand command;
    command.body.add(
        R"SH(ls -1 -- {} 2>/dev/null | sed -n -E 's/^(step-|checkpoint-|global_step)0*([0-9]+)$/\2/p' | sort -n | tail -n 1
)SH",
        checkpoint_dir(train, in.job_id));
    Stage stage;
    stage.name = "checkpoint";
    stage.tasks.push_back({0, std::move(command), {}});
    plan.stages.push_back(std::move(stage));
    return plan;
}

} // namespace clusterctl::plan
