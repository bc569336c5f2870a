#include "clusterctl/config/ssh_config.hpp"

#include "clusterctl/util/strings.hpp"
#include "clusterctl/util/text_file.hpp"
#include "ssh_keywords.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <climits>
#include <cstring>
#include <fmt/format.h>
#include <glob.h>
#include <map>
#include <openssl/evp.h>
#include <unistd.h>

namespace clusterctl::config {
namespace {

using util::error_at;
using util::fail;
using util::SourceLocation;
using Line = SshConfig::Line;
using ssh_keywords::display_name;

constexpr int k_max_include_depth = 16; // READCONF_MAX_DEPTH

// ---- One line: keyword, then the value split as ssh splits it ------------------------

struct Word {
    std::string text;
    std::size_t offset = 0; // into the value
};

// ssh's argv_split: words separated by blanks, '…' and "…" quoting, \\ \' \" and (outside
// quotes) "\ " escapes, and '#' at the start of a word ending the line.
util::Result<std::vector<Word>> split_words(std::string_view s, const SourceLocation& at) {
    std::vector<Word> words;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == ' ' || s[i] == '\t') continue;
        if (s[i] == '#') break;
        // A quoted word's column is that of its first character inside the quote.
        Word word{"", (s[i] == '"' || s[i] == '\'') && i + 1 < s.size() ? i + 1 : i};
        char quote = 0;
        std::size_t quote_at = 0;
        for (; i < s.size(); ++i) {
            char c = s[i];
            if (c == '\\' && i + 1 < s.size() &&
                (s[i + 1] == '\'' || s[i + 1] == '"' || s[i + 1] == '\\' ||
                 (quote == 0 && s[i + 1] == ' '))) {
                word.text += s[++i];
            } else if (quote == 0 && (c == ' ' || c == '\t')) {
                break;
            } else if (quote == 0 && (c == '"' || c == '\'')) {
                quote = c;
                quote_at = i;
            } else if (quote != 0 && c == quote) {
                quote = 0;
            } else {
                word.text += c;
            }
        }
        if (quote != 0)
            return fail(error_at(at.advanced(static_cast<int>(quote_at)), "unterminated quote",
                                 fmt::format("close it with {}", quote)));
        words.push_back(std::move(word));
    }
    return words;
}

// ssh's convtime: 90, 1m30s, 2h, 1d; s m h d w, any case. -1: not a time.
long long parse_time(std::string_view text) {
    if (text.empty()) return -1;
    long long total = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        std::size_t start = i;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9')
            ++i;
        if (i == start || i - start > 9) return -1;
        long long n = *util::parse_int(text.substr(start, i - start), 0, 999999999);
        long long unit = 1;
        if (i < text.size()) {
            switch (text[i] | 0x20) {
            case 's':
                unit = 1;
                break;
            case 'm':
                unit = 60;
                break;
            case 'h':
                unit = 3600;
                break;
            case 'd':
                unit = 86400;
                break;
            case 'w':
                unit = 604800;
                break;
            default:
                return -1;
            }
            ++i;
        }
        total += n * unit;
        if (total > INT_MAX) return -1;
    }
    return total;
}

std::optional<bool> parse_flag(std::string_view text) {
    auto v = util::to_lower(text);
    if (v == "yes" || v == "true") return true;
    if (v == "no" || v == "false") return false;
    return std::nullopt;
}

bool is_address(std::string_view host) {
    std::string h(host);
    unsigned char buffer[sizeof(in6_addr)];
    return inet_pton(AF_INET, h.c_str(), buffer) == 1 ||
           inet_pton(AF_INET6, h.c_str(), buffer) == 1;
}

