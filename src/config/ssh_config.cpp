#include "clusterctl/config/ssh_config.hpp"

#include "clusterctl/util/strings.hpp"
#include "clusterctl/util/text_file.hpp"

#include <algorithm>
#include <cstring>
#include <fmt/format.h>
#include <glob.h>

namespace clusterctl::config {
namespace {

using util::error_at;
using util::fail;
using util::SourceLocation;

constexpr int k_max_include_depth = 16;

// Keys clusterctl reads. Any other OpenSSH key is accepted and ignored, as ssh(1) would
// use it for things a launcher does not do (X11, forwarding, ...).
enum class ValueKind { text, name, port, seconds, count, yes_no, host_key_policy, path_list };

struct KeySpec {
    const char* name;
    ValueKind kind;
};

constexpr KeySpec k_keys[] = {
    {"hostname", ValueKind::name},
    {"user", ValueKind::name},
    {"port", ValueKind::port},
    {"identityfile", ValueKind::text},
    {"identitiesonly", ValueKind::yes_no},
    {"proxyjump", ValueKind::text},
    {"stricthostkeychecking", ValueKind::host_key_policy},
    {"userknownhostsfile", ValueKind::path_list},
    {"connecttimeout", ValueKind::seconds},
    {"serveraliveinterval", ValueKind::seconds},
    {"serveralivecountmax", ValueKind::count},
};

const KeySpec* find_key(std::string_view key) {
    for (const auto& k : k_keys)
        if (key == k.name) return &k;
    return nullptr;
}

util::Status check_value(const KeySpec& spec, const std::string& value,
                         const SourceLocation& where) {
    switch (spec.kind) {
    case ValueKind::port:
        if (!util::parse_int(value, 1, 65535))
            return fail(error_at(where, fmt::format("bad Port '{}'", value),
                                 "a port is a number from 1 to 65535"));
        break;
    case ValueKind::seconds:
    case ValueKind::count:
        if (!util::parse_int(value, 0, 86400))
            return fail(error_at(where, fmt::format("bad value '{}' for {}", value, spec.name),
                                 "expected a whole number of seconds (or a count)"));
        break;
    case ValueKind::yes_no: {
        auto v = util::to_lower(value);
        if (v != "yes" && v != "no")
            return fail(error_at(where, fmt::format("bad value '{}' for IdentitiesOnly", value),
                                 "expected yes or no"));
        break;
    }
    case ValueKind::host_key_policy: {
        auto v = util::to_lower(value);
        if (v != "yes" && v != "no" && v != "accept-new" && v != "ask" && v != "off")
            return fail(error_at(where,
                                 fmt::format("bad value '{}' for StrictHostKeyChecking", value),
                                 "expected yes, accept-new or no"));
        break;
    }
    case ValueKind::name:
        // What ssh(1) refuses in a host or user name: shell metacharacters, spaces,
        // control bytes, a leading '-' (% tokens are expanded later).
        for (std::size_t i = 0; i < value.size(); ++i) {
            auto byte = static_cast<unsigned char>(value[i]);
            if (byte > 0x20 && byte != 0x7f && !std::strchr("'`\"$\\;&<>|(){}", value[i])) continue;
            return fail(error_at(where.advanced(static_cast<int>(i)),
                                 fmt::format("invalid character {} in {} {}",
                                             util::quoted(value.substr(i, 1)), spec.name,
                                             util::quoted(value)),
                                 "a host or user name has no spaces, quotes or shell characters"));
        }
        if (!value.empty() && value.front() == '-')
            return fail(error_at(
                where, fmt::format("{} {} starts with '-'", spec.name, util::quoted(value)),
                "a host or user name starts with a letter or digit"));
        [[fallthrough]];
    case ValueKind::text:
    case ValueKind::path_list:
        if (value.empty())
            return fail(error_at(where, fmt::format("missing value for {}", spec.name)));
        break;
    }
    return util::Ok{};
}

// "Key value", "Key=value", "Key = value"; the value may be "double quoted".
struct Line {
    std::string key;
    std::string value;
    int value_column = 1;
    int key_column = 1;
};

util::Result<std::optional<Line>> split_line(std::string_view raw, const SourceLocation& at) {
    std::string_view text = raw;
    if (auto hash = text.find('#'); hash != std::string_view::npos) {
        // '#' starts a comment only at the start of a word, as in ssh(1).
        if (util::trim(text.substr(0, hash)).empty()) text = text.substr(0, hash);
    }
    std::size_t start = text.find_first_not_of(" \t\r");
    if (start == std::string_view::npos) return std::optional<Line>{};
    std::size_t key_end = text.find_first_of(" \t=\r", start);
    Line line;
    line.key = util::to_lower(text.substr(start, key_end - start));
    line.key_column = static_cast<int>(start) + 1;
    std::size_t v = key_end == std::string_view::npos ? text.size() : key_end;
    while (v < text.size() && (text[v] == ' ' || text[v] == '\t'))
        ++v;
    if (v < text.size() && text[v] == '=') ++v;
    while (v < text.size() && (text[v] == ' ' || text[v] == '\t'))
        ++v;
    std::string_view value = util::trim(text.substr(std::min(v, text.size())));
    line.value_column = static_cast<int>(v) + 1;
    if (!value.empty() && value.front() == '"') {
        if (value.size() < 2 || value.back() != '"')
            return fail(error_at(at.advanced(line.value_column - 1), "unterminated quote",
                                 "close the value with '\"'"));
        value = value.substr(1, value.size() - 2);
        ++line.value_column;
    }
    line.value = std::string(value);
    return std::optional<Line>(std::move(line));
}

struct Parser {
    const util::Environment& env;
    std::vector<SshConfig::Block> blocks;
    int depth = 0;

