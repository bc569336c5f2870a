#pragma once
// The part of OpenSSH's client configuration a launcher needs. As in ssh(1): Host blocks
// are matched against the name the user gave, and the first value found for a key wins
// (IdentityFile accumulates). Match blocks are refused with a clear error, not ignored.

#include "clusterctl/util/environment.hpp"
#include "clusterctl/util/result.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace clusterctl::config {

// What ssh_config says about one host. Unset fields fall back to the YAML, then defaults.
struct SshOptions {
    std::optional<std::string> hostname;
    std::optional<std::string> user;
    std::optional<int> port;
    std::vector<std::string> identity_files;
    std::optional<bool> identities_only;
    std::optional<std::string> proxy_jump;
    std::optional<std::string> strict_host_key_checking; // yes | no | accept-new
    std::vector<std::string> user_known_hosts_files;
    std::optional<int> connect_timeout;
    std::optional<int> server_alive_interval;
    std::optional<int> server_alive_count_max;
};

class SshConfig {
public:
    struct Option {
        std::string key; // lower case
        std::string value;
        util::SourceLocation where;
    };
    struct Block {
        std::vector<std::string> patterns; // empty: applies to every host (before any Host)
        std::vector<Option> options;
    };

    // `text` is the file's content; Include directives are read through the filesystem.
    static util::Result<SshConfig> parse(std::string_view text, const std::string& path,
                                         const util::Environment& env);
    static util::Result<SshConfig> load(const std::string& path, const util::Environment& env,
                                        const util::SourceLocation& origin);

    SshOptions lookup(const std::string& host, const util::Environment& env) const;

private:
    std::vector<Block> m_blocks;
};

// ssh_config's Host pattern syntax: '*' and '?' wildcards, '!' negation (any negated match
// excludes the host), several patterns separated by whitespace or commas.
bool host_matches(const std::vector<std::string>& patterns, std::string_view host);
bool wildcard_match(std::string_view pattern, std::string_view text);

} // namespace clusterctl::config
