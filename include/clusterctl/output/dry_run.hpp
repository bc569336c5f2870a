#pragma once
// --dry-run: the plan as text for people or as one JSON document. Secret values never
// appear: scripts are rendered with '***' and everything passes through the secret mask.

#include "clusterctl/config/secrets.hpp"
#include "clusterctl/plan/launch_plan.hpp"

#include <string>

namespace clusterctl::output {

std::string render_dry_run_text(const plan::LaunchPlan& plan, const config::SecretStore& secrets);
std::string render_dry_run_json(const plan::LaunchPlan& plan, const config::SecretStore& secrets);

} // namespace clusterctl::output
