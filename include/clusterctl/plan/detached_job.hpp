#pragma once
// A detached training job: `train --detach` starts torchrun on every node in a session of
// its own (setsid), so it outlives clusterctl and its SSH connections; `status`, `logs`
// and `stop` come back to it later. Everything of the job on a node lives in one
// directory, ~/.clusterctl/jobs/JOB/ on that node:
//   NODE.pid      the job's process group on NODE (its leader's PID)
//   NODE.log      torchrun's stdout and stderr, each line stamped; a relaunch (train.restarts)
//                 appends to it
//   NODE.from     the size of NODE.log when the latest launch began: its lines come after
//   NODE.exit     torchrun's exit code, once it has ended
//   NODE.stopped  written by `clusterctl stop` before it kills the group
//   py/sitecustomize.py  put on the ranks' PYTHONPATH (attached runs too): each Python
//                 process of the job writes its stack into stacks/NODE/ when sent SIGUSR2
//   stacks/NODE/rank-R.txt  those stacks, for `clusterctl stacks`
// NODE is the host's name as clusterctl knows it, so nodes sharing a filesystem (and so
// this directory) never write the same file.

#include "clusterctl/plan/planner.hpp"

#include <string>
#include <vector>

namespace clusterctl::plan {

// The node-side body that starts `argv` detached and returns at once.
util::ShellScript detached_launch_body(const std::string& job_id, const std::string& node,
                                       const std::vector<std::string>& argv);

// Shell that makes every Python process the rest of the script starts (torchrun's agent
// and its ranks) dump its stack, all threads, into the job's stacks/NODE/ on SIGUSR2,
// without touching the training script (a sitecustomize on PYTHONPATH).
void add_stack_hook(util::ShellScript& s, const std::string& job_id, const std::string& node);

enum class JobAction {
    status, // per node: running (pid), exited CODE, stopped, lost; fails unless running or 0
    logs,   // per node: the log so far (follow: and what comes, until the job ends)
    stop,   // per node: TERM to the job's process group, KILL after `grace_s`
    watch,  // per node: the supervisor's: the log's new lines until the job ends there, then
            // its end as the job's own exit code (0 when stopped)
    stacks, // per node: every rank's Python stack, now ("=== rank R pid P" before each)
};

struct JobQuery {
    std::string job_id;
    std::vector<std::string> hosts; // the job's nodes, as recorded at launch
    JobAction action = JobAction::status;
    bool follow = false; // logs -f
    int tail = -1;       // logs: the last N lines (then what comes, with follow); -1: all
    int rank = -1;       // logs: only this rank's lines (torchrun's --tee prefix); -1: all
    int grace_s = 10;    // stop
};

// Hosts are the job's, looked up by name in the inventory (an error names one that is
// no longer there).
util::Result<LaunchPlan> plan_job_query(const PlanInputs& in, const JobQuery& query);

} // namespace clusterctl::plan
