#pragma once
// OpenSSH's client configuration, read as ssh(1) 9.2 reads it, for the keys a launcher
// uses. Parsing checks every line (an unknown keyword is an error, as in ssh, unless
// IgnoreUnknown names it); lookup() evaluates the file for one host the way ssh does:
// Host and Match blocks in order, an Include scoped to the block it is in, the first
// value of a key winning (IdentityFile accumulating), then %-tokens expanded.
// docs/COMPATIBILITY.md lists what is read, what is warned about and what is refused.

#include "clusterctl/util/diagnostic.hpp"
#include "clusterctl/util/environment.hpp"
#include "clusterctl/util/result.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace clusterctl::config {

// What the %-tokens and Match localuser say about this machine and its user.
struct LocalHost {
    std::string user;     // %u
    std::string home;     // %d, ~
    std::string uid;      // %i
    std::string hostname; // %l (%L: up to the first '.')

    static LocalHost of(const util::Environment& env); // $USER, $HOME, getuid, gethostname
};

// One hop of a ProxyJump chain: "[user@]host[:port]" or "ssh://[user@]host[:port]".
struct JumpHop {
    std::optional<std::string> user;
    std::string host;
    std::optional<int> port;
    util::SourceLocation where;
};

// What ssh_config says about one host. Unset fields fall back to the YAML, then defaults.
struct SshOptions {
    // What ssh connects to: HostName with %h expanded, else the name given; lower-cased
    // unless it is an address, as ssh does.
    std::string remote_host;
    std::optional<std::string> hostname; // set when HostName is
    std::optional<std::string> user;
    std::optional<int> port;
    std::vector<std::string> identity_files; // ~, %-tokens and ${VAR} expanded
    std::optional<bool> identities_only;
    std::optional<std::string> identity_agent; // expanded; "none" or "SSH_AUTH_SOCK" as given
    // ProxyJump: the hops, outermost first (empty with proxy_jump_none).
    std::vector<JumpHop> proxy_jump;
    bool proxy_jump_none = false;
    util::SourceLocation proxy_jump_at;
    // ProxyCommand as written (its %h %p %r %n %k are expanded when it is run); "none" is
    // reported as unset.
    std::optional<std::string> proxy_command;
    util::SourceLocation proxy_command_at;
    std::optional<std::string> strict_host_key_checking; // yes | no | accept-new | ask
    std::vector<std::string> user_known_hosts_files;     // expanded
    bool user_known_hosts_none = false;
    std::optional<std::string> host_key_alias;
    std::optional<int> connect_timeout; // seconds; 0: none ("none" or 0)
    std::optional<int> server_alive_interval;
    std::optional<int> server_alive_count_max;
    std::optional<bool> forward_agent;
    util::SourceLocation forward_agent_at;
    // KexAlgorithms, HostKeyAlgorithms, Ciphers, MACs as written (OpenSSH's list syntax:
    // a list, or +list, -list, ^list against the defaults).
    std::optional<std::string> kex_algorithms, host_key_algorithms, ciphers, macs;
    // Keys set for this host that clusterctl reads but does not apply, each with why.
    std::vector<util::Diagnostic> not_applied;
};

class SshConfig {
public:
    // One line that matters, in file order; an Include holds the lines it read.
    struct Line {
        enum class Kind { host, match, include, option };
        Kind kind = Kind::option;
        std::string key;               // lower case
        std::vector<std::string> args; // words, quotes removed, a trailing # comment dropped
        std::string raw;               // the value as written (ProxyCommand, ProxyJump)
        util::SourceLocation where;    // the keyword
        util::SourceLocation value_at; // the first word of the value
        std::vector<Line> included;
    };

    // `text` is the file's content; Include directives are read through the filesystem.
    static util::Result<SshConfig> parse(std::string_view text, const std::string& path,
                                         const util::Environment& env);
    static util::Result<SshConfig> load(const std::string& path, const util::Environment& env,
                                        const util::SourceLocation& origin);

    // The options for `host` as the user named it (ssh's %n). Fails only where ssh would
    // for this host: a %-token the key does not allow, an unset ${VAR}.
    util::Result<SshOptions> lookup(const std::string& host, const LocalHost& local,
                                    const util::Environment& env) const;

private:
    std::vector<Line> m_lines;
};

// ssh_config's pattern syntax: '*' and '?' wildcards. A Host line's words are patterns,
// each possibly negated with '!'; a Match host/user criterion is a comma-separated list
// (`case_insensitive`: the patterns are lower-cased first, as ssh does for Match host).
bool wildcard_match(std::string_view pattern, std::string_view text);
bool pattern_list_match(std::string_view list, std::string_view text, bool case_insensitive);

// A ProxyCommand with the tokens ssh expands in it: %h %p %r %n %k and %%.
util::Result<std::string> expand_proxy_command(const std::string& command, const std::string& host,
                                               int port, const std::string& user,
                                               const std::string& host_arg,
                                               const std::string& key_alias,
                                               const util::SourceLocation& at);

// A ProxyJump value (also cluster.jump): hops separated by commas, outermost first.
util::Result<std::vector<JumpHop>> parse_jump_chain(std::string_view value,
                                                    const util::SourceLocation& at);

} // namespace clusterctl::config
