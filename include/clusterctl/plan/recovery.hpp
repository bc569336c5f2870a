#pragma once
// Recovery of a training job (train.restarts): when a node is lost or its torchrun fails,
// the job is torn down, then relaunched with a fresh rendezvous on the nodes that are left
// plus a spare in place of each node left out, or on fewer nodes down to nnodes' MIN.
// Pure rules, decided from how an attempt ended and what a probe of the candidates found;
// the CLI (attached) and the supervisor (detached) carry them out the same way.

#include "clusterctl/config/host_spec.hpp"
#include "clusterctl/plan/planner.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace clusterctl::plan {

inline constexpr int k_max_backoff_s = 300;

struct RestartPolicy {
    int restarts = 0;          // the budget; a failure within early_failure_s costs 2
    int min_nodes = 1;         // the fewest nodes an attempt may run on
    int backoff_s = 10;        // before the first relaunch; doubled each time
    int early_failure_s = 120; // a failure this soon into an attempt counts double
};

RestartPolicy restart_policy(const config::TrainSettings& train, std::size_t nnodes);

// How an attempt ended, as its run (attached) or its watch (detached) saw it.
struct AttemptEnd {
    std::vector<std::string> nodes;           // node rank 0 first
    bool succeeded = false;                   // every node's job exited 0
    bool stopped = false;                     // Ctrl-C, or `clusterctl stop`: no restart
    std::vector<std::string> lost;            // nodes whose connection or processes went away
    std::optional<std::string> first_failure; // the node that failed first
    double seconds = 0;                       // how long it ran
};

// What the job has been through: carried from one attempt to the next (and in the record).
struct RecoveryState {
    int attempt = 0;                 // the attempt that just ended (0 first)
    int used = 0;                    // restarts used; an early failure counts 2
    std::vector<std::string> spares; // spares not yet taken, in the hostfile's order
    std::vector<std::string> left_out;
};

struct RestartVerdict {
    bool restart = false;
    int cost = 0;      // what this failure uses of the budget (1, or 2 when early)
    int backoff_s = 0; // to wait before the relaunch
    std::string why;   // why not, or what it cost ("failed 12 s in: counts 2 of 2")
};

// May the job restart at all after `end`? Not when it succeeded or was stopped, nor past
// the budget. The caller adds `cost` to state.used when it restarts.
RestartVerdict may_restart(const RestartPolicy& policy, const RecoveryState& state,
                           const AttemptEnd& end);

// Who the next attempt may run on, to be probed (the pre-flight check) before it: the
// attempt's nodes not lost, then every spare not yet taken.
std::vector<std::string> restart_candidates(const RecoveryState& state, const AttemptEnd& end);

struct NextAttempt {
    std::vector<std::string> nodes; // empty: the job cannot go on (why)
    // Nodes left out for the rest of the job, and why; spares that took a node's place
    // (spare -> the node); spares that failed the probe, and why.
    std::vector<std::pair<std::string, std::string>> left_out, replaced, skipped;
    std::string why;
};

// The next attempt's nodes. A node is left out when it was lost or failed the probe; when
// none was, the node that failed first is (its own ranks failed). A spare that passed the
// probe takes each left-out node's place (and node rank); with none left, the job goes on
// with fewer nodes down to min_nodes. Updates `state` (spares taken, nodes left out).
NextAttempt next_attempt(const RestartPolicy& policy, RecoveryState& state, const AttemptEnd& end,
                         const std::map<std::string, std::string>& probe_failures);

// Which step the next attempt resumes from, as far as clusterctl can tell: one stage on
// `node` that prints the largest N among the checkpoint folder's entries named step-N
// (the example scripts'), checkpoint-N (Hugging Face Trainer's, Axolotl's) or global_stepN
// (DeepSpeed's); nothing when there is none. The folder is train.checkpoint_dir's.
util::Result<LaunchPlan> plan_checkpoint_query(const PlanInputs& in, const std::string& node);

} // namespace clusterctl::plan
