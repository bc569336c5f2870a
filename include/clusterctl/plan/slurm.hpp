#pragma once
// The Slurm backend's commands, as data: the sbatch that asks for an allocation, the srun
// of one step across the allocation's nodes, and the script every task of a step reads on
// its stdin. Pure: the dry run prints them, exec/slurm_transport.cpp and
// cli/slurm_allocation.cpp run them.
//
// A step is one srun over every node of a stage, one task per node, its output labelled
// with the task's number (--label), the same stdin to every task (--input=all): the remote
// wrapper's framed script, which picks the node's own script by SLURMD_NODENAME. A task
// says which node it is before anything else (the "node" control line, on stdout and on
// stderr) and, at the end, the script's status ("exit N", on both): so srun's labels map to
// hosts, and a node whose two streams both said "exit" has printed everything.

#include "clusterctl/config/training_config.hpp"

#include <string>
#include <utility>
#include <vector>

namespace clusterctl::plan {

struct StepOptions {
    std::string job_id;               // the allocation (SLURM_JOB_ID)
    std::vector<std::string> nodes;   // in the plan's order
    bool kill_on_bad_exit = false;    // a launch: Slurm ends every task when one fails
    std::optional<int> gpus_per_node; // a launch: the node's GPUs for torchrun's ranks
    std::string name = "clusterctl";  // the step's name in squeue -s
    std::string chdir;                // where every task starts (the home directory, as sshd)
};

// srun ... bash -c TASK_COMMAND: the step's argv, the task's command last.
std::vector<std::string> srun_argv(const StepOptions& step, const std::string& task_command);

// What every task runs: its node on both streams, then `wrapper` (exec/remote_wrapper.hpp).
std::string slurm_task_command(const std::string& wrapper);

// The script of a step: each node's own script (given as (node, script), nodes with the
// same script grouped), run in a subshell, its status said on both streams.
std::string step_script(const std::vector<std::pair<std::string, std::string>>& node_scripts);

// Files as a script: folders made, each file's bytes in base64, written beside its
// destination and renamed into place, its mode set (a push through a Slurm step).
struct ScriptFile {
    std::string path; // relative to the home directory unless absolute
    std::string bytes;
    int mode = 0644;
    bool directory = false;
};
std::string files_script(const std::vector<ScriptFile>& files, const std::string& tag);

// sbatch with the slurm: settings: `job_name`, `nodes` when slurm.nodes is not given, its
// output into `output`. Then either the job that only holds an allocation (sleeps until
// cancelled), or a batch script (train --detach: clusterctl train inside the allocation).
std::vector<std::string> sbatch_argv(const config::SlurmSettings& slurm, int nodes,
                                     const std::string& job_name, const std::string& output);
std::vector<std::string> allocation_argv(const config::SlurmSettings& slurm, int nodes,
                                         const std::string& job_name);

// The batch script of `train --detach` on Slurm: the secrets' file (if any) read into the
// environment and removed, then clusterctl itself runs the job inside the allocation.
struct BatchTrain {
    std::string clusterctl; // this executable, on the shared filesystem
    std::string config;     // absolute
    std::string job_id;
    std::string secrets_file; // "" when the config has no secret from the environment
    std::string log_dir;      // "" : clusterctl's default
    bool no_check = false;
    std::vector<std::string> overrides; // "--set", "KEY=VALUE", "--env", ... as given
};
std::string batch_train_script(const BatchTrain& batch);

// A Slurm job id as sbatch --parsable prints it ("1234" or "1234;cluster").
bool is_slurm_job_id(const std::string& text);

} // namespace clusterctl::plan
