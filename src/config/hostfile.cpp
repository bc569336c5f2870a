#include "clusterctl/config/hostfile.hpp"

#include "clusterctl/config/host_list.hpp"
#include "clusterctl/util/strings.hpp"
#include "clusterctl/util/text_file.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <fmt/format.h>
#include <unordered_map>

namespace clusterctl::config {
namespace {

using util::Diagnostic;
using util::error_at;
using util::fail;
using util::SourceLocation;

constexpr std::string_view k_name_hint = "host names may hold letters, digits, '.', '-' and '_'";

bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '_';
}

// "[user@]host[:port]" with host a name, a name with ranges, or "[v6]".
struct Target {
    std::optional<std::string> user;
    std::string_view host_pattern; // into the line being read
    std::size_t host_offset = 0;
    bool ipv6 = false;
    std::optional<int> port;
};

util::Result<Target> parse_target(std::string_view token, const SourceLocation& where) {
    Target t;
    std::size_t pos = 0;
    if (auto at_sign = token.find('@'); at_sign != std::string_view::npos) {
        std::string_view user = token.substr(0, at_sign);
        if (user.empty())
            return fail(error_at(where, "empty user name before '@'", "write user@host"));
        for (std::size_t i = 0; i < user.size(); ++i) {
            if (!is_name_char(user[i]))
                return fail(error_at(where.advanced(static_cast<int>(i)),
                                     fmt::format("invalid character '{}' in user name", user[i]),
                                     "user names may hold letters, digits, '.', '-' and '_'"));
        }
        t.user = std::string(user);
        pos = at_sign + 1;
    }
    std::string_view rest = token.substr(pos);
    std::string_view port_text;
    std::size_t port_offset = 0;
    if (!rest.empty() && rest.front() == '[' && rest.find(':') != std::string_view::npos &&
        rest.find(':') < rest.find(']')) {
        std::size_t close = rest.find(']');
        t.ipv6 = true;
        t.host_pattern = rest.substr(1, close - 1);
        t.host_offset = pos + 1;
        std::string_view after = rest.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':')
                return fail(error_at(where.advanced(static_cast<int>(pos + close + 1)),
                                     "unexpected text after IPv6 address",
                                     "write [::1]:2222 for an address with a port"));
            port_text = after.substr(1);
            port_offset = pos + close + 2;
        }
    } else if (std::count(rest.begin(), rest.end(), ':') > 1) {
        t.ipv6 = true; // a bare IPv6 literal: no port possible
        t.host_pattern = rest;
        t.host_offset = pos;
    } else {
        std::size_t colon = rest.rfind(':');
        t.host_pattern = rest.substr(0, colon);
        t.host_offset = pos;
        if (colon != std::string_view::npos) {
            port_text = rest.substr(colon + 1);
            port_offset = pos + colon + 1;
        }
    }
    if (port_offset != 0) {
        auto port = util::parse_int(port_text, 1, 65535);
        if (!port)
            return fail(error_at(where.advanced(static_cast<int>(port_offset)),
                                 fmt::format("bad port '{}'", port_text),
                                 "a port is a number from 1 to 65535"));
        t.port = static_cast<int>(*port);
    }
    return t;
}

bool is_ipv4_like(std::string_view name) {
    return name.find_first_not_of("0123456789.") == std::string_view::npos;
}

bool parses_as(int family, std::string_view text) {
    unsigned char address[16];
    return ::inet_pton(family, std::string(text).c_str(), address) == 1;
}

