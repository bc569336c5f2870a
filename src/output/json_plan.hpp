#pragma once
// JSON forms shared by the dry-run and hosts renderers. Private to output/.

#include "clusterctl/config/host_spec.hpp"

#include <nlohmann/json.hpp>

namespace clusterctl::output {

nlohmann::ordered_json host_to_json(const config::HostSpec& host);

} // namespace clusterctl::output
