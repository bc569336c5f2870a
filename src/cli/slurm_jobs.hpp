#pragma once
// Detached jobs on Slurm: `train --detach` with backend: slurm submits a Slurm batch job
// whose script runs `clusterctl train` inside the job's own allocation: Slurm keeps the
// job (no supervisor of clusterctl's on the login node), and the clusterctl inside it is
// the job's supervisor, with the same fail-fast, hang and restart rules as an attached
// run. status, logs, stop and jobs ask Slurm (squeue, scontrol, the job's output file,
// scancel) and read the record that the clusterctl inside keeps on the shared home.
// Private to cli/.

#include "clusterctl/plan/detached_job.hpp"
#include "clusterctl/report/job_record.hpp"
#include "context.hpp"
#include "inputs.hpp"

#include <string>

namespace clusterctl::cli {

// Writes the batch script (and, mode 0600, the secrets it reads and removes), submits it,
// records the job, prints its id on stdout. Exit code.
int submit_detached_train(Context& ctx, const Inputs& inputs, bool no_check);

// status, logs (-f) and stop of a job submitted so.
int slurm_job_command(Context& ctx, const report::JobRecord& record, plan::JobAction action,
                      bool follow, int tail);

// What Slurm says of a batch job now: "PENDING (Resources)", "RUNNING on node-[001-002]";
// "" when it has left the queue.
std::string slurm_queue_state(const std::string& slurm_job);

// A batch job's state as `jobs` shows it: how it ended (the record), else pending or
// running (Slurm), else lost.
std::string slurm_batch_state(const report::JobRecord& record);

} // namespace clusterctl::cli
