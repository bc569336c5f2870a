#pragma once
// `clusterctl hosts`: the resolved host list as an aligned table or as JSON.

#include "clusterctl/config/host_spec.hpp"

#include <string>
#include <vector>

namespace clusterctl::output {

std::string render_host_table(const std::vector<config::HostSpec>& hosts);
std::string render_hosts_json(const std::vector<config::HostSpec>& hosts);

// "user@address:port" and "-" or the jump host, as both tables print them.
std::string describe_jump(const config::HostSpec& host);

} // namespace clusterctl::output
