#pragma once
// Resolves the host list and the settings for each host. Precedence, lowest first:
// defaults < ssh_config < the YAML `cluster:` section < command-line flags < what a
// hostfile line says about its own host (user@host:port).

#include "clusterctl/config/host_spec.hpp"
#include "clusterctl/config/training_config.hpp"

#include <optional>
#include <string>
#include <vector>

namespace clusterctl::config {

template <typename T> struct Located {
    T value;
    util::SourceLocation where;
};

// Settings given by flags; each remembers where on the command line it was given.
struct Overrides {
    std::optional<Located<std::string>> hostfile;
    std::optional<Located<std::string>> hosts;   // -w
    std::optional<Located<std::string>> exclude; // -x
    std::optional<Located<std::string>> ssh_config;
    std::optional<int> fanout;
    std::optional<int> connect_timeout;
    std::optional<int> command_timeout;
    // backend: slurm: the allocation's nodes (SLURM_JOB_NODELIST, or what sbatch gave).
    std::optional<Located<std::string>> allocation_nodes;
};

struct Inventory {
    std::vector<HostSpec> hosts;
    int fanout = 256;
    int command_timeout_s = 0; // 0: none
    std::optional<std::string> ssh_config_path;
    // What the user is told once and the run goes on: ssh_config keys set for these hosts
    // that clusterctl does not apply.
    std::vector<util::Diagnostic> warnings;
};

// `config` is null when clusterctl runs with --hostfile or -w and no config file.
util::Result<Inventory> resolve_inventory(const TrainingConfig* config, const Overrides& flags,
                                          const util::Environment& env);

// train.nproc_per_node, when the config leaves it out, is the hostfile's slots= (the same
// on every node, else an error); when both are given and disagree, a warning says which
// wins (nproc_per_node).
util::Status settle_processes_per_node(TrainingConfig& config, Inventory& inventory);

// "all", "first", "last" or a host list expression -> indexes into `hosts`. A named host
// not in `hosts` is an error, or left out with `absent_ok` (node_env: -w may leave it out).
util::Result<std::vector<std::size_t>> select_hosts(const HostSelector& selector,
                                                    const std::vector<HostSpec>& hosts,
                                                    bool absent_ok = false);

} // namespace clusterctl::config
