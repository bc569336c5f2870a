#pragma once
// The pre-flight check of a training job, as stages of a plan: `clusterctl check` runs
// them alone, `clusterctl train` before its launch, over the same sessions. Every host
// must pass them (Stage::all_must_pass): a job never starts on some nodes only.
//
// On every node: torchrun found; its python imports torch (and torch 1.13 on Python 3.11
// has the --redirects flags it needs); GPUs (nvidia-smi -L) at least nproc_per_node, or
// `auto` resolved; the workdir exists. On the first node: the rendezvous port is free.
// With cluster.shared_dir: a token the first node writes there is read back on every node.
// Each failure is one line naming what is wrong, and one naming the fix.

#include "clusterctl/plan/launch_plan.hpp"

#include <string>
#include <vector>

namespace clusterctl::plan {

// `plan` gives the hosts (the first is node rank 0); `job_id` makes the shared token.
std::vector<Stage> preflight_stages(const LaunchPlan& plan, const config::TrainingConfig* config);

} // namespace clusterctl::plan