// What ssh(1) would pass to a shell through ProxyCommand's %h or %r: a host or user name
// never holds shell characters, spaces or control bytes, nor starts with '-'.
util::Status check_name(std::string_view key, std::string_view value, const SourceLocation& at) {
    for (std::size_t i = 0; i < value.size(); ++i) {
        auto byte = static_cast<unsigned char>(value[i]);
        if (byte > 0x20 && byte != 0x7f && !std::strchr("'`\"$\\;&<>|(){}*?!", value[i])) continue;
        return fail(
            error_at(at.advanced(static_cast<int>(i)),
                     fmt::format("invalid character {} in {} {}", util::quoted(value.substr(i, 1)),
                                 display_name(key), util::quoted(value)),
                     "a host or user name has no spaces, quotes or shell characters"));
    }
    if (!value.empty() && value.front() == '-')
        return fail(error_at(
            at, fmt::format("{} {} starts with '-'", display_name(key), util::quoted(value)),
            "a host or user name starts with a letter or digit"));
    return util::Ok{};
}

// "[user@]host[:port]", "[v6]:port" or "ssh://[user@]host[:port]" -> a hop.
util::Result<JumpHop> parse_hop(std::string_view text, const SourceLocation& at) {
    JumpHop hop;
    hop.where = at;
    std::string_view rest = text;
    bool uri = rest.substr(0, 6) == "ssh://";
    if (uri) {
        rest.remove_prefix(6);
        if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
        if (rest.find('/') != std::string_view::npos)
            return fail(error_at(at, fmt::format("ProxyJump URI {} has a path", util::quoted(text)),
                                 "write ssh://user@host:port"));
    }
    if (auto sign = rest.rfind('@'); sign != std::string_view::npos) {
        hop.user = std::string(rest.substr(0, sign));
        rest.remove_prefix(sign + 1);
        if (hop.user->empty())
            return fail(
                error_at(at, fmt::format("empty user in ProxyJump {}", util::quoted(text))));
        if (auto s = check_name("user", *hop.user, at); !s) return fail(s.error());
    }
    std::optional<std::string_view> port;
    if (!rest.empty() && rest.front() == '[') {
        auto close = rest.find(']');
        if (close == std::string_view::npos)
            return fail(
                error_at(at, fmt::format("unclosed '[' in ProxyJump {}", util::quoted(text))));
        hop.host = std::string(rest.substr(1, close - 1));
        rest.remove_prefix(close + 1);
        if (!rest.empty() && rest.front() != ':')
            return fail(error_at(at, fmt::format("bad ProxyJump host {}", util::quoted(text))));
        if (!rest.empty()) port = rest.substr(1);
    } else if (auto colon = rest.find(':'); colon != std::string_view::npos) {
        hop.host = std::string(rest.substr(0, colon));
        port = rest.substr(colon + 1);
    } else {
        hop.host = std::string(rest);
    }
    if (hop.host.empty())
        return fail(error_at(at, fmt::format("no host in ProxyJump {}", util::quoted(text)),
                             "write [user@]host[:port], several separated by commas"));
    if (auto s = check_name("hostname", hop.host, at); !s) return fail(s.error());
    if (port) {
        auto p = util::parse_int(*port, 1, 65535);
        if (!p)
            return fail(error_at(at, fmt::format("bad port in ProxyJump {}", util::quoted(text)),
                                 "a port is a number from 1 to 65535"));
        hop.port = static_cast<int>(*p);
    }
    return hop;
}

// ProxyJump's value: ssh cuts it at the first '#' and splits the hops at commas.
util::Result<std::vector<JumpHop>> parse_hops(std::string_view value, const SourceLocation& at) {
    std::vector<JumpHop> hops;
    std::size_t pos = 0;
    while (pos <= value.size()) {
        std::size_t comma = value.find(',', pos);
        if (comma == std::string_view::npos) comma = value.size();
        std::string_view item = util::trim(value.substr(pos, comma - pos));
        auto hop = parse_hop(item, at.advanced(static_cast<int>(pos)));
        if (!hop) return fail(hop.error());
        hops.push_back(std::move(*hop));
        pos = comma + 1;
    }
    return hops;
}

std::string_view jump_value(std::string_view raw) {
    if (auto hash = raw.find('#'); hash != std::string_view::npos) raw = raw.substr(0, hash);
    while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\t'))
        raw.remove_suffix(1);
    return raw;
}