    util::Status parse(std::string_view text, const std::string& path) {
        if (blocks.empty()) blocks.push_back({});
        auto visit = [this](std::string_view line, const SourceLocation& at) {
            return parse_line(line, at);
        };
        if (auto s = util::for_each_line(text, path, visit); !s) return s;
        return util::Ok{};
    }

    util::Status parse_line(std::string_view raw, const SourceLocation& at) {
        auto split = split_line(raw, at);
        if (!split) return fail(split.error());
        if (!*split) return util::Ok{};
        const Line& line = **split;
        SourceLocation key_at = at.advanced(line.key_column - 1);
        SourceLocation value_at = at.advanced(line.value_column - 1);
        if (line.key == "match")
            return fail(error_at(key_at, "Match blocks are not supported",
                                 "rewrite the block as 'Host PATTERN'"));
        if (line.key == "host") {
            if (line.value.empty())
                return fail(
                    error_at(key_at, "Host needs at least one pattern", "e.g. Host node-*"));
            SshConfig::Block block;
            for (auto word : util::split_whitespace(line.value))
                block.patterns.emplace_back(word);
            blocks.push_back(std::move(block));
            return util::Ok{};
        }
        if (line.key == "include") return include(line.value, value_at);
        if (const KeySpec* spec = find_key(line.key)) {
            if (auto s = check_value(*spec, line.value, value_at); !s) return s;
        }
        blocks.back().options.push_back({line.key, line.value, value_at});
        return util::Ok{};
    }

