#pragma once
// MPI/DeepSpeed hostfiles:
//   # comment
//   node-001 slots=8
//   ubuntu@node-002:2222 slots=8 max_slots=8
//   [::1]:2222
//   node-[003-008,010] slots=8
//   node-009 slots=8 spare      (takes part in a training job only in place of a lost node)
// and the same host names on the command line (-w, -x).

#include "clusterctl/util/result.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace clusterctl::config {

// One host as the user named it, before ssh_config and the YAML are applied.
struct HostEntry {
    std::string name; // host name or address literal, without brackets
    std::optional<std::string> user;
    std::optional<int> port;
    std::optional<int> slots;
    bool spare = false; // the hostfile's `spare`: kept out of a launch until a node is lost
    util::SourceLocation where;
};

util::Result<std::vector<HostEntry>> parse_hostfile(std::string_view text, const std::string& path);

// A host list expression from the command line or the YAML `hosts:` list; each item may
// carry user@ and :port like a hostfile entry.
util::Result<std::vector<HostEntry>> parse_host_expression(std::string_view expression,
                                                           const util::SourceLocation& where);

// Host names hold letters, digits, '.', '-' and '_'; address literals are IPv4 or IPv6.
bool is_valid_host_name(std::string_view name);

// Fails on the second entry of a name that appeared before, naming both places.
util::Status check_unique_names(const std::vector<HostEntry>& hosts);

} // namespace clusterctl::config