// Match's criteria, checked as ssh checks them. `exec` is refused: it runs a command.
util::Status check_match(const Line& line, const std::vector<Word>& words) {
    int attributes = 0;
    for (std::size_t i = 0; i < words.size(); ++i) {
        SourceLocation at = line.value_at.advanced(static_cast<int>(words[i].offset));
        std::string attribute = util::to_lower(words[i].text);
        if (!attribute.empty() && attribute.front() == '!') attribute.erase(0, 1);
        if (attribute == "all") {
            if (attributes > 1 || i + 1 < words.size())
                return fail(error_at(at, "Match all cannot be combined with other criteria",
                                     "write 'Match all' alone, or 'Match canonical all'"));
            return util::Ok{};
        }
        ++attributes;
        if (attribute == "canonical" || attribute == "final") continue;
        if (attribute == "exec")
            return fail(error_at(at, "Match exec is not supported",
                                 "clusterctl never runs a command to read ssh_config; match on "
                                 "host, originalhost, user or localuser instead"));
        if (attribute != "host" && attribute != "originalhost" && attribute != "user" &&
            attribute != "localuser")
            return fail(error_at(
                at, fmt::format("unsupported Match criterion {}", util::quoted(words[i].text)),
                "use all, canonical, final, host, originalhost, user or "
                "localuser"));
        if (++i >= words.size())
            return fail(error_at(at, fmt::format("Match {} needs a pattern", attribute),
                                 fmt::format("e.g. Match {} node-*", attribute)));
    }
    if (attributes == 0)
        return fail(error_at(line.where, "Match needs a criterion", "e.g. Match host node-*"));
    return util::Ok{};
}

// The value checks ssh makes whether or not the line applies to the host looked up.
util::Status check_option(Line& line, const std::vector<Word>& words) {
    const std::string& key = line.key;
    auto one_value = [&]() -> util::Status {
        if (words.empty() || words.front().text.empty())
            return fail(error_at(line.where, fmt::format("{} needs a value", display_name(key))));
        if (words.size() > 1)
            return fail(error_at(line.value_at.advanced(static_cast<int>(words[1].offset)),
                                 fmt::format("{} takes one value", display_name(key)),
                                 "quote a value that has spaces"));
        return util::Ok{};
    };
    SourceLocation at = line.value_at;
    if (key == "proxycommand") return util::Ok{};
    if (key == "proxyjump") {
        std::string_view value = jump_value(line.raw);
        if (util::to_lower(value) == "none") return util::Ok{};
        auto hops = parse_hops(value, at);
        return hops ? util::Status{util::Ok{}} : fail(hops.error());
    }
    if (key == "userknownhostsfile") {
        if (words.empty()) return fail(error_at(line.where, "UserKnownHostsFile needs a value"));
        for (const auto& w : words) {
            if (w.text.empty())
                return fail(error_at(at.advanced(static_cast<int>(w.offset)),
                                     "empty file name in UserKnownHostsFile"));
            if (util::to_lower(w.text) == "none" && words.size() > 1)
                return fail(error_at(at.advanced(static_cast<int>(w.offset)),
                                     "UserKnownHostsFile none must appear alone"));
        }
        return util::Ok{};
    }
    if (key == "ignoreunknown") return one_value();
    if (auto s = one_value(); !s) return s;
    const std::string& v = words.front().text;
    at = line.value_at.advanced(static_cast<int>(words.front().offset));
    if (key == "port" && !util::parse_int(v, 1, 65535))
        return fail(error_at(at, fmt::format("bad Port {}", util::quoted(v)),
                             "a port is a number from 1 to 65535"));
    if ((key == "identitiesonly") && !parse_flag(v))
        return fail(error_at(at,
                             fmt::format("bad value {} for {}", util::quoted(v), display_name(key)),
                             "expected yes or no"));
    if (key == "stricthostkeychecking") {
        auto l = util::to_lower(v);
        if (!parse_flag(v) && l != "ask" && l != "accept-new" && l != "off")
            return fail(
                error_at(at, fmt::format("bad value {} for StrictHostKeyChecking", util::quoted(v)),
                         "expected yes, accept-new, no or ask"));
    }
    if ((key == "connecttimeout" || key == "serveraliveinterval") && v != "none" &&
        parse_time(v) < 0)
        return fail(error_at(at,
                             fmt::format("bad time {} for {}", util::quoted(v), display_name(key)),
                             "seconds, or with units: 30, 1m, 1m30s, 2h"));
    if (key == "serveralivecountmax" && !util::parse_int(v, 0, INT_MAX))
        return fail(error_at(at,
                             fmt::format("bad count {} for ServerAliveCountMax", util::quoted(v)),
                             "a whole number"));
    if (key == "hostname" || key == "user") return check_name(key, v, at);
    return util::Ok{};
}