    util::Status include(const std::string& value, const SourceLocation& at) {
        if (++depth > k_max_include_depth)
            return fail(
                error_at(at, "Include nested too deeply", "is an Include including itself?"));
        for (auto word : util::split_whitespace(value)) {
            std::string pattern = util::expand_tilde(word, env);
            if (pattern.front() != '/') pattern = env.home() + "/.ssh/" + pattern;
            glob_t matches{};
            if (::glob(pattern.c_str(), 0, nullptr, &matches) == 0) {
                for (std::size_t i = 0; i < matches.gl_pathc; ++i) {
                    std::string file = matches.gl_pathv[i];
                    auto text = util::read_text_file(file, "included ssh_config", at);
                    if (!text) {
                        ::globfree(&matches);
                        return fail(text.error());
                    }
                    if (auto s = parse(*text, file); !s) {
                        ::globfree(&matches);
                        return s;
                    }
                }
            }
            ::globfree(&matches); // an Include that matches nothing is not an error in ssh(1)
        }
        --depth;
        return util::Ok{};
    }
};

// %h (host), %d (home), %u (local user), %r (remote user), %% in a value.
std::string expand_tokens(const std::string& value, const std::string& host,
                          const std::string& remote_user, const util::Environment& env) {
    std::string out;
    for (std::size_t i = 0; i < value.size(); ++i) {
        if (value[i] != '%' || i + 1 == value.size()) {
            out += value[i];
            continue;
        }
        char t = value[++i];
        switch (t) {
        case 'h':
            out += host;
            break;
        case 'd':
            out += env.home();
            break;
        case 'u':
            out += env.user();
            break;
        case 'r':
            out += remote_user;
            break;
        case '%':
            out += '%';
            break;
        default:
            out += '%';
            out += t;
        }
    }
    return util::expand_tilde(out, env);
}

} // namespace

bool wildcard_match(std::string_view pattern, std::string_view text) {
    std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
    while (t < text.size()) {
        if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
            ++p;
            ++t;
        } else if (p < pattern.size() && pattern[p] == '*') {
            star = p++;
            mark = t;
        } else if (star != std::string_view::npos) {
            p = star + 1;
            t = ++mark;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == '*')
        ++p;
    return p == pattern.size();
}

bool host_matches(const std::vector<std::string>& patterns, std::string_view host) {
    bool matched = false;
    for (const auto& entry : patterns) {
        std::size_t pos = 0;
        while (pos <= entry.size()) {
            std::size_t comma = entry.find(',', pos);
            if (comma == std::string::npos) comma = entry.size();
            std::string_view p = std::string_view(entry).substr(pos, comma - pos);
            pos = comma + 1;
            if (p.empty()) continue;
            bool negated = p.front() == '!';
            if (negated) p.remove_prefix(1);
            if (!wildcard_match(p, host)) continue;
            if (negated) return false;
            matched = true;
        }
    }
    return matched;
}

util::Result<SshConfig> SshConfig::parse(std::string_view text, const std::string& path,
                                         const util::Environment& env) {
    Parser parser{env, {}};
    if (auto s = parser.parse(text, path); !s) return fail(s.error());
    SshConfig config;
    config.m_blocks = std::move(parser.blocks);
    return config;
}

util::Result<SshConfig> SshConfig::load(const std::string& path, const util::Environment& env,
                                        const SourceLocation& origin) {
    auto text = util::read_text_file(path, "ssh_config", origin);
    if (!text) return fail(text.error());
    return parse(*text, path, env);
}

SshOptions SshConfig::lookup(const std::string& host, const util::Environment& env) const {
    SshOptions o;
    auto first_int = [](std::optional<int>& slot, const std::string& v) {
        if (!slot) slot = static_cast<int>(*util::parse_int(v, 0, 86400));
    };
    std::vector<std::string> raw_identities;
    for (const auto& block : m_blocks) {
        if (!block.patterns.empty() && !host_matches(block.patterns, host)) continue;
        for (const auto& opt : block.options) {
            const std::string& v = opt.value;
            if (opt.key == "hostname" && !o.hostname)
                o.hostname = v;
            else if (opt.key == "user" && !o.user)
                o.user = v;
            else if (opt.key == "port")
                first_int(o.port, v);
            else if (opt.key == "identityfile")
                raw_identities.push_back(v);
            else if (opt.key == "identitiesonly" && !o.identities_only)
                o.identities_only = util::to_lower(v) == "yes";
            else if (opt.key == "proxyjump" && !o.proxy_jump)
                o.proxy_jump = v;
            else if (opt.key == "stricthostkeychecking" && !o.strict_host_key_checking)
                o.strict_host_key_checking = util::to_lower(v);
            else if (opt.key == "userknownhostsfile" && o.user_known_hosts_files.empty()) {
                for (auto w : util::split_whitespace(v))
                    o.user_known_hosts_files.push_back(util::expand_tilde(w, env));
            } else if (opt.key == "connecttimeout")
                first_int(o.connect_timeout, v);
            else if (opt.key == "serveraliveinterval")
                first_int(o.server_alive_interval, v);
            else if (opt.key == "serveralivecountmax")
                first_int(o.server_alive_count_max, v);
        }
    }
    if (o.hostname) o.hostname = expand_tokens(*o.hostname, host, "", env);
    std::string remote_user = o.user.value_or(env.user());
    std::string expanded_host = o.hostname.value_or(host);
    for (const auto& id : raw_identities)
        o.identity_files.push_back(expand_tokens(id, expanded_host, remote_user, env));
    return o;
}

} // namespace clusterctl::config
