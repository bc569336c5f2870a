#pragma once
// Loading what a command works on: config, hosts (hostfile, ssh_config, flags) and secrets.
// Private to cli/.

#include "clusterctl/config/inventory.hpp"
#include "clusterctl/config/secrets.hpp"
#include "clusterctl/plan/planner.hpp"
#include "context.hpp"

#include <optional>

namespace clusterctl::cli {

struct Inputs {
    std::optional<config::TrainingConfig> config;
    config::Inventory inventory;
    config::SecretStore secrets;
    int retries = 0;

    const config::TrainingConfig* config_ptr() const { return config ? &*config : nullptr; }
};

util::Result<Inputs> load_inputs(const Context& ctx);

// "<config stem>-YYYYmmdd-HHMMSS-xxxx": unique per run, valid as a torchrun rdzv id.
std::string new_job_id(const Inputs& inputs);

} // namespace clusterctl::cli
