#include "clusterctl/config/host_list.hpp"

#include "clusterctl/util/strings.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <map>

namespace clusterctl::config {
namespace {

using util::error_at;
using util::fail;
using util::SourceLocation;

SourceLocation at(const SourceLocation& where, std::size_t offset) {
    return where.advanced(static_cast<int>(offset));
}

// "001-008,010" (the inside of one bracket group) -> the numbers as text.
util::Result<std::vector<std::string>> expand_range_set(std::string_view set,
                                                        const SourceLocation& where) {
    std::vector<std::string> values;
    std::size_t pos = 0;
    while (pos <= set.size()) {
        std::size_t comma = set.find(',', pos);
        if (comma == std::string_view::npos) comma = set.size();
        std::string_view item = set.substr(pos, comma - pos);
        SourceLocation item_at = at(where, pos);
        if (item.empty())
            return fail(error_at(item_at, "empty item in host range",
                                 "write ranges like node-[001-008,010]"));
        std::size_t dash = item.find('-');
        std::string_view low = item.substr(0, dash);
        std::string_view high = dash == std::string_view::npos ? low : item.substr(dash + 1);
        auto lo = util::parse_int(low, 0, k_max_range_number);
        auto hi = util::parse_int(high, 0, k_max_range_number);
        if (!lo || !hi || low.front() == '-' || high.empty() || high.front() == '-') {
            return fail(error_at(item_at, fmt::format("bad host range '{}'", item),
                                 fmt::format("a range is two numbers from 0 to {} like 001-008",
                                             k_max_range_number)));
        }
        if (*lo > *hi) {
            return fail(error_at(
                item_at, fmt::format("bad host range '{}': {} is greater than {}", item, low, high),
                fmt::format("write it as {}-{}", high, low)));
        }
        if (static_cast<std::size_t>(*hi - *lo) + values.size() >= k_max_expanded_hosts) {
            return fail(error_at(item_at, fmt::format("host range '{}' is too large", item),
                                 fmt::format("at most {} hosts", k_max_expanded_hosts)));
        }
        // Zero padding: the width of the low bound when it starts with 0 (pdsh, clush).
        std::size_t width = (low.size() > 1 && low.front() == '0') ? low.size() : 0;
        for (long long n = *lo; n <= *hi; ++n)
            values.push_back(fmt::format("{:0{}}", n, width));
        pos = comma + 1;
    }
    return values;
}

} // namespace

util::Result<std::vector<std::string>> expand_host_pattern(std::string_view pattern,
                                                           const SourceLocation& where) {
    std::vector<std::string> results{""};
    std::size_t pos = 0;
    while (pos < pattern.size()) {
        std::size_t open = pattern.find('[', pos);
        std::size_t close_stray = pattern.find(']', pos);
        if (close_stray != std::string_view::npos && close_stray < open) {
            return fail(error_at(at(where, close_stray), "unmatched ']' in host list",
                                 "ranges look like node-[001-008]"));
        }
        std::string_view literal = pattern.substr(
            pos, open == std::string_view::npos ? std::string_view::npos : open - pos);
        if (results.front().size() + literal.size() > k_max_host_name)
            return fail(error_at(where, "host name longer than 253 characters",
                                 "a DNS name has at most 253 characters"));
        for (auto& r : results)
            r += literal;
        if (open == std::string_view::npos) break;
        std::size_t close = pattern.find(']', open);
        if (close == std::string_view::npos) {
            return fail(error_at(at(where, open), "unclosed '[' in host list",
                                 "ranges look like node-[001-008]"));
        }
        auto values =
            expand_range_set(pattern.substr(open + 1, close - open - 1), at(where, open + 1));
        if (!values) return fail(values.error());
        if (results.size() * values->size() > k_max_expanded_hosts) {
            return fail(error_at(at(where, open), "host list expands to too many hosts",
                                 fmt::format("at most {} hosts", k_max_expanded_hosts)));
        }
        std::vector<std::string> next;
        next.reserve(results.size() * values->size());
        for (const auto& prefix : results)
            for (const auto& v : *values) {
                if (prefix.size() + v.size() > k_max_host_name)
                    return fail(error_at(where, "host name longer than 253 characters",
                                         "a DNS name has at most 253 characters"));
                next.push_back(prefix + v);
            }
        results = std::move(next);
        pos = close + 1;
    }
    if (results.size() == 1 && results.front().empty())
        return fail(error_at(where, "empty host name", "give a host name like node-001"));
    return results;
}

util::Result<std::vector<std::string>> expand_host_list(std::string_view expression,
                                                        const SourceLocation& where) {
    std::vector<std::string> hosts;
    std::size_t pos = 0;
    int depth = 0;
    std::size_t start = 0;
    auto flush = [&](std::size_t end) -> util::Status {
        std::string_view item = util::trim(expression.substr(start, end - start));
        std::size_t lead = expression.substr(start, end - start).find_first_not_of(" \t");
        if (item.empty())
            return fail(error_at(at(where, start), "empty item in host list",
                                 "separate host names with single commas"));
        auto expanded = expand_host_pattern(item, at(where, start + lead));
        if (!expanded) return fail(expanded.error());
        for (auto& h : *expanded)
            hosts.push_back(std::move(h));
        return util::Ok{};
    };
    for (; pos < expression.size(); ++pos) {
        char c = expression[pos];
        if (c == '[') ++depth;
        if (c == ']') --depth;
        if (c == ',' && depth == 0) {
            if (auto s = flush(pos); !s) return fail(s.error());
            start = pos + 1;
        }
    }
    if (auto s = flush(expression.size()); !s) return fail(s.error());
    return hosts;
}

namespace {

struct SplitName {
    std::string prefix;
    std::string digits;
    std::string suffix;
};

// The last run of digits in the name splits it into prefix, number and suffix.
SplitName split_name(const std::string& name) {
    std::size_t end = name.find_last_of("0123456789");
    if (end == std::string::npos) return {name, "", ""};
    std::size_t begin = end;
    while (begin > 0 && std::isdigit(static_cast<unsigned char>(name[begin - 1])))
        --begin;
    return {name.substr(0, begin), name.substr(begin, end - begin + 1), name.substr(end + 1)};
}

// The text a range starting at `low` gives `n`: padded to low's width when low has a
// leading zero (pdsh, clush), else plain.
std::string range_text(const std::string& low, long long n) {
    std::size_t width = (low.size() > 1 && low.front() == '0') ? low.size() : 0;
    return fmt::format("{:0{}}", n, width);
}

// Numbers (as text) -> "1-3,7": a run goes on while the next number is the one the run's
// range would produce, so expanding the result gives exactly these numbers back.
std::string fold_group(std::vector<std::string> digits) {
    auto value = [](const std::string& d) { return std::stoll(d); };
    std::sort(digits.begin(), digits.end(), [&](const auto& a, const auto& b) {
        return value(a) != value(b) ? value(a) < value(b) : a.size() < b.size();
    });
    digits.erase(std::unique(digits.begin(), digits.end()), digits.end());
    std::vector<bool> used(digits.size(), false);
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (used[i]) continue;
        used[i] = true;
        std::size_t last = i;
        long long next = value(digits[i]) + 1;
        // The next value's text is among the few entries after `last` (same value, other
        // paddings sort together).
        for (std::size_t j = last + 1; j < digits.size() && value(digits[j]) <= next; ++j) {
            if (used[j] || value(digits[j]) != next || digits[j] != range_text(digits[i], next))
                continue;
            used[j] = true;
            last = j;
            ++next;
        }
        if (!out.empty()) out += ',';
        out += digits[i];
        if (last != i) out += "-" + digits[last];
    }
    return out;
}

} // namespace

