#include "clusterctl/plan/torchrun.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace clusterctl::plan {

std::optional<HangLimits> hang_limits(const config::TrainSettings& train,
                                      const std::string& job_id) {
    if (train.hang_timeout_s <= 0) return std::nullopt;
    HangLimits limits;
    limits.timeout_s = train.hang_timeout_s;
    limits.startup_timeout_s = train.hang_startup_timeout_s;
    limits.stop = train.stop_on_hang;
    limits.ranks_prefixed = std::any_of(
        train.torchrun_args.begin(), train.torchrun_args.end(), [](const std::string& a) {
            return a == "--tee" || a == "-t" || a.rfind("--tee=", 0) == 0 || a.rfind("-t=", 0) == 0;
        });
    limits.job_id = job_id;
    return limits;
}

std::vector<std::string> torchrun_argv(const config::TrainSettings& train,
                                       const NodePlacement& node) {
    std::vector<std::string> argv{train.torchrun};
    argv.push_back(fmt::format("--nnodes={}", node.nnodes));
    argv.push_back(fmt::format("--nproc_per_node={}", node.nproc_per_node));
    argv.push_back(fmt::format("--node_rank={}", node.node_rank));
    argv.push_back(fmt::format("--rdzv_backend={}", train.rdzv.backend));
    if (train.rdzv.backend == "static") {
        // The static backend reads the master address; ranks follow --node_rank exactly.
        argv.push_back(fmt::format("--master_addr={}", node.master_address));
        argv.push_back(fmt::format("--master_port={}", node.master_port));
    } else {
        argv.push_back(fmt::format("--rdzv_endpoint={}", node.rdzv_endpoint));
        argv.push_back(fmt::format("--rdzv_id={}", node.rdzv_id));
    }
    argv.push_back(fmt::format("--max_restarts={}", train.max_restarts));
    for (const auto& a : train.torchrun_args)
        argv.push_back(a);
    if (train.module) {
        argv.push_back("-m");
        argv.push_back(*train.module);
    } else if (train.script) {
        argv.push_back(*train.script);
    }
    for (const auto& a : train.args)
        argv.push_back(a);
    return argv;
}

} // namespace clusterctl::plan
