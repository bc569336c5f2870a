#pragma once
// The path every planning subcommand takes: load inputs, build the plan, then print it
// (--dry-run) or hand it to the executor. Private to cli/.

#include "clusterctl/exec/transport.hpp"
#include "clusterctl/report/host_outcome.hpp"
#include "context.hpp"
#include "inputs.hpp"

#include <functional>
#include <memory>
#include <string>

namespace clusterctl::cli {

using Planner = std::function<util::Result<plan::LaunchPlan>(const plan::PlanInputs&)>;
// After a run (not a dry run), with what was run and how it went: `train --detach` keeps
// its job's record here. Returns the exit code.
using AfterRun =
    std::function<int(const plan::LaunchPlan&, const report::RunSummary&, int exit_code)>;

// The way to the hosts the inputs name: SSH, or this machine's processes (backend: local).
std::unique_ptr<exec::Transport> make_transport(const Inputs& inputs,
                                                const std::string& agent_socket);

// Before a run (not a dry run), with its plan and its log folder ("" when none is kept):
// an attached `train` records its job here.
using BeforeRun = std::function<void(const plan::LaunchPlan&, const std::string& log_dir)>;

int run_planned(Context& ctx, const Planner& planner, const AfterRun& after = {},
                const BeforeRun& before = {});

// A context for a run whose nodes' lines are to be read, not shown: each line "NODE: LINE"
// into `into`, no summary unless it failed.
Context capturing(Context& ctx, std::ostream& into);

// What clusterctl keeps on this machine: HOME/.clusterctl (PlanInputs::local_dir).
inline std::string local_dir(const Context& ctx) {
    return ctx.env.home() + "/.clusterctl";
}

} // namespace clusterctl::cli