std::string fold_host_list(const std::vector<std::string>& hosts) {
    // Each output item is either a name without a number or a (prefix, suffix) group.
    struct Item {
        std::string name;
        std::size_t group = 0;
        bool grouped = false;
    };
    std::vector<Item> items;
    std::vector<std::pair<std::string, std::string>> keys;
    std::map<std::pair<std::string, std::string>, std::size_t> group_of;
    std::vector<std::vector<std::string>> digits;
    for (const auto& host : hosts) {
        SplitName s = split_name(host);
        if (s.digits.empty() || s.digits.size() > k_max_range_digits) {
            items.push_back({host});
            continue;
        }
        auto key = std::make_pair(s.prefix, s.suffix);
        auto [it, inserted] = group_of.emplace(key, keys.size());
        if (inserted) {
            keys.push_back(key);
            digits.emplace_back();
            items.push_back({"", it->second, true});
        }
        digits[it->second].push_back(s.digits);
    }
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) out += ',';
        if (!item.grouped) {
            out += item.name;
            continue;
        }
        const auto& [prefix, suffix] = keys[item.group];
        const auto& numbers = digits[item.group];
        if (numbers.size() == 1)
            out += prefix + numbers.front() + suffix;
        else
            out += prefix + "[" + fold_group(numbers) + "]" + suffix;
    }
    return out;
}

} // namespace clusterctl::config
