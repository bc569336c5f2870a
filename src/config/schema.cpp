#include "clusterctl/config/schema.hpp"

namespace clusterctl::config {
namespace {

using T = ValueType;

constexpr ConfigKey k_keys[] = {
    {"cluster", T::section, "", "where the hosts are and how to reach them"},
    {"cluster.backend", T::choice, "ssh",
     "ssh (every host over SSH), local (every host a process on this machine) or slurm (the "
     "nodes of a Slurm allocation)",
     "ssh|local|slurm"},
    {"cluster.hostfile", T::local_path, "hostfile", "MPI/DeepSpeed hostfile"},
    {"cluster.hosts", T::host_list, "node-[001-008]", "the hosts, instead of a hostfile"},
    {"cluster.spares", T::host_list, "node-009",
     "hosts kept out of a launch until one is lost (train.restarts)"},
    {"cluster.user", T::text, "ubuntu", "remote user"},
    {"cluster.port", T::integer, "22", "SSH port"},
    {"cluster.identity_file", T::local_path, "~/.ssh/id_ed25519", "key tried first"},
    {"cluster.ssh_config", T::local_path, "~/.ssh/config", "OpenSSH client config to read"},
    {"cluster.jump", T::text, "ubuntu@head-node",
     "jump host(s) every worker is reached through, as ProxyJump: a,b for a chain"},
    {"cluster.fanout", T::integer, "256", "hosts connecting or running at once"},
    {"cluster.connect_timeout", T::integer, "10", "seconds to connect and log in"},
    {"cluster.command_timeout", T::integer, "0", "seconds a command may run (0: no limit)"},
    {"cluster.known_hosts", T::choice, "strict", "host key policy", "strict|accept-new|off"},
    {"cluster.shared_dir", T::remote_path, "/home/ubuntu/shared",
     "a folder every node must see the same (checked by check)"},
    {"slurm", T::section, "", "the allocation clusterctl asks Slurm for (backend: slurm)"},
    {"slurm.partition", T::text, "gpu", "sbatch --partition"},
    {"slurm.account", T::text, "ml-team", "sbatch --account"},
    {"slurm.qos", T::text, "high", "sbatch --qos"},
    {"slurm.time", T::text, "2-00:00:00", "sbatch --time: the allocation's time limit"},
    {"slurm.nodes", T::integer, "8", "sbatch --nodes (default: train.nnodes, else 1)"},
    {"slurm.gpus_per_node", T::integer, "8", "sbatch --gpus-per-node"},
    {"slurm.constraint", T::text, "h100", "sbatch --constraint"},
    {"slurm.reservation", T::text, "llama-run", "sbatch --reservation"},
    {"slurm.sbatch_options", T::text_list, "[--exclusive, --mem=0]",
     "further sbatch options, passed as they are"},
    {"env", T::section, "", "variables exported to every remote command"},
    {"env.*", T::text, "/home/ubuntu/cluster-ml-64", "a variable's value"},
    {"node_env", T::section, "", "variables for some hosts only"},
    {"node_env.*", T::host_list, "all", "the hosts the variables below are for"},
    {"node_env.*.*", T::text, "0,1", "a variable's value on those hosts"},
    {"secrets", T::section, "", "values read here, exported on the nodes, never shown"},
    {"secrets.*", T::section, "", "a secret named as the variable it becomes"},
    {"secrets.*.env", T::variable, "HF_TOKEN", "the local environment variable holding it"},
    {"secrets.*.file", T::local_path, "~/.config/hf-token", "the local file holding it"},
    {"activate", T::shell, "source ~/miniconda3/bin/activate pytorch",
     "a shell line run before every remote command"},
    {"setup", T::section, "", "steps run in order on the hosts"},
    {"setup[].name", T::text, "deps", "shown in output; unique"},
    {"setup[].run", T::shell, "./setup.sh", "run by bash on the host"},
    {"setup[].creates", T::remote_path, "/home/ubuntu/.setup-done",
     "skip the step where this path exists"},
    {"setup[].on", T::host_list, "first", "where the step runs"},
    {"setup[].activate", T::boolean, "false",
     "run activate: first (false for a step that creates the environment)"},
    {"download", T::section, "", "model downloads"},
    {"download[].repo", T::text, "meta-llama/Meta-Llama-3.1-8B", "the model's repository"},
    {"download[].revision", T::text, "main", "branch, tag or commit"},
    {"download[].include", T::text_list, "*.safetensors", "--include patterns"},
    {"download[].exclude", T::text_list, "original/*", "--exclude patterns"},
    {"download[].to", T::remote_path, "/home/ubuntu/models/8b", "--local-dir"},
    {"download[].on", T::host_list, "first", "where the download runs"},
    {"download[].tool", T::text, "huggingface-cli", "the downloader on the hosts"},
    {"download[].distribute", T::boolean, "false",
     "download on the first node and copy to the others"},
    {"download[].retries", T::integer, "3", "attempts after a failed one"},
    {"train", T::section, "", "torchrun on every node"},
    {"train.workdir", T::remote_path, "/home/ubuntu/axolotl-cookbook/lambda",
     "cd here before torchrun"},
    {"train.torchrun", T::remote_path, "/home/ubuntu/miniconda3/envs/pytorch/bin/torchrun",
     "torchrun on the hosts"},
    {"train.nproc_per_node", T::integer, "8", "processes per node, or auto", "auto"},
    {"train.nnodes", T::integer, "8",
     "the first nnodes hosts take part; MIN:MAX: a restart may "
     "go on with MIN",
     "", "^[0-9]+:[0-9]+$"},
    {"train.rdzv", T::section, "", "the rendezvous"},
    {"train.rdzv.backend", T::choice, "c10d", "c10d, static, etcd or etcd-v2",
     "c10d|static|etcd|etcd-v2"},
    {"train.rdzv.port", T::integer, "29500", "the rendezvous port on the first host"},
    {"train.rdzv.endpoint", T::text, "node-001:29500", "host[:port] of the rendezvous"},
    {"train.rdzv.id", T::text, "llama-405b", "--rdzv_id"},
    {"train.module", T::text, "axolotl.cli.train", "python -m MODULE"},
    {"train.script", T::remote_path, "train.py", "a script to run"},
    {"train.args", T::text_list, "[configs/llama-3_1-405b-fft.yaml]",
     "arguments of the module or script"},
    {"train.torchrun_args", T::text_list, "[--redirects, \"1\"]", "extra torchrun flags"},
    {"train.max_restarts", T::integer, "0", "torchrun's --max_restarts"},
    {"train.restarts", T::integer, "2", "relaunches after a node is lost or fails (0: none)"},
    {"train.restart_backoff", T::integer, "10",
     "seconds before the first relaunch; doubled each time"},
    {"train.early_failure", T::integer, "120",
     "a failure this many seconds into an attempt counts as two restarts"},
    {"train.checkpoint_dir", T::remote_path, "/home/ubuntu/shared/checkpoints/llama",
     "CLUSTERCTL_CHECKPOINT_DIR of the ranks (default: workdir/checkpoints/JOB)"},
    {"train.hang_timeout", T::integer, "1800", "seconds without a line that make a hang (0: off)"},
    {"train.hang_startup_timeout", T::integer, "7200",
     "the same before the ranks' first line (loading)"},
    {"train.on_hang", T::choice, "stop", "stop (tear down) or wait, once the stacks are taken",
     "stop|wait"},
    {"train.templates", T::section, "", "local files with ${VAR} expanded, shipped to hosts"},
    {"train.templates[].src", T::local_path, "llama.yaml.in", "the local template"},
    {"train.templates[].dst", T::remote_path, "configs/llama.yaml",
     "where it goes, relative to workdir"},
    {"train.device", T::choice, "gpu", "gpu or cpu", "gpu|cpu"},
    {"after", T::section, "", "steps run on the job's nodes once training has succeeded"},
    {"after[].name", T::text, "merge", "shown in output; unique"},
    {"after[].run", T::shell, "python -m axolotl.cli.merge_sharded_fsdp_weights llama.yaml",
     "run by bash on the host, in train.workdir"},
    {"after[].creates", T::remote_path, "/home/ubuntu/shared/merged",
     "skip the step where this path exists"},
    {"after[].on", T::host_list, "first", "which of the job's nodes run it"},
    {"after[].activate", T::boolean, "false", "run activate: first"},
};

} // namespace

std::span<const ConfigKey> config_schema() {
    return k_keys;
}

std::vector<std::string> keys_under(std::string_view section) {
    std::vector<std::string> keys;
    for (const auto& key : k_keys) {
        std::string_view path = key.path;
        std::string_view rest;
        if (section.empty()) {
            rest = path;
        } else if (path.size() > section.size() + 1 && path.substr(0, section.size()) == section &&
                   path[section.size()] == '.') {
            rest = path.substr(section.size() + 1);
        } else {
            continue;
        }
        if (rest.find('.') != std::string_view::npos) continue; // deeper
        if (rest.ends_with("[]")) continue;
        keys.emplace_back(rest);
    }
    return keys;
}

} // namespace clusterctl::config
