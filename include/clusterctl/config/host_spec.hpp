#pragma once
// A host fully resolved: what places it in a job (name, address, slots, rank), and apart
// from that, how SSH reaches it.

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

// How a host is reached over SSH: what ssh_config (and the YAML's cluster: keys) say for
// it. Only the SSH transport reads it; planning and the other transports never do.
struct SshSettings {
    int port = 22;
    std::string user;
    std::vector<std::string> identity_files;
    bool identities_only = false;
    std::optional<JumpHost> jump;
    KnownHostsPolicy known_hosts = KnownHostsPolicy::strict;
    std::vector<std::string> known_hosts_files;
    int server_alive_interval_s = 15;
    int server_alive_count_max = 3;
};

struct HostSpec {
    std::string name;    // as the user named it (hostfile, hosts:, -w)
    std::string address; // HostName from ssh_config, or the name
    int slots = 1;
    int rank = 0; // position among the hosts that are not spares (node rank 0 first); -1: spare
    // A spare (hostfile `spare`, cluster.spares): set up and checked with the others, but
    // launched on only in place of a node a training job lost (train.restarts).
    bool spare = false;
    // How long reaching it may take, and a task's start after that (ConnectTimeout), by any
    // transport.
    int connect_timeout_s = 10;
    util::SourceLocation where;
    SshSettings ssh;
};

// "[v6]:port" for IPv6 literals, "host:port" otherwise.
std::string endpoint(const std::string& address, int port);

} // namespace clusterctl::config
