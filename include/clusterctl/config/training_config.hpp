#pragma once
// clusterctl.yaml: the cluster, the environment and secrets of every remote command, the
// setup steps, the model download and the torchrun launch. docs/CONFIG.md documents every
// key; the key names are a contract that users' files rely on.

#include "clusterctl/util/environment.hpp"
#include "clusterctl/util/result.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace clusterctl::config {

enum class KnownHostsPolicy { strict, accept_new, off };

std::string_view to_string(KnownHostsPolicy policy);

struct EnvVar {
    std::string name;
    std::string value;
};

// A place in the config a host list expression came from ("first", "all", "node-[1-2]").
struct HostSelector {
    std::string expression = "all";
    util::SourceLocation where;
};

// How hosts are reached: over SSH, each as processes of this machine (a single GPU box, or
// the engine without SSH), or as the nodes of a Slurm allocation (srun steps).
enum class Backend { ssh, local, slurm };

struct ClusterSettings {
    Backend backend = Backend::ssh;
    std::optional<std::string> hostfile; // resolved against the config's folder
    util::SourceLocation hostfile_at;
    std::vector<std::pair<std::string, util::SourceLocation>> hosts;  // host list expressions
    std::vector<std::pair<std::string, util::SourceLocation>> spares; // of those hosts
    std::optional<std::string> user;
    std::optional<int> port;
    std::optional<std::string> identity_file;
    std::optional<std::string> ssh_config;
    util::SourceLocation ssh_config_at;
    std::optional<std::string> jump;
    util::SourceLocation jump_at;
    std::optional<int> fanout;
    std::optional<int> connect_timeout;
    std::optional<int> command_timeout;
    std::optional<KnownHostsPolicy> known_hosts;
    std::optional<std::string> shared_dir; // a remote path every node must see the same
};

// slurm: how to ask Slurm for an allocation when clusterctl is not already inside one
// (docs/SLURM.md). Every value is an argument of sbatch, never shell.
struct SlurmSettings {
    std::optional<std::string> partition, account, qos, time, constraint, reservation;
    std::optional<int> nodes;                // default: nnodes, else 1
    std::optional<int> gpus_per_node;        // --gpus-per-node, and the launch step's GPUs
    std::vector<std::string> sbatch_options; // passed as they are: --mem=0, --exclusive, ...
    util::SourceLocation where;
    std::map<std::string, util::SourceLocation> at; // each key's value: "partition" -> ...
};

struct SecretSpec {
    enum class Source { env, file };
    std::string name;
    Source source = Source::env;
    std::string reference; // the local variable's name, or the file's path
    util::SourceLocation where;
};

// A step of setup: or after: (run once training has succeeded).
struct SetupStep {
    std::string name;
    std::string run; // shell, expanded by the remote shell, not by clusterctl
    std::optional<std::string> creates;
    HostSelector on;
    bool activate = true; // false: the config's activate: line is not run first
    util::SourceLocation where;
};

struct DownloadSpec {
    std::string repo;
    std::optional<std::string> revision;
    std::vector<std::string> include;
    std::vector<std::string> exclude;
    std::optional<std::string> to;
    std::string tool = "huggingface-cli"; // or "hf"
    HostSelector on{"first", {}};
    bool distribute = false;
    int retries = 3;
    util::SourceLocation where;
};

struct TemplateSpec {
    std::string src;      // local path, resolved against the config's folder
    std::string dst;      // remote path, relative to train.workdir unless absolute
    std::string rendered; // src with ${VAR} expanded
    util::SourceLocation where;
};

struct RendezvousSettings {
    std::string backend = "c10d"; // c10d | static | etcd | etcd-v2
    int port = 29500;
    std::optional<std::string> endpoint; // host[:port]; default: the first host
    std::optional<std::string> id;       // default: the job id
};

struct TrainSettings {
    std::optional<std::string> workdir;
    std::string torchrun = "torchrun";
    bool gpus = true;                  // device: gpu (check nvidia-smi) or cpu
    std::optional<int> nproc_per_node; // nullopt: auto (GPUs on the node)
    // Given in the config (a number or auto); else it comes from the hostfile's slots.
    bool nproc_per_node_given = false;
    util::SourceLocation nproc_per_node_at;
    std::optional<int> nnodes;     // default: every host that is not a spare
    std::optional<int> min_nnodes; // nnodes: "MIN:MAX": a restart may run on MIN..MAX
    util::SourceLocation nnodes_at;
    RendezvousSettings rdzv;
    std::optional<std::string> module;
    std::optional<std::string> script;
    std::vector<std::string> args;
    std::vector<std::string> torchrun_args;
    int max_restarts = 0;
    // Hang detection (docs/CONFIG.md): seconds of silence that make a hang (0: off), the
    // longer limit before the ranks' first line, and what then: stop (tear down) or wait.
    int hang_timeout_s = 1800;
    int hang_startup_timeout_s = 7200;
    bool stop_on_hang = true;
    // Recovery (docs/CONFIG.md): how many times the job is relaunched after a node is lost
    // or fails, the first wait before a relaunch (doubled each time), the window in which a
    // failure counts double, and where the job keeps checkpoints (CLUSTERCTL_CHECKPOINT_DIR;
    // default: checkpoints/JOB under workdir).
    int restarts = 0;
    int restart_backoff_s = 10;
    int early_failure_s = 120;
    std::optional<std::string> checkpoint_dir;
    std::vector<TemplateSpec> templates;
    util::SourceLocation where;
};

// node_env: variables for some hosts only, e.g. each node's CUDA_VISIBLE_DEVICES.
struct NodeEnv {
    HostSelector on;
    std::vector<EnvVar> env;
};

struct TrainingConfig {
    std::string path;
    std::string dir; // the config's folder: relative paths are taken from here
    ClusterSettings cluster;
    SlurmSettings slurm;
    std::vector<EnvVar> env;
    std::vector<NodeEnv> node_env; // after env, for the hosts each names
    std::vector<SecretSpec> secrets;
    std::optional<std::string> activate;
    std::vector<SetupStep> setup;
    std::vector<DownloadSpec> download;
    std::optional<TrainSettings> train;
    std::vector<SetupStep> after; // once train has succeeded, on the job's nodes

    // nproc_per_node when it is a number, else 1: the slots of a host without slots=.
    int default_slots() const;
};

// A value given on the command line over the file's: --set KEY=VALUE (VALUE read as YAML:
// `train.args=[--steps, 100]`) or --env NAME=VALUE (VALUE as text, into env:).
struct ConfigOverride {
    enum class Kind { set, env };
    Kind kind = Kind::set;
    std::string text;           // KEY=VALUE as given
    util::SourceLocation where; // where it starts on the command line
};

// A clusterctl.yaml is a few KiB (the 405B job's is 3); yaml-cpp takes about a second per
// 1.5 MB of one scalar, so the file is refused past this, before it is parsed.
inline constexpr std::size_t k_config_file_limit = std::size_t{1} << 20;

util::Result<TrainingConfig>
parse_training_config(std::string_view text, const std::string& path, const util::Environment& env,
                      const std::vector<ConfigOverride>& overrides = {});
util::Result<TrainingConfig>
load_training_config(const std::string& path, const util::Environment& env,
                     const util::SourceLocation& origin,
                     const std::vector<ConfigOverride>& overrides = {});

} // namespace clusterctl::config