struct Parser {
    const util::Environment& env;
    std::vector<std::string> ignore_unknown; // IgnoreUnknown's patterns so far
    int depth = 0;

    util::Result<std::vector<Line>> parse(std::string_view text, const std::string& path) {
        std::vector<Line> lines;
        auto visit = [&](std::string_view raw, const SourceLocation& at) -> util::Status {
            auto line = parse_line(raw, at);
            if (!line) return fail(line.error());
            if (*line) lines.push_back(std::move(**line));
            return util::Ok{};
        };
        if (auto s = util::for_each_line(text, path, visit); !s) return fail(s.error());
        return lines;
    }

    bool ignored(const std::string& key) const {
        return std::any_of(ignore_unknown.begin(), ignore_unknown.end(),
                           [&](const std::string& p) { return pattern_list_match(p, key, true); });
    }

    util::Result<std::optional<Line>> parse_line(std::string_view raw, const SourceLocation& at) {
        while (!raw.empty() && std::strchr(" \t\r\n\f", raw.back()))
            raw.remove_suffix(1);
        std::size_t i = raw.find_first_not_of(" \t");
        if (i == std::string_view::npos || raw[i] == '#') return std::optional<Line>{};
        std::size_t key_end = raw.find_first_of(" \t=", i);
        if (key_end == std::string_view::npos) key_end = raw.size();
        Line line;
        std::string_view written = raw.substr(i, key_end - i);
        line.key = util::to_lower(written);
        line.where = at.advanced(static_cast<int>(i));
        std::size_t v = key_end;
        while (v < raw.size() && (raw[v] == ' ' || raw[v] == '\t'))
            ++v;
        if (v < raw.size() && raw[v] == '=') ++v;
        while (v < raw.size() && (raw[v] == ' ' || raw[v] == '\t'))
            ++v;
        line.raw = std::string(raw.substr(std::min(v, raw.size())));
        line.value_at = at.advanced(static_cast<int>(v));
        const auto* keyword = ssh_keywords::find(line.key);
        if (!keyword) {
            if (ignored(line.key)) return std::optional<Line>{};
            auto near = ssh_keywords::suggestion(line.key);
            return fail(error_at(
                line.where, fmt::format("unknown ssh_config keyword {}", util::quoted(written)),
                near.empty() ? fmt::format("ssh refuses it too; 'IgnoreUnknown {}' before it "
                                           "makes both skip it",
                                           written)
                             : fmt::format("did you mean {}?", near)));
        }
        if (line.raw.empty())
            return fail(error_at(line.where, fmt::format("{} needs a value", keyword->name)));
        auto words = split_words(line.raw, line.value_at);
        if (!words) return fail(words.error());
        for (const auto& w : *words)
            line.args.push_back(w.text);
        if (line.key == "identityfile2") line.key = "identityfile";
        if (line.key == "host") {
            line.kind = Line::Kind::host;
            for (const auto& w : *words)
                if (w.text.empty())
                    return fail(error_at(line.value_at.advanced(static_cast<int>(w.offset)),
                                         "empty Host pattern"));
        } else if (line.key == "match") {
            line.kind = Line::Kind::match;
            if (auto s = check_match(line, *words); !s) return fail(s.error());
        } else if (line.key == "include") {
            line.kind = Line::Kind::include;
            if (auto s = include(line); !s) return fail(s.error());
        } else if (keyword->use == ssh_keywords::Use::read) {
            if (auto s = check_option(line, *words); !s) return fail(s.error());
            if (line.key == "ignoreunknown") ignore_unknown.push_back(line.args.front());
        }
        return std::optional<Line>(std::move(line));
    }

