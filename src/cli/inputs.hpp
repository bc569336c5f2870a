#pragma once
// Loading what a command works on: config, hosts (hostfile, ssh_config, flags) and secrets.
// Private to cli/.

#include "clusterctl/config/inventory.hpp"
#include "clusterctl/config/secrets.hpp"
#include "clusterctl/plan/planner.hpp"
#include "context.hpp"

#include <optional>

namespace clusterctl::cli {

// backend: slurm: the allocation the nodes come from.
struct SlurmJob {
    std::string job_id; // "": not allocated yet (a dry run shows placeholder nodes)
    std::string nodes;  // Slurm's node list: node-[001-008]
    bool ours = false;  // clusterctl asked for it and gives it back when the command ends
};

struct Inputs {
    std::optional<config::TrainingConfig> config;
    config::Inventory inventory;
    config::SecretStore secrets;
    int retries = 0;
    std::optional<SlurmJob> slurm;
    // srun's environment: clusterctl's, without the config's secrets (they travel on
    // stdin, as over SSH).
    std::vector<std::string> srun_environment;

    const config::TrainingConfig* config_ptr() const { return config ? &*config : nullptr; }
};

// backend: slurm: the nodes are those of the allocation clusterctl runs in (SLURM_JOB_ID,
// SLURM_JOB_NODELIST in ctx.env), or placeholders until it has one.
util::Result<Inputs> load_inputs(const Context& ctx);

// The nodes a new allocation asks for: slurm.nodes, else train.nnodes (its MAX), else 1.
int nodes_wanted(const config::TrainingConfig& config);

// "<config stem>-YYYYmmdd-HHMMSS-xxxx": unique per run, valid as a torchrun rdzv id.
std::string new_job_id(const Inputs& inputs);

} // namespace clusterctl::cli
