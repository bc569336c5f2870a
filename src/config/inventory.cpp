#include "clusterctl/config/inventory.hpp"

#include "clusterctl/config/hostfile.hpp"
#include "clusterctl/config/ssh_config.hpp"
#include "clusterctl/util/strings.hpp"
#include "clusterctl/util/text_file.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <map>

namespace clusterctl::config {
namespace {

using util::error_at;
using util::fail;

constexpr int k_default_connect_timeout_s = 10;
constexpr int k_default_alive_interval_s = 15;
constexpr int k_default_alive_count = 3;

util::Result<std::vector<HostEntry>> read_host_entries(const TrainingConfig* config,
                                                       const Overrides& flags) {
    if (flags.hosts && flags.hostfile)
        return fail(
            error_at(flags.hosts->where, "-w and --hostfile are both given", "use one of them"));
    if (flags.hosts) return parse_host_expression(flags.hosts->value, flags.hosts->where);
    if (config && config->cluster.backend == Backend::slurm) {
        // The nodes are Slurm's to give: the allocation's, never a hostfile's.
        if (config->cluster.hostfile || !config->cluster.hosts.empty())
            return fail(error_at(config->cluster.hostfile ? config->cluster.hostfile_at
                                                          : config->cluster.hosts.front().second,
                                 "cluster.backend: slurm takes its nodes from the allocation",
                                 "remove cluster.hostfile and cluster.hosts; -w picks some of "
                                 "the allocation's nodes"));
        if (flags.allocation_nodes)
            return parse_host_expression(flags.allocation_nodes->value,
                                         flags.allocation_nodes->where);
    }
    std::optional<Located<std::string>> hostfile = flags.hostfile;
    if (!hostfile && config && config->cluster.hostfile)
        hostfile = Located<std::string>{*config->cluster.hostfile, config->cluster.hostfile_at};
    if (hostfile) {
        auto text = util::read_text_file(hostfile->value, "hostfile", hostfile->where);
        if (!text) return fail(text.error());
        return parse_hostfile(*text, hostfile->value);
    }
    if (config && !config->cluster.hosts.empty()) {
        std::vector<HostEntry> all;
        for (const auto& [expression, where] : config->cluster.hosts) {
            auto entries = parse_host_expression(expression, where);
            if (!entries) return entries;
            for (auto& e : *entries)
                all.push_back(std::move(e));
        }
        if (auto s = check_unique_names(all); !s) return fail(s.error());
        return all;
    }
    util::SourceLocation where = config ? util::SourceLocation{config->path, 1, 1}
                                        : util::SourceLocation{util::k_command_line_file, 1, 1};
    return fail(error_at(where, "no hosts given",
                         "set cluster.hostfile or cluster.hosts, or pass --hostfile FILE or -w "
                         "HOSTS"));
}

util::Status apply_exclusions(std::vector<HostEntry>& entries, const Overrides& flags) {
    if (!flags.exclude) return util::Ok{};
    auto excluded = parse_host_expression(flags.exclude->value, flags.exclude->where);
    if (!excluded) return fail(excluded.error());
    std::erase_if(entries, [&](const HostEntry& e) {
        for (const auto& x : *excluded)
            if (x.name == e.name) return true;
        return false;
    });
    if (entries.empty())
        return fail(error_at(flags.exclude->where, "-x excludes every host", "nothing would run"));
    return util::Ok{};
}

// cluster.spares: each names hosts of the list (a host left out by -w or -x is no error).
util::Status mark_spares(std::vector<HostEntry>& entries, const TrainingConfig* config,
                         const Overrides& flags) {
    if (!config) return util::Ok{};
    for (const auto& [expression, where] : config->cluster.spares) {
        auto named = parse_host_expression(expression, where);
        if (!named) return fail(named.error());
        for (const auto& spare : *named) {
            auto it = std::find_if(entries.begin(), entries.end(),
                                   [&](const HostEntry& e) { return e.name == spare.name; });
            if (it != entries.end())
                it->spare = true;
            else if (!flags.hosts && !flags.exclude)
                return fail(error_at(where,
                                     fmt::format("cluster.spares names {}, which is not one of "
                                                 "the hosts",
                                                 spare.name),
                                     "a spare is listed with the hosts too (cluster.hosts or "
                                     "the hostfile), then named here"));
        }
    }
    return util::Ok{};
}

util::Result<std::optional<SshConfig>> load_ssh_config(const TrainingConfig* config,
                                                       const Overrides& flags,
                                                       const util::Environment& env,
                                                       std::optional<std::string>& used_path) {
    std::optional<Located<std::string>> path = flags.ssh_config;
    if (!path && config && config->cluster.ssh_config)
        path = Located<std::string>{*config->cluster.ssh_config, config->cluster.ssh_config_at};
    if (!path) {
        // The user's own file is read when it exists; its absence is no error.
        std::string user_file = env.home() + "/.ssh/config";
        if (!util::file_exists(user_file)) return std::optional<SshConfig>{};
        path = Located<std::string>{user_file, {util::k_command_line_file, 1, 1}};
    }
    used_path = path->value;
    auto loaded = SshConfig::load(path->value, env, path->where);
    if (!loaded) return fail(loaded.error());
    return std::optional<SshConfig>(std::move(*loaded));
}

constexpr std::size_t k_max_jumps = 8;

// ssh_config for the hosts of one run: each host's options, and what is to be said once.
class SshLookup {
public:
    SshLookup(const std::optional<SshConfig>& config, const util::Environment& env,
              std::vector<util::Diagnostic>& warnings)
        : m_config(config), m_env(env), m_local(LocalHost::of(env)), m_warnings(warnings) {}