    // Include: a relative path is under ~/.ssh, '~' is the home; each word is a glob. The
    // files' lines are kept inside the Include line: it is scoped to its block.
    util::Status include(Line& line) {
        if (depth + 1 > k_max_include_depth)
            return fail(error_at(line.where, "Include nested too deeply",
                                 "is an Include including itself?"));
        ++depth;
        for (const auto& word : line.args) {
            std::string pattern = util::expand_tilde(word, env);
            if (pattern.empty() || pattern.front() != '/') pattern = env.home() + "/.ssh/" + word;
            glob_t matches{};
            int r = ::glob(pattern.c_str(), 0, nullptr, &matches);
            std::vector<std::string> files;
            if (r == 0)
                for (std::size_t i = 0; i < matches.gl_pathc; ++i)
                    files.emplace_back(matches.gl_pathv[i]);
            ::globfree(&matches); // an Include that matches nothing is no error in ssh(1)
            for (const auto& file : files) {
                auto text = util::read_text_file(file, "included ssh_config", line.value_at);
                if (!text) return fail(text.error());
                auto lines = parse(*text, file);
                if (!lines) return fail(lines.error());
                for (auto& l : *lines)
                    line.included.push_back(std::move(l));
            }
        }
        --depth;
        return util::Ok{};
    }
};

// ---- Lookup ---------------------------------------------------------------------------

// The first line that set each key for the host, as ssh keeps the first value.
struct Found {
    std::map<std::string, const Line*> first;
    std::vector<const Line*> identity_files; // every IdentityFile, duplicates once
    bool want_final_pass = false;
    std::optional<std::string> final_host; // the second pass's HostName

    void take(const Line& line) {
        if (line.key == "identityfile") {
            bool seen = std::any_of(identity_files.begin(), identity_files.end(),
                                    [&](const Line* l) { return l->args == line.args; });
            if (!seen) identity_files.push_back(&line);
            return;
        }
        // ProxyJump and ProxyCommand exclude each other: the first given is used.
        std::string key = line.key == "proxycommand" ? "proxyjump" : line.key;
        first.emplace(key, &line);
    }
    const Line* get(const std::string& key) const {
        auto it = first.find(key);
        return it == first.end() ? nullptr : it->second;
    }
};

struct Evaluation {
    const std::string& host_arg;
    const LocalHost& local;
    bool final_pass = false;
    Found& found;

    // The host name Match host compares: HostName so far (%h expanded) or the name given.
    std::string current_host() const {
        if (final_pass && found.final_host) return *found.final_host;
        const Line* h = found.get("hostname");
        if (!h) return host_arg;
        std::string out;
        const std::string& v = h->args.front();
        for (std::size_t i = 0; i < v.size(); ++i) {
            if (v[i] == '%' && i + 1 < v.size() && v[i + 1] == 'h') {
                out += host_arg;
                ++i;
            } else if (v[i] == '%' && i + 1 < v.size() && v[i + 1] == '%') {
                out += '%';
                ++i;
            } else {
                out += v[i];
            }
        }
        return out;
    }

    bool host_line(const Line& line) const {
        bool matched = false;
        for (const auto& word : line.args) {
            bool negated = word.front() == '!';
            std::string_view pattern = std::string_view(word).substr(negated ? 1 : 0);
            if (!wildcard_match(pattern, host_arg)) continue;
            if (negated) return false;
            matched = true;
        }
        return matched;
    }

