#pragma once
// A host fully resolved: what places it in a job (name, address, slots, rank), and apart
// from that, how SSH reaches it.

#include "clusterctl/config/training_config.hpp"

#include <optional>
#include <string>
#include <vector>

namespace clusterctl::config {

// A host a connection passes through on its way (ProxyJump, cluster.jump).
struct JumpHost {
    std::string name; // as written in ProxyJump or cluster.jump
    std::string address;
    int port = 22;
    std::string user;
    std::vector<std::string> identity_files;
    std::optional<std::string> host_key_alias;
};

// How a host is reached over SSH: what ssh_config (and the YAML's cluster: keys) say for
// it. Only the SSH transport reads it; planning and the other transports never do.
struct SshSettings {
    int port = 22;
    std::string user;
    std::vector<std::string> identity_files;
    bool identities_only = false;
    // The way there: through these jump hosts, outermost first, each reached through the
    // one before it; the first of them (the host itself when there are none) reached over
    // proxy_command's stdin and stdout when it is set, else by TCP.
    std::vector<JumpHost> jumps;
    std::optional<std::string> proxy_command; // %-tokens expanded; run with /bin/sh -c
    KnownHostsPolicy known_hosts = KnownHostsPolicy::strict;
    std::vector<std::string> known_hosts_files;
    std::optional<std::string> host_key_alias; // the name known_hosts holds the key under
    // ssh-agent: unset: SSH_AUTH_SOCK's; empty: none (IdentityAgent none); else this socket.
    std::optional<std::string> identity_agent;
    int server_alive_interval_s = 15;
    int server_alive_count_max = 3;
    // KexAlgorithms, HostKeyAlgorithms, Ciphers, MACs in OpenSSH's list syntax; unset:
    // libssh2's defaults.
    std::optional<std::string> kex_algorithms, host_key_algorithms, ciphers, macs;
};

struct HostSpec {
    std::string name;    // as the user named it (hostfile, hosts:, -w)
    std::string address; // HostName from ssh_config, or the name
    int slots = 1;
    bool slots_given = false; // slots= in the hostfile (else train.nproc_per_node's)
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