    util::Result<SshOptions> options(const std::string& host) {
        if (!m_config) return SshOptions{};
        auto o = m_config->lookup(host, m_local, m_env);
        if (!o) return o;
        for (auto& d : o->not_applied)
            warn(std::move(d));
        if (o->forward_agent.value_or(false))
            warn(error_at(o->forward_agent_at, "ForwardAgent is not applied",
                          "libssh2 1.10 cannot serve the agent channels sshd opens back to the "
                          "client, so a command on a node finds no agent: 'ssh' from one node "
                          "to another needs a key of its own there"));
        return o;
    }

    const util::Environment& env() const { return m_env; }

private:
    void warn(util::Diagnostic d) {
        for (const auto& w : m_warnings)
            if (w.where.file == d.where.file && w.where.line == d.where.line &&
                w.message == d.message)
                return;
        m_warnings.push_back(std::move(d));
    }

    const std::optional<SshConfig>& m_config;
    const util::Environment& m_env;
    LocalHost m_local;
    std::vector<util::Diagnostic>& m_warnings;
};

std::string hop_key(const JumpHost& j) {
    return j.user + "@" + endpoint(j.address, j.port);
}

// A ProxyCommand as ssh runs it for a host: %h %p %r %n %k expanded.
util::Result<std::string> proxy_command_for(const SshOptions& o, const std::string& name,
                                            const std::string& address, int port,
                                            const std::string& user) {
    return expand_proxy_command(*o.proxy_command, address, port, user, name,
                                o.host_key_alias.value_or(name), o.proxy_command_at);
}

// The way to a host whose ProxyJump (or cluster.jump) is `hops`: the first hop is reached
// as its own ssh_config says (its own ProxyJump or ProxyCommand, recursively); each later
// hop through the one before it, whatever its own ProxyJump says (ssh's -J). `seen` holds
// the hosts already on the way, so a loop is an error instead of a hang.
util::Status route(const std::vector<JumpHop>& hops, SshLookup& lookup, SshSettings& out,
                   std::vector<std::string>& seen) {
    for (std::size_t i = 0; i < hops.size(); ++i) {
        const JumpHop& hop = hops[i];
        auto o = lookup.options(hop.host);
        if (!o) return fail(o.error());
        JumpHost jump;
        jump.name = hop.user ? *hop.user + "@" + hop.host : hop.host;
        jump.address = o->remote_host.empty() ? hop.host : o->remote_host;
        jump.port = hop.port.value_or(o->port.value_or(22));
        jump.user = hop.user.value_or(o->user.value_or(lookup.env().user()));
        jump.identity_files = o->identity_files;
        jump.host_key_alias = o->host_key_alias;
        std::string key = hop_key(jump);
        if (std::find(seen.begin(), seen.end(), key) != seen.end())
            return fail(error_at(hop.where,
                                 fmt::format("ProxyJump loop: {} is reached through itself", key),
                                 fmt::format("leave the jump host out of the block that sets "
                                             "ProxyJump, e.g. 'Host * !{}'",
                                             hop.host)));
        if (seen.size() >= k_max_jumps)
            return fail(error_at(hop.where, fmt::format("more than {} jump hosts", k_max_jumps)));
        seen.push_back(key);
        if (i == 0) {
            if (!o->proxy_jump.empty()) {
                if (auto s = route(o->proxy_jump, lookup, out, seen); !s) return s;
            } else if (o->proxy_command) {
                auto command = proxy_command_for(*o, hop.host, jump.address, jump.port, jump.user);
                if (!command) return fail(command.error());
                out.proxy_command = std::move(*command);
            }
        }
        out.jumps.push_back(std::move(jump));
    }
    return util::Ok{};
}

KnownHostsPolicy policy_from_ssh(const std::string& value) {
    if (value == "accept-new") return KnownHostsPolicy::accept_new;
    if (value == "no" || value == "off") return KnownHostsPolicy::off;
    return KnownHostsPolicy::strict; // yes, ask (we never prompt)
}

std::vector<std::string> default_identities(const util::Environment& env) {
    std::string dir = env.home() + "/.ssh/";
    return {dir + "id_ed25519", dir + "id_ecdsa", dir + "id_rsa"};
}

util::Result<HostSpec> resolve_host(const HostEntry& entry, const TrainingConfig* config,
                                    const Overrides& flags, SshLookup& lookup) {
    static const ClusterSettings k_no_settings;
    const ClusterSettings& yaml = config ? config->cluster : k_no_settings;
    const util::Environment& env = lookup.env();
    auto found = lookup.options(entry.name);
    if (!found) return fail(found.error());
    const SshOptions& o = *found;
    HostSpec h;
    h.name = entry.name;
    h.where = entry.where;
    h.address = o.remote_host.empty() ? entry.name : o.remote_host;
    if (o.hostname && !is_valid_host_name(h.address))
        return fail(error_at(entry.where,
                             fmt::format("ssh_config's HostName for {} is {}, not a host name "
                                         "or address",
                                         entry.name, util::quoted(h.address)),
                             "a DNS name of at most 253 characters, or an IP address"));
    h.ssh.port = entry.port.value_or(yaml.port.value_or(o.port.value_or(22)));
    h.ssh.user = entry.user.value_or(yaml.user.value_or(o.user.value_or(env.user())));
    if (yaml.identity_file) h.ssh.identity_files.push_back(*yaml.identity_file);
    for (const auto& id : o.identity_files)
        h.ssh.identity_files.push_back(id);
    if (h.ssh.identity_files.empty()) h.ssh.identity_files = default_identities(env);
    h.ssh.identities_only = o.identities_only.value_or(false) || yaml.identity_file.has_value();
    h.ssh.known_hosts = yaml.known_hosts.value_or(o.strict_host_key_checking
                                                      ? policy_from_ssh(*o.strict_host_key_checking)
                                                      : KnownHostsPolicy::strict);
    h.ssh.known_hosts_files = o.user_known_hosts_files;
    if (h.ssh.known_hosts_files.empty() && !o.user_known_hosts_none)
        h.ssh.known_hosts_files = {env.home() + "/.ssh/known_hosts"};
    h.ssh.host_key_alias = o.host_key_alias;
    h.ssh.kex_algorithms = o.kex_algorithms;
    h.ssh.host_key_algorithms = o.host_key_algorithms;
    h.ssh.ciphers = o.ciphers;
    h.ssh.macs = o.macs;
    if (o.identity_agent) {
        const std::string& agent = *o.identity_agent;
        if (util::to_lower(agent) == "none")
            h.ssh.identity_agent = "";
        else if (agent.front() == '$')
            h.ssh.identity_agent = env.get(agent.substr(1)).value_or("");
        else if (agent != "SSH_AUTH_SOCK")
            h.ssh.identity_agent = agent;
    }
    // ConnectTimeout none or 0 (no limit in ssh) keeps clusterctl's own: it never waits on a
    // host forever.
    int from_ssh = o.connect_timeout.value_or(0);
    h.connect_timeout_s = flags.connect_timeout.value_or(
        yaml.connect_timeout.value_or(from_ssh > 0 ? from_ssh : k_default_connect_timeout_s));
    if (h.connect_timeout_s == 0) h.connect_timeout_s = k_default_connect_timeout_s;
    h.ssh.server_alive_interval_s = o.server_alive_interval.value_or(k_default_alive_interval_s);
    h.ssh.server_alive_count_max = o.server_alive_count_max.value_or(k_default_alive_count);
    h.slots = entry.slots.value_or(config ? config->default_slots() : 1);
    h.slots_given = entry.slots.has_value();
    h.spare = entry.spare;
    std::vector<std::string> seen{h.ssh.user + "@" + endpoint(h.address, h.ssh.port)};
    if (yaml.jump) {
        if (util::to_lower(*yaml.jump) != "none") {
            auto hops = parse_jump_chain(*yaml.jump, yaml.jump_at);
            if (!hops) return fail(hops.error());
            if (auto s = route(*hops, lookup, h.ssh, seen); !s) return fail(s.error());
        }
    } else if (!o.proxy_jump.empty()) {
        if (auto s = route(o.proxy_jump, lookup, h.ssh, seen); !s) return fail(s.error());
    } else if (o.proxy_command) {
        auto command = proxy_command_for(o, entry.name, h.address, h.ssh.port, h.ssh.user);
        if (!command) return fail(command.error());
        h.ssh.proxy_command = std::move(*command);
    }
    return h;
}

util::Status check_unique_endpoints(const std::vector<HostSpec>& hosts) {
    std::map<std::string, const HostSpec*> seen;
    for (const auto& h : hosts) {
        std::string key = endpoint(h.address, h.ssh.port);
        if (!h.ssh.jumps.empty())
            key += " via " + endpoint(h.ssh.jumps.back().address, h.ssh.jumps.back().port);
        else if (h.ssh.proxy_command)
            key += " via ProxyCommand " + *h.ssh.proxy_command;
        auto [it, inserted] = seen.emplace(key, &h);
        if (inserted) continue;
        const HostSpec& first = *it->second;
        return fail(error_at(
            h.where, fmt::format("hosts '{}' and '{}' both reach {}", first.name, h.name, key),
            fmt::format("'{}' is at {}:{}:{}; list each machine once", first.name, first.where.file,
                        first.where.line, first.where.column)));
    }
    return util::Ok{};
}

} // namespace

std::string endpoint(const std::string& address, int port) {
    if (address.find(':') != std::string::npos) return fmt::format("[{}]:{}", address, port);
    return fmt::format("{}:{}", address, port);
}

util::Result<Inventory> resolve_inventory(const TrainingConfig* config, const Overrides& flags,
                                          const util::Environment& env) {
    auto entries = read_host_entries(config, flags);
    if (!entries) return fail(entries.error());
    if (auto s = apply_exclusions(*entries, flags); !s) return fail(s.error());
    if (auto s = mark_spares(*entries, config, flags); !s) return fail(s.error());
    Inventory inventory;
    auto ssh = load_ssh_config(config, flags, env, inventory.ssh_config_path);
    if (!ssh) return fail(ssh.error());
    SshLookup lookup(*ssh, env, inventory.warnings);
    for (const auto& entry : *entries) {
        auto host = resolve_host(entry, config, flags, lookup);
        if (!host) return fail(host.error());
        inventory.hosts.push_back(std::move(*host));
    }
    int rank = 0; // node ranks number the hosts that take part; a spare has none (-1)
    for (auto& h : inventory.hosts)
        h.rank = h.spare ? -1 : rank++;
    if (rank == 0)
        return fail(error_at(inventory.hosts.front().where, "every host is a spare",
                             "mark fewer hosts spare: a spare only replaces a host"));
    if (auto s = check_unique_endpoints(inventory.hosts); !s) return fail(s.error());
    const ClusterSettings* yaml = config ? &config->cluster : nullptr;
    inventory.fanout = flags.fanout.value_or(yaml && yaml->fanout ? *yaml->fanout : 256);
    inventory.command_timeout_s =
        flags.command_timeout.value_or(yaml && yaml->command_timeout ? *yaml->command_timeout : 0);
    return inventory;
}

util::Status settle_processes_per_node(TrainingConfig& config, Inventory& inventory) {
    if (!config.train) return util::Ok{};
    TrainSettings& train = *config.train;
    const HostSpec* first = nullptr;
    for (const auto& h : inventory.hosts) {
        if (h.spare || !h.slots_given) continue;
        if (train.nproc_per_node_given) {
            if (train.nproc_per_node && h.slots != *train.nproc_per_node) {
                inventory.warnings.push_back(error_at(
                    h.where,
                    fmt::format("{} has slots={} but train.nproc_per_node is {}: {} processes "
                                "start on each node",
                                h.name, h.slots, *train.nproc_per_node, *train.nproc_per_node),
                    fmt::format("train.nproc_per_node is at {}:{}:{}; make the two agree",
                                train.nproc_per_node_at.file, train.nproc_per_node_at.line,
                                train.nproc_per_node_at.column)));
                return util::Ok{}; // once
            }
            continue;
        }
        if (first && h.slots != first->slots)
            return fail(error_at(h.where,
                                 fmt::format("{} has slots={} but {} has slots={}", h.name, h.slots,
                                             first->name, first->slots),
                                 "torchrun starts the same number of processes on each node: "
                                 "make the slots agree, or set train.nproc_per_node"));
        first = &h;
    }
    if (first) {
        train.nproc_per_node = first->slots; // the hostfile's slots= say how many per node
        for (auto& h : inventory.hosts)
            if (!h.slots_given) h.slots = first->slots;
    }
    return util::Ok{};
}

util::Result<std::vector<std::size_t>>
select_hosts(const HostSelector& selector, const std::vector<HostSpec>& hosts, bool absent_ok) {
    std::vector<std::size_t> picked;
    if (selector.expression == "all") {
        for (std::size_t i = 0; i < hosts.size(); ++i)
            picked.push_back(i);
        return picked;
    }
    if (selector.expression == "first") return std::vector<std::size_t>{0};
    if (selector.expression == "last") return std::vector<std::size_t>{hosts.size() - 1};
    auto named = parse_host_expression(selector.expression, selector.where);
    if (!named) return fail(named.error());
    for (const auto& n : *named) {
        auto it = std::find_if(hosts.begin(), hosts.end(),
                               [&](const HostSpec& h) { return h.name == n.name; });
        if (it == hosts.end() && absent_ok) continue;
        if (it == hosts.end())
            return fail(error_at(selector.where,
                                 fmt::format("'on:' names host '{}', which is not in the host "
                                             "list",
                                             n.name),
                                 "use all, first, last or hosts from the hostfile"));
        picked.push_back(static_cast<std::size_t>(it - hosts.begin()));
    }
    return picked;
}

} // namespace clusterctl::config
