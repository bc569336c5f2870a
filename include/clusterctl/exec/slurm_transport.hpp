#pragma once
// The Slurm transport (cluster.backend: slurm): every host is a node of one Slurm
// allocation, and the tasks a loop turn starts become ONE srun step across their nodes
// (plan/slurm.hpp has its command line and the script every task reads): with the fan-out
// at least the hosts, one step per stage. The loop polls srun's three pipes; what srun
// prints is split by its labels back into each host's output, so the executor sees one
// link per host as over SSH: the same remote wrapper, the same control lines, secrets on
// stdin only (srun's own environment has the config's secrets taken out).
//
// A host's task is over when its script's "exit" line has come on both streams, or when
// srun has ended (then srun's "task N: Exited with exit code ..." or "Killed" says how).
// Cancelling closes the step's stdin once every host still running in it is cancelled:
// every task's watchdog then stops its process group, as when an SSH channel closes. A
// step of a fail-fast stage runs with --kill-on-bad-exit: Slurm ends the other tasks when
// one fails, and those report that they were stopped, not that they failed. Files pushed
// travel as a script in the step's stdin (base64): fit for code and configs; data comes
// through `download` or the shared filesystem.

#include "clusterctl/exec/transport.hpp"

#include <memory>
#include <string>
#include <vector>

namespace clusterctl::exec {

struct SlurmSteps {
    std::string job_id;                   // the allocation every step runs in
    std::vector<std::string> environment; // srun's ("NAME=value"); the secrets' names left out
    std::optional<int> gpus_per_node;     // a launch step's
    std::string home;                     // every task starts here, as sshd starts commands
    std::string srun = "srun";
};

std::unique_ptr<Transport> make_slurm_transport(SlurmSteps steps);

} // namespace clusterctl::exec