    bool match_line(const Line& line) {
        bool result = true;
        const auto& a = line.args;
        for (std::size_t i = 0; i < a.size(); ++i) {
            std::string attribute = util::to_lower(a[i]);
            bool negate = !attribute.empty() && attribute.front() == '!';
            if (negate) attribute.erase(0, 1);
            if (attribute == "all") return negate ? false : result;
            bool r = false;
            if (attribute == "canonical" || attribute == "final") {
                if (attribute == "final") found.want_final_pass = true;
                r = final_pass;
            } else {
                const std::string& list = a[++i];
                if (attribute == "host")
                    r = pattern_list_match(list, current_host(), true);
                else if (attribute == "originalhost")
                    r = pattern_list_match(list, host_arg, true);
                else if (attribute == "user") {
                    const Line* u = found.get("user");
                    r = pattern_list_match(list, u ? u->args.front() : local.user, false);
                } else if (attribute == "localuser")
                    r = pattern_list_match(list, local.user, false);
            }
            if (r == negate) result = false;
        }
        return result;
    }

    void run(const std::vector<Line>& lines, bool& active) {
        for (const auto& line : lines) {
            switch (line.kind) {
            case Line::Kind::host:
                active = host_line(line);
                break;
            case Line::Kind::match:
                active = match_line(line);
                break;
            case Line::Kind::include:
                // Lines read by an Include in a block that does not apply never apply;
                // those that do leave the including block's state as it was.
                if (active) {
                    bool saved = active;
                    run(line.included, active);
                    active = saved;
                }
                break;
            case Line::Kind::option:
                if (active) found.take(line);
                break;
            }
        }
    }
};

std::string sha1_hex(std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha1(), nullptr);
    std::string out;
    for (unsigned int i = 0; i < length; ++i)
        out += fmt::format("{:02x}", digest[i]);
    return out;
}

struct Tokens {
    std::map<char, std::string> values;
    const util::Environment* env = nullptr; // ${VAR}; null: not expanded
};

// %x tokens (and ${VAR} where env is set), as ssh's percent_expand: an unknown token fails.
util::Result<std::string> expand(const std::string& value, const Tokens& tokens,
                                 std::string_view key, const SourceLocation& at) {
    std::string out;
    for (std::size_t i = 0; i < value.size(); ++i) {
        if (tokens.env && value[i] == '$' && i + 1 < value.size() && value[i + 1] == '{') {
            auto close = value.find('}', i + 2);
            if (close == std::string::npos || close == i + 2)
                return fail(error_at(at, fmt::format("bad ${{VAR}} in {} {}", display_name(key),
                                                     util::quoted(value))));
            std::string name = value.substr(i + 2, close - i - 2);
            auto v = tokens.env->get(name);
            if (!v)
                return fail(error_at(at,
                                     fmt::format("{} {} uses ${{{}}}, which is not set",
                                                 display_name(key), util::quoted(value), name),
                                     "set it, or write the path out"));
            out += *v;
            i = close;
            continue;
        }
        if (value[i] != '%') {
            out += value[i];
            continue;
        }
        if (i + 1 == value.size())
            return fail(error_at(
                at, fmt::format("{} {} ends with a lone %", display_name(key), util::quoted(value)),
                "write %% for a literal %"));
        char t = value[++i];
        if (t == '%') {
            out += '%';
            continue;
        }
        auto it = tokens.values.find(t);
        if (it == tokens.values.end()) {
            std::string allowed;
            for (const auto& [c, _] : tokens.values)
                allowed += fmt::format(" %{}", c);
            return fail(error_at(at,
                                 fmt::format("{} {}: %{} is not expanded in {}", display_name(key),
                                             util::quoted(value), t, display_name(key)),
                                 fmt::format("ssh expands only{} and %% there", allowed)));
        }
        out += it->second;
    }
    return out;
}

// Keys whose value is what clusterctl does anyway: no warning for them.
bool harmless(const Line& line) {
    std::string v = line.args.empty() ? "" : util::to_lower(line.args.front());
    if (line.key == "canonicalizehostname") return v == "no" || v == "false";
    if (line.key == "controlmaster") return v == "no" || v == "false";
    if (line.key == "connectionattempts") return v == "1";
    if (line.key == "pubkeyauthentication") return v == "yes" || v == "true";
    if (line.key == "proxyusefdpass") return v == "no" || v == "false";
    if (line.key == "preferredauthentications") return v.find("publickey") != std::string::npos;
    if (line.key == "addressfamily") return v == "any";
    if (line.key == "globalknownhostsfile") return v == "/dev/null" || v == "none";
    return false;
}

} // namespace

