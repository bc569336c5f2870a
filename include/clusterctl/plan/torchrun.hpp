#pragma once
// The torchrun command line of one node. Underscore spellings only: every torchrun
// accepts them, while torch 1.13 (Debian 12's) rejects the dashed ones.

#include "clusterctl/config/training_config.hpp"
#include "clusterctl/plan/launch_plan.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace clusterctl::plan {

struct NodePlacement {
    int nnodes = 1;
    int node_rank = 0;
    std::string nproc_per_node; // a number, or "auto"
    std::string master_address; // the first host's address
    int master_port = 29500;
    std::string rdzv_endpoint; // host:port
    std::string rdzv_id;
};

// What torchrun's agent logs when a worker exits non-zero, followed by the exit code
// ("failed (exitcode: 1) local_rank: 0 (pid: 4242) of binary: ..."), in torch 1.13 and 2.x
// alike. After it, torch 1.13's agent waits at its exit barrier for the other nodes.
inline constexpr std::string_view k_worker_failed = "failed (exitcode: ";

// What watches the job for a hang (train.hang_timeout ...), none when it is off. Ranks'
// lines are told apart when torchrun_args hold --tee (-t).
std::optional<HangLimits> hang_limits(const config::TrainSettings& train,
                                      const std::string& job_id);

std::vector<std::string> torchrun_argv(const config::TrainSettings& train,
                                       const NodePlacement& node);

} // namespace clusterctl::plan