// A DNS name (at most 253 characters, labels of 1 to 63), a dotted IPv4 address, or (in
// brackets, or bare with several ':') an IPv6 address, as inet_pton reads them.
util::Status check_host_name(std::string_view name, bool ipv6, const SourceLocation& where) {
    if (name.empty()) return fail(error_at(where, "empty host name", "give a host name"));
    if (ipv6) {
        if (!parses_as(AF_INET6, name))
            return fail(error_at(where, fmt::format("bad IPv6 address {}", util::quoted(name)),
                                 "write it as inet_pton reads it, e.g. [fd00::7] or [::1]:2222"));
        return util::Ok{};
    }
    for (std::size_t i = 0; i < name.size(); ++i) {
        if (!is_name_char(name[i]))
            return fail(error_at(where.advanced(static_cast<int>(i)),
                                 fmt::format("invalid character {} in host name {}",
                                             util::quoted(name.substr(i, 1)), util::quoted(name)),
                                 std::string(k_name_hint)));
    }
    if (name.front() == '-' || name.front() == '.')
        return fail(error_at(where,
                             fmt::format("host name '{}' starts with '{}'", name, name.front()),
                             "a host name starts with a letter or digit"));
    if (is_ipv4_like(name)) {
        if (!parses_as(AF_INET, name))
            return fail(error_at(where, fmt::format("bad IPv4 address '{}'", name),
                                 "four numbers from 0 to 255, e.g. 10.0.0.7"));
        return util::Ok{};
    }
    if (name.size() > k_max_host_name)
        return fail(error_at(where, fmt::format("host name of {} characters", name.size()),
                             "a DNS name has at most 253 characters"));
    std::size_t start = 0;
    while (start <= name.size()) {
        std::size_t dot = std::min(name.find('.', start), name.size());
        std::size_t length = dot - start;
        if (length > 63)
            return fail(error_at(where.advanced(static_cast<int>(start)),
                                 fmt::format("a part of host name '{}' has {} characters",
                                             name.substr(0, 80), length),
                                 "each dot-separated part of a DNS name has at most 63"));
        if (length == 0 && dot != name.size())
            return fail(error_at(where.advanced(static_cast<int>(start)),
                                 fmt::format("empty part in host name '{}'", name),
                                 "remove the doubled '.'"));
        start = dot + 1;
    }
    return util::Ok{};
}

// One "[user@]pattern[:port]" item: expanded into entries that share user, port and slots.
util::Result<std::vector<HostEntry>> expand_target(std::string_view token,
                                                   const SourceLocation& where) {
    auto target = parse_target(token, where);
    if (!target) return fail(target.error());
    SourceLocation host_at = where.advanced(static_cast<int>(target->host_offset));
    std::vector<std::string> names;
    if (target->ipv6) {
        names.emplace_back(target->host_pattern);
    } else {
        auto expanded = expand_host_pattern(target->host_pattern, host_at);
        if (!expanded) return fail(expanded.error());
        names = std::move(*expanded);
    }
    std::vector<HostEntry> entries;
    for (auto& name : names) {
        // Report a bad character at its place in the pattern, not in the expanded name.
        if (auto ok = check_host_name(name, target->ipv6, host_at); !ok) {
            std::size_t bad = target->host_pattern.find_first_not_of(
                target->ipv6 ? "0123456789abcdefABCDEF:."
                             : "0123456789abcdefghijklmnopqrstuvwxyz"
                               "ABCDEFGHIJKLMNOPQRSTUVWXYZ.-_[],");
            Diagnostic d = ok.error();
            if (bad != std::string::npos) d.where = host_at.advanced(static_cast<int>(bad));
            return fail(d);
        }
        entries.push_back(
            {std::move(name), target->user, target->port, std::nullopt, false, where});
    }
    return entries;
}

// What follows the host on a hostfile line.
struct Attributes {
    std::optional<int> slots, max_slots;
    SourceLocation max_slots_at;
    bool spare = false;
};

// "slots=8", MPI's "max_slots=8" (checked against slots, else not used) and "spare".
util::Status read_attribute(std::string_view word, const SourceLocation& where, Attributes& a) {
    std::size_t eq = word.find('=');
    std::string key = util::to_lower(word.substr(0, eq));
    static const std::vector<std::string> k_keys = {"slots", "max_slots", "spare"};
    if (key == "spare" && eq == std::string_view::npos) {
        a.spare = true;
        return util::Ok{};
    }
    if (eq == std::string_view::npos || (key != "slots" && key != "max_slots")) {
        std::string hint = util::did_you_mean(key, k_keys);
        if (hint.empty()) hint = "a hostfile line is 'HOST [slots=N] [spare]'";
        return fail(error_at(where, fmt::format("unknown hostfile attribute '{}'", word), hint));
    }
    std::string_view value = word.substr(eq + 1);
    auto n = util::parse_int(value, 1, 1024);
    if (!n) {
        auto any = util::parse_int(value, -999999999, 999999999);
        std::string why = any ? "must be at least 1 and at most 1024" : "is not a number";
        return fail(error_at(where.advanced(static_cast<int>(eq + 1)),
                             fmt::format("bad {} '{}': {}", key, value, why),
                             "slots is the number of processes per host, e.g. slots=8"));
    }
    if (key == "slots") {
        a.slots = static_cast<int>(*n);
    } else {
        a.max_slots = static_cast<int>(*n);
        a.max_slots_at = where.advanced(static_cast<int>(eq + 1));
    }
    return util::Ok{};
}

