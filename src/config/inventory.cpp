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

// "[user@]host[:port]" of a jump host, then ssh_config for that host.
util::Result<JumpHost> resolve_jump(const std::string& spec, const util::SourceLocation& where,
                                    const std::optional<SshConfig>& ssh,
                                    const util::Environment& env) {
    if (spec.find(',') != std::string::npos)
        return fail(error_at(where, fmt::format("jump chain '{}' is not supported", spec),
                             "clusterctl reaches hosts through one jump host"));
    auto entries = parse_host_expression(spec, where);
    if (!entries) return fail(entries.error());
    if (entries->size() != 1)
        return fail(error_at(where, fmt::format("jump host '{}' names several hosts", spec)));
    const HostEntry& e = entries->front();
    SshOptions o = ssh ? ssh->lookup(e.name, env) : SshOptions{};
    JumpHost jump;
    jump.name = spec;
    jump.address = o.hostname.value_or(e.name);
    jump.port = e.port.value_or(o.port.value_or(22));
    jump.user = e.user.value_or(o.user.value_or(env.user()));
    jump.identity_files = o.identity_files;
    return jump;
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
                                    const Overrides& flags, const std::optional<SshConfig>& ssh,
                                    const util::Environment& env) {
    static const ClusterSettings k_no_settings;
    const ClusterSettings& yaml = config ? config->cluster : k_no_settings;
    SshOptions o = ssh ? ssh->lookup(entry.name, env) : SshOptions{};
    HostSpec h;
    h.name = entry.name;
    h.where = entry.where;
    h.address = o.hostname.value_or(entry.name);
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
    if (h.ssh.known_hosts_files.empty())
        h.ssh.known_hosts_files = {env.home() + "/.ssh/known_hosts"};
    h.connect_timeout_s = flags.connect_timeout.value_or(
        yaml.connect_timeout.value_or(o.connect_timeout.value_or(k_default_connect_timeout_s)));
    if (h.connect_timeout_s == 0) h.connect_timeout_s = k_default_connect_timeout_s;
    h.ssh.server_alive_interval_s = o.server_alive_interval.value_or(k_default_alive_interval_s);
    h.ssh.server_alive_count_max = o.server_alive_count_max.value_or(k_default_alive_count);
    h.slots = entry.slots.value_or(config ? config->default_slots() : 1);
    h.spare = entry.spare;
    std::optional<std::string> jump_spec;
    util::SourceLocation jump_at = h.where;
    if (yaml.jump) {
        jump_spec = *yaml.jump;
        jump_at = yaml.jump_at;
    } else if (o.proxy_jump) {
        jump_spec = *o.proxy_jump;
    }
    if (jump_spec && *jump_spec != "none") {
        auto jump = resolve_jump(*jump_spec, jump_at, ssh, env);
        if (!jump) return fail(jump.error());
        h.ssh.jump = std::move(*jump);
    }
    return h;
}

util::Status check_unique_endpoints(const std::vector<HostSpec>& hosts) {
    std::map<std::string, const HostSpec*> seen;
    for (const auto& h : hosts) {
        std::string key = endpoint(h.address, h.ssh.port);
        if (h.ssh.jump) key += " via " + endpoint(h.ssh.jump->address, h.ssh.jump->port);
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
    for (const auto& entry : *entries) {
        auto host = resolve_host(entry, config, flags, *ssh, env);
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
