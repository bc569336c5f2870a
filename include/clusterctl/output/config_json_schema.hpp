#pragma once
// clusterctl.yaml as a JSON Schema (draft-07), made from config::config_schema(): what
// editors read for completion and checking (yaml-language-server: a config's first line
// `# yaml-language-server: $schema=/usr/share/clusterctl/clusterctl.schema.json`).
// docs/clusterctl.schema.json is this, committed; a test keeps the two the same.

#include <nlohmann/json.hpp>

namespace clusterctl::output {

nlohmann::json config_json_schema();

} // namespace clusterctl::output
