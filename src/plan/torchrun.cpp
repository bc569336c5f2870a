#include "clusterctl/plan/torchrun.hpp"

#include <fmt/format.h>

namespace clusterctl::plan {

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
