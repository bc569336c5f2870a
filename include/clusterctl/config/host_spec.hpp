#pragma once
// A host fully resolved: everything needed to reach it and to place it in a job.

#include "clusterctl/config/training_config.hpp"

#include <optional>
#include <string>
#include <vector>

namespace clusterctl::config {

struct JumpHost {
    std::string name; // as written in ProxyJump or cluster.jump
    std::string address;
    int port = 22;
    std::string user;
    std::vector<std::string> identity_files;
};

struct HostSpec {
    std::string name;    // as the user named it (hostfile, hosts:, -w)
    std::string address; // HostName from ssh_config, or the name
    int port = 22;
    std::string user;
    std::vector<std::string> identity_files;
    bool identities_only = false;
    std::optional<JumpHost> jump;
    KnownHostsPolicy known_hosts = KnownHostsPolicy::strict;
    std::vector<std::string> known_hosts_files;
    int connect_timeout_s = 10;
    int server_alive_interval_s = 15;
    int server_alive_count_max = 3;
    int slots = 1;
    int rank = 0; // position in the host list: node rank 0 is the first host
    util::SourceLocation where;
};

// "[v6]:port" for IPv6 literals, "host:port" otherwise.
std::string endpoint(const std::string& address, int port);

} // namespace clusterctl::config
