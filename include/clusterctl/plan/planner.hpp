#pragma once
// Pure planning: resolved inputs in, a LaunchPlan out. No I/O, no clock, no randomness
// (the job id is an input), so every plan is reproducible and tested as data.

#include "clusterctl/config/inventory.hpp"
#include "clusterctl/plan/launch_plan.hpp"

#include <optional>
#include <string>
#include <vector>

namespace clusterctl::plan {

struct PlanInputs {
    const config::Inventory& inventory;
    const config::TrainingConfig* config = nullptr; // null: hosts from -w/--hostfile only
    std::string job_id;
    util::SourceLocation command_at{util::k_command_line_file, 1, 1};
    bool preflight = true; // train: run the pre-flight check first (--no-check: false)
    bool detach = false;   // train: start the job so it outlives clusterctl
    std::string local_dir = "~/.clusterctl"; // on this machine: download's staging folder
    // train: the attempt of the job (train.restarts; 0 first) and the hosts it runs on, by
    // name, node rank 0 first; empty: the first nnodes hosts that are not spares.
    int attempt = 0;
    std::vector<std::string> nodes{};
    // train: the after: steps as stages following the launch (a dry run shows them; a run
    // carries them out apart, with plan_after, once the job has succeeded).
    bool after_steps = false;
};

// `command` is run by the remote shell as typed, as ssh and pdsh do with their arguments.
util::Result<LaunchPlan> plan_exec(const PlanInputs& in, const std::string& command);
// A destination ending in '/' is a folder the source goes into (as scp: `push train.py
// /shared/run/` writes /shared/run/train.py; `push -r configs /shared/run/` /shared/run/configs).
util::Result<LaunchPlan> plan_push(const PlanInputs& in, const FileTransfer& transfer);
util::Result<LaunchPlan> plan_setup(const PlanInputs& in);
util::Result<LaunchPlan> plan_download(const PlanInputs& in);
util::Result<LaunchPlan> plan_check(const PlanInputs& in);
util::Result<LaunchPlan> plan_train(const PlanInputs& in);
// The after: steps of a job that has succeeded, on its nodes (`nodes`, else the first
// launch's); no stages when the config has none.
util::Result<LaunchPlan> plan_after(const PlanInputs& in);

// Where `download: distribute: true` keeps the first nodes' downloads of job JOB on this
// machine: LOCAL_DIR/staging/JOB, one folder in it per download (its stage number).
std::string staging_dir(const std::string& local_dir, const std::string& job_id);

// The hosts a training job starts on (attempt 0): the first nnodes that are not spares.
std::vector<config::HostSpec> launch_hosts(const config::Inventory& inventory,
                                           const config::TrainSettings& train);

// A remote path of the config as the nodes take it: relative ones are under train.workdir
// (a template's dst, the checkpoint folder).
std::string remote_path(const config::TrainSettings& train, const std::string& path);

// The checkpoint folder the ranks of job JOB are told (CLUSTERCTL_CHECKPOINT_DIR):
// train.checkpoint_dir, else checkpoints/JOB under the workdir.
std::string checkpoint_dir(const config::TrainSettings& train, const std::string& job_id);

// The remote command every step starts from: env, secrets by name, activate.
RemoteCommand base_command(const config::TrainingConfig* config);

} // namespace clusterctl::plan
