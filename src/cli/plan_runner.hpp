#pragma once
// The path every planning subcommand takes: load inputs, build the plan, then print it
// (--dry-run) or hand it to the executor. Private to cli/.

#include "context.hpp"
#include "inputs.hpp"

#include <functional>
#include <string>

namespace clusterctl::cli {

using Planner = std::function<util::Result<plan::LaunchPlan>(const plan::PlanInputs&)>;

int run_planned(Context& ctx, const Planner& planner);

} // namespace clusterctl::cli