LocalHost LocalHost::of(const util::Environment& env) {
    LocalHost local;
    local.user = env.user();
    local.home = env.home();
    local.uid = std::to_string(::getuid());
    char name[256] = {};
    if (::gethostname(name, sizeof(name) - 1) == 0) local.hostname = name;
    return local;
}

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

bool pattern_list_match(std::string_view list, std::string_view text, bool case_insensitive) {
    // As ssh's match_pattern_list: "case insensitive" lower-cases the patterns, not the text.
    std::string_view subject = text;
    bool matched = false;
    std::size_t pos = 0;
    while (pos <= list.size()) {
        std::size_t comma = list.find(',', pos);
        if (comma == std::string_view::npos) comma = list.size();
        std::string p(list.substr(pos, comma - pos));
        pos = comma + 1;
        if (case_insensitive) p = util::to_lower(p);
        bool negated = !p.empty() && p.front() == '!';
        if (negated) p.erase(0, 1);
        if (!wildcard_match(p, subject)) continue;
        if (negated) return false;
        matched = true;
    }
    return matched;
}

util::Result<std::vector<JumpHop>> parse_jump_chain(std::string_view value,
                                                    const SourceLocation& at) {
    return parse_hops(value, at);
}

util::Result<std::string> expand_proxy_command(const std::string& command, const std::string& host,
                                               int port, const std::string& user,
                                               const std::string& host_arg,
                                               const std::string& key_alias,
                                               const SourceLocation& at) {
    Tokens tokens{
        {{'h', host}, {'k', key_alias}, {'n', host_arg}, {'p', std::to_string(port)}, {'r', user}},
        nullptr};
    return expand(command, tokens, "proxycommand", at);
}

util::Result<SshConfig> SshConfig::parse(std::string_view text, const std::string& path,
                                         const util::Environment& env) {
    Parser parser{env, {}};
    auto lines = parser.parse(text, path);
    if (!lines) return fail(lines.error());
    SshConfig config;
    config.m_lines = std::move(*lines);
    return config;
}

util::Result<SshConfig> SshConfig::load(const std::string& path, const util::Environment& env,
                                        const SourceLocation& origin) {
    auto text = util::read_text_file(path, "ssh_config", origin);
    if (!text) return fail(text.error());
    return parse(*text, path, env);
}

