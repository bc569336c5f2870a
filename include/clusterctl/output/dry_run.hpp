#pragma once
// --dry-run: the plan as text for people or as one JSON document. Secret values never
// appear: scripts are rendered with '***' and everything passes through the secret mask.

#include "clusterctl/config/secrets.hpp"
#include "clusterctl/plan/launch_plan.hpp"

#include <optional>
#include <string>
#include <vector>

namespace clusterctl::output {

std::string render_dry_run_text(const plan::LaunchPlan& plan, const config::SecretStore& secrets);
std::string render_dry_run_json(const plan::LaunchPlan& plan, const config::SecretStore& secrets);

// backend: slurm: the allocation clusterctl would ask for (empty inside one) and the srun
// of each stage, every task reading the stage's scripts shown above on its stdin.
struct SlurmDryRun {
    std::vector<std::string> allocation; // sbatch's argv; empty: inside SLURM_JOB_ID
    std::string job_id;                  // "$SLURM_JOB_ID" until there is one
    std::optional<int> gpus_per_node;
};
std::string render_slurm_text(const plan::LaunchPlan& plan, const SlurmDryRun& slurm);
std::string render_slurm_json(const plan::LaunchPlan& plan, const SlurmDryRun& slurm,
                              const std::string& dry_run_json);

} // namespace clusterctl::output
