#pragma once
// backend: slurm outside an allocation: clusterctl asks Slurm for one (sbatch of a job
// that holds the nodes, plan/slurm.hpp), waits for it with a progress line (the job's
// state, Slurm's reason, its place in the partition's queue), and gives it back (scancel)
// when the command ends, also after Ctrl-C. Private to cli/.

#include "clusterctl/exec/interrupt.hpp"
#include "context.hpp"
#include "inputs.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace clusterctl::cli {

// A short command's end and what it printed (sbatch, squeue, scontrol, scancel).
struct CommandOutput {
    int status = 0; // 127: not found
    std::string out, err;
};
// `env`: the command's environment ("NAME=value"), else clusterctl's own.
CommandOutput run_command(const std::vector<std::string>& argv,
                          const std::vector<std::string>* env = nullptr);

// Gives the allocation back when it goes out of scope.
class HeldAllocation {
public:
    explicit HeldAllocation(SlurmJob job) : m_job(std::move(job)) {}
    ~HeldAllocation();
    HeldAllocation(const HeldAllocation&) = delete;
    HeldAllocation& operator=(const HeldAllocation&) = delete;
    const SlurmJob& job() const { return m_job; }

private:
    SlurmJob m_job;
};

// The allocation, once Slurm has started it; or the exit code (2: Slurm refused the
// request, 1: it ended before it started, 130: interrupted) with what was said on stderr.
struct Allocated {
    std::optional<SlurmJob> job;
    int exit_code = 0;
};
Allocated request_allocation(Context& ctx, const config::TrainingConfig& config,
                             const std::string& job_name, exec::InterruptWatch& interrupts);

// backend: slurm, outside an allocation, not a dry run: asks Slurm for one, runs `body`
// inside it as if under salloc (its context's environment names the allocation:
// SLURM_JOB_ID, SLURM_JOB_NODELIST; the job id is the allocation's name), and gives it
// back after. Otherwise `body` runs with `ctx` as it is.
bool needs_allocation(const Context& ctx, const Inputs& inputs);
int in_allocation(Context& ctx, const Inputs& inputs, const std::function<int(Context&)>& body);

// How a Slurm job ended, when it did not simply end: "TIMEOUT (the allocation's time limit,
// slurm.time)", "NODE_FAIL (node-002)", "CANCELLED"; "" while it runs or when unknown.
std::string slurm_job_end(const std::string& job_id);

} // namespace clusterctl::cli