util::Result<std::vector<HostEntry>> parse_line(std::string_view line,
                                                const SourceLocation& line_at) {
    std::size_t hash = line.find('#');
    std::string_view content = line.substr(0, hash);
    auto words = util::split_whitespace(content);
    if (words.empty()) return std::vector<HostEntry>{};
    auto column_of = [&](std::string_view w) {
        return line_at.advanced(static_cast<int>(w.data() - line.data()));
    };
    auto entries = expand_target(words.front(), column_of(words.front()));
    if (!entries) return entries;
    Attributes a;
    for (std::size_t i = 1; i < words.size(); ++i)
        if (auto s = read_attribute(words[i], column_of(words[i]), a); !s) return fail(s.error());
    if (a.slots && a.max_slots && *a.max_slots < *a.slots)
        return fail(
            error_at(a.max_slots_at,
                     fmt::format("max_slots={} is less than slots={}", *a.max_slots, *a.slots),
                     "max_slots is the most processes the host takes: at least slots"));
    for (auto& e : *entries) {
        e.slots = a.slots;
        e.spare = a.spare;
    }
    return entries;
}

} // namespace

bool is_valid_host_name(std::string_view name) {
    bool ipv6 = std::count(name.begin(), name.end(), ':') > 1;
    return check_host_name(name, ipv6, {}).ok();
}

util::Status check_unique_names(const std::vector<HostEntry>& hosts) {
    std::unordered_map<std::string, const HostEntry*> seen;
    for (const auto& h : hosts) {
        auto [it, inserted] = seen.emplace(h.name, &h);
        if (inserted) continue;
        const auto& first = it->second->where;
        return fail(error_at(
            h.where, fmt::format("duplicate host '{}'", h.name),
            fmt::format("first listed at {}:{}:{}", first.file, first.line, first.column)));
    }
    return util::Ok{};
}

util::Result<std::vector<HostEntry>> parse_hostfile(std::string_view text,
                                                    const std::string& path) {
    std::vector<HostEntry> hosts;
    auto visit = [&](std::string_view line, const SourceLocation& at) -> util::Status {
        auto entries = parse_line(line, at);
        if (!entries) return fail(entries.error());
        for (auto& e : *entries)
            hosts.push_back(std::move(e));
        if (hosts.size() > k_max_expanded_hosts)
            return fail(
                error_at(at, "too many hosts", fmt::format("at most {}", k_max_expanded_hosts)));
        return util::Ok{};
    };
    if (auto s = util::for_each_line(text, path, visit); !s) return fail(s.error());
    if (hosts.empty())
        return fail(error_at({path, 1, 1}, "no hosts in hostfile",
                             "add one host per line, e.g. 'node-001 slots=8'"));
    if (auto s = check_unique_names(hosts); !s) return fail(s.error());
    return hosts;
}

util::Result<std::vector<HostEntry>> parse_host_expression(std::string_view expression,
                                                           const SourceLocation& where) {
    // Split at top-level commas; each item is a hostfile-style target without attributes.
    std::vector<HostEntry> hosts;
    int depth = 0;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= expression.size(); ++i) {
        bool at_end = i == expression.size();
        char c = at_end ? ',' : expression[i];
        if (c == '[') ++depth;
        if (c == ']') --depth;
        if (!at_end && (c != ',' || depth != 0)) continue; // an unclosed '[' is reported below
        std::string_view item = util::trim(expression.substr(start, i - start));
        SourceLocation item_at = where.advanced(static_cast<int>(start));
        if (item.empty())
            return fail(error_at(item_at, "empty item in host list",
                                 "separate hosts with single commas, e.g. node-[001-004],gpu-9"));
        if (item.front() == '@')
            return fail(error_at(
                item_at, fmt::format("'{}': ClusterShell's @groups are not supported", item),
                "list the hosts, and leave some out with -x"));
        if (item.find_first_of(" \t") != std::string_view::npos)
            return fail(error_at(item_at, fmt::format("space in host list item '{}'", item),
                                 "separate hosts with commas"));
        auto entries = expand_target(item, item_at);
        if (!entries) return entries;
        for (auto& e : *entries)
            hosts.push_back(std::move(e));
        start = i + 1;
    }
    if (auto s = check_unique_names(hosts); !s) return fail(s.error());
    return hosts;
}

} // namespace clusterctl::config
