#pragma once
// Taking every rank's Python stack on a job's nodes, now (plan::JobAction::stacks: SIGUSR2
// to each rank, whose faulthandler writes its file), over a connection of its own: for
// `clusterctl stacks`, and for a hang the engine declares while the job's own commands
// still run. Private to cli/.

#include "clusterctl/exec/interrupt.hpp"
#include "clusterctl/report/hang_report.hpp"
#include "clusterctl/report/stacks.hpp"
#include "inputs.hpp"

#include <string>
#include <vector>

namespace clusterctl::cli {

struct TakenStacks {
    std::vector<report::RankStack> stacks; // by rank
    std::string error;                     // hosts that gave none, and why
    double seconds = 0;
};

TakenStacks take_stacks(const Inputs& inputs, const std::string& job_id,
                        const std::vector<std::string>& nodes, exec::InterruptWatch& interrupts,
                        const std::string& agent_socket);

// DIR/rank-R.txt for each rank, headed with its node and pid.
void write_stack_files(const std::vector<report::RankStack>& stacks, const std::string& dir);

// What a hang's report says of the stacks: where each rank is, who stands out.
void add_stacks_to(report::HangReport& hang, const TakenStacks& taken, const std::string& dir);

} // namespace clusterctl::cli