util::Result<SshOptions> SshConfig::lookup(const std::string& host, const LocalHost& local,
                                           const util::Environment& env) const {
    Found found;
    Evaluation pass{host, local, false, found};
    bool active = true;
    pass.run(m_lines, active);

    SshOptions o;
    const Line* hostname = found.get("hostname");
    std::string remote_host = host;
    if (hostname) {
        auto h = expand(hostname->args.front(), Tokens{{{'h', host}}, nullptr}, "hostname",
                        hostname->value_at);
        if (!h) return fail(h.error());
        remote_host = *h;
    }
    if (!is_address(remote_host)) remote_host = util::to_lower(remote_host);
    if (found.want_final_pass) {
        // "Match final": ssh reads the file again with the host name settled; values
        // already set stay (the first wins), so only what is still unset can change.
        found.final_host = remote_host;
        Evaluation final_pass{host, local, true, found};
        active = true;
        final_pass.run(m_lines, active);
    }
    o.remote_host = remote_host;
    if (hostname) o.hostname = remote_host;

    auto arg = [&](const char* key) -> const std::string* {
        const Line* l = found.get(key);
        return l ? &l->args.front() : nullptr;
    };
    if (auto* v = arg("user")) o.user = *v;
    if (auto* v = arg("port")) o.port = static_cast<int>(*util::parse_int(*v, 1, 65535));
    if (auto* v = arg("identitiesonly")) o.identities_only = parse_flag(*v);
    if (auto* v = arg("stricthostkeychecking")) {
        std::string s = util::to_lower(*v);
        if (auto flag = parse_flag(s)) s = *flag ? "yes" : "no";
        o.strict_host_key_checking = s == "off" ? "no" : s;
    }
    if (auto* v = arg("hostkeyalias")) o.host_key_alias = util::to_lower(*v); // as ssh
    if (auto* v = arg("connecttimeout"))
        o.connect_timeout = *v == "none" ? 0 : static_cast<int>(parse_time(*v));
    if (auto* v = arg("serveraliveinterval"))
        if (*v != "none") o.server_alive_interval = static_cast<int>(parse_time(*v));
    if (auto* v = arg("serveralivecountmax"))
        o.server_alive_count_max = static_cast<int>(*util::parse_int(*v, 0, INT_MAX));
    if (auto* v = arg("kexalgorithms")) o.kex_algorithms = *v;
    if (auto* v = arg("hostkeyalgorithms")) o.host_key_algorithms = *v;
    if (auto* v = arg("ciphers")) o.ciphers = *v;
    if (auto* v = arg("macs")) o.macs = *v;
    if (const Line* l = found.get("forwardagent")) {
        auto flag = parse_flag(l->args.front());
        o.forward_agent = flag.value_or(true); // a socket path forwards that agent
        o.forward_agent_at = l->where;
    }
    if (const Line* l = found.get("proxyjump")) {
        if (l->key == "proxycommand") {
            if (util::to_lower(l->raw) != "none") {
                o.proxy_command = l->raw;
                o.proxy_command_at = l->value_at;
            }
        } else if (util::to_lower(jump_value(l->raw)) == "none") {
            o.proxy_jump_none = true;
        } else {
            o.proxy_jump = *parse_hops(jump_value(l->raw), l->value_at);
            o.proxy_jump_at = l->value_at;
        }
    }

    // Paths: '~' first, then the tokens and ${VAR}, as ssh does for these keys.
    std::string port = std::to_string(o.port.value_or(22));
    std::string user = o.user.value_or(local.user);
    std::string short_host = local.hostname.substr(0, local.hostname.find('.'));
    Tokens tokens{{{'C', sha1_hex(local.hostname + remote_host + port + user)},
                   {'L', short_host},
                   {'i', local.uid},
                   {'k', o.host_key_alias.value_or(host)},
                   {'l', local.hostname},
                   {'n', host},
                   {'p', port},
                   {'d', local.home},
                   {'h', remote_host},
                   {'r', user},
                   {'u', local.user}},
                  &env};
    auto path = [&](const std::string& value, std::string_view key,
                    const SourceLocation& at) -> util::Result<std::string> {
        util::Environment home_env;
        home_env.set("HOME", local.home);
        return expand(util::expand_tilde(value, home_env), tokens, key, at);
    };
    for (const Line* l : found.identity_files) {
        auto p = path(l->args.front(), "identityfile", l->value_at);
        if (!p) return fail(p.error());
        if (std::find(o.identity_files.begin(), o.identity_files.end(), *p) ==
            o.identity_files.end())
            o.identity_files.push_back(*p);
    }
    if (const Line* l = found.get("userknownhostsfile")) {
        if (util::to_lower(l->args.front()) == "none") {
            o.user_known_hosts_none = true;
        } else {
            for (const auto& f : l->args) {
                auto p = path(f, "userknownhostsfile", l->value_at);
                if (!p) return fail(p.error());
                o.user_known_hosts_files.push_back(*p);
            }
        }
    }
    if (const Line* l = found.get("identityagent")) {
        const std::string& v = l->args.front();
        if (util::to_lower(v) == "none" || v == "SSH_AUTH_SOCK" || v.front() == '$') {
            o.identity_agent = v;
        } else {
            auto p = path(v, "identityagent", l->value_at);
            if (!p) return fail(p.error());
            o.identity_agent = *p;
        }
    }

    for (const auto& [key, line] : found.first) {
        const auto* keyword = ssh_keywords::find(line->key);
        if (keyword && keyword->use == ssh_keywords::Use::not_applied && !harmless(*line))
            o.not_applied.push_back(error_at(line->where,
                                             fmt::format("{} is not applied", keyword->name),
                                             std::string(keyword->why)));
    }
    return o;
}

} // namespace clusterctl::config
