#include "clusterctl/config/host_list.hpp"

#include "clusterctl/util/strings.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <map>
#include <set>

namespace clusterctl::config {
namespace {

using util::error_at;
using util::fail;
using util::SourceLocation;

SourceLocation at(const SourceLocation& where, std::size_t offset) {
    return where.advanced(static_cast<int>(offset));
}

// ---- Numbers as digit strings: any length, so a name's number is never cut ------------

bool all_digits(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string_view without_zeros(std::string_view digits) {
    std::size_t first = digits.find_first_not_of('0');
    return first == std::string_view::npos ? std::string_view("0") : digits.substr(first);
}

// By value: -1, 0, 1.
int compare_value(std::string_view a, std::string_view b) {
    a = without_zeros(a);
    b = without_zeros(b);
    if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
    return a < b ? -1 : a > b ? 1 : 0;
}

// digits + n (n >= 0), unpadded.
std::string add(std::string_view digits, unsigned long long n) {
    std::string out(without_zeros(digits));
    std::size_t i = out.size();
    while (n > 0 || i == 0) {
        if (i == 0) {
            out.insert(out.begin(), '0');
            i = 1;
        }
        unsigned long long sum = static_cast<unsigned long long>(out[i - 1] - '0') + n % 10;
        n /= 10;
        out[i - 1] = static_cast<char>('0' + sum % 10);
        n += sum / 10;
        --i;
        if (n == 0) break;
    }
    return out;
}

std::string padded(std::string value, std::size_t width) {
    if (value.size() < width) value.insert(0, width - value.size(), '0');
    return value;
}

// ClusterShell's rule: a bound written with a leading zero fixes the width.
bool is_padded(std::string_view digits) {
    return digits.size() > 1 && digits.front() == '0';
}

// "001-008,010,1-9/2" (the inside of one bracket group) -> the numbers as text.
util::Result<std::vector<std::string>>
expand_range_set(std::string_view set, const SourceLocation& where, std::size_t budget) {
    std::vector<std::string> values;
    std::size_t pos = 0;
    while (pos <= set.size()) {
        std::size_t comma = set.find(',', pos);
        if (comma == std::string_view::npos) comma = set.size();
        std::string_view item = util::trim(set.substr(pos, comma - pos));
        SourceLocation item_at = at(where, pos);
        if (item.empty())
            return fail(error_at(item_at, "empty item in host range",
                                 "write ranges like node-[001-008,010]"));
        std::string_view range = item;
        unsigned long long step = 1;
        if (auto slash = item.find('/'); slash != std::string_view::npos) {
            auto s = util::parse_int(util::trim(item.substr(slash + 1)), 1, k_max_range_number);
            if (!s)
                return fail(error_at(item_at, fmt::format("bad step in host range '{}'", item),
                                     "a step is a whole number from 1, as in 1-9/2"));
            step = static_cast<unsigned long long>(*s);
            range = item.substr(0, slash);
        }
        std::size_t dash = range.find('-');
        std::string_view low = util::trim(range.substr(0, dash));
        std::string_view high =
            dash == std::string_view::npos ? low : util::trim(range.substr(dash + 1));
        if (!all_digits(low) || !all_digits(high))
            return fail(error_at(item_at, fmt::format("bad host range '{}'", item),
                                 "a range is two numbers like 001-008, optionally with a step "
                                 "like 1-9/2"));
        if ((is_padded(low) || is_padded(high)) && low.size() != high.size())
            return fail(error_at(item_at,
                                 fmt::format("bad host range '{}': the ends are padded to "
                                             "different widths",
                                             item),
                                 fmt::format("write both ends with {} digits, or neither with "
                                             "a leading zero",
                                             std::max(low.size(), high.size()))));
        if (compare_value(low, high) > 0)
            return fail(error_at(
                item_at, fmt::format("bad host range '{}': {} is greater than {}", item, low, high),
                fmt::format("write it as {}-{}", high, low)));
        std::size_t width = is_padded(low) ? low.size() : 0;
        for (std::string n(without_zeros(low)); compare_value(n, high) <= 0; n = add(n, step)) {
            if (values.size() >= budget)
                return fail(error_at(item_at, fmt::format("host range '{}' is too large", item),
                                     fmt::format("at most {} hosts", k_max_expanded_hosts)));
            values.push_back(padded(n, width));
        }
        pos = comma + 1;
    }
    return values;
}

} // namespace

util::Result<std::vector<std::string>> expand_host_pattern(std::string_view pattern,
                                                           const SourceLocation& where) {
    for (std::size_t pos = 0, depth = 0; pos < pattern.size(); ++pos) {
        char c = pattern[pos];
        depth += c == '[' ? 1 : c == ']' && depth > 0 ? -1 : 0;
        if (depth == 0 && (c == '!' || c == '&' || c == '^' || (c == '@' && pos == 0)))
            return fail(error_at(at(where, pos),
                                 fmt::format("'{}' in a host list: ClusterShell's set operators "
                                             "and @groups are not supported",
                                             c),
                                 "list the hosts, and leave some out with -x"));
    }
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
        std::size_t nested = pattern.find('[', open + 1);
        if (nested < close)
            return fail(error_at(at(where, nested), "'[' inside a host range",
                                 "ranges look like node-[001-008]"));
        auto values = expand_range_set(pattern.substr(open + 1, close - open - 1),
                                       at(where, open + 1), k_max_expanded_hosts);
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
    for (std::size_t pos = 0; pos < expression.size(); ++pos) {
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

// ---- Folding, as ClusterShell's `nodeset -f` folds --------------------------------------
//
// A name is a pattern (its text with each run of digits taken out) and the digits, one
// dimension per run: rack2-node07 is "rack%s-node%s" at (2, 07). Patterns come out sorted;
// within one, the numbers of a one-dimensional pattern become ranges, and the points of a
// many-dimensional one are merged into as few boxes as a greedy pass finds: two boxes that
// differ in one dimension only become one, largest boxes first, until nothing merges.

namespace {

// One dimension's numbers, in ClusterShell's order: shorter text first, then by text.
struct ByLengthThenText {
    bool operator()(const std::string& a, const std::string& b) const {
        return a.size() != b.size() ? a.size() < b.size() : a < b;
    }
};
using Numbers = std::set<std::string, ByLengthThenText>;
using Box = std::vector<Numbers>;

// "1-3,7,08-10": runs of consecutive numbers written with the same padding.
std::string numbers_text(const Numbers& numbers) {
    std::string out;
    auto emit = [&](const std::string& first, const std::string& last) {
        if (!out.empty()) out += ',';
        out += first;
        if (last != first) out += "-" + last;
    };
    std::string first, last;
    for (const auto& n : numbers) {
        if (!first.empty()) {
            // A padded run keeps its width; an unpadded one never takes a padded number.
            bool same_padding = is_padded(first) ? n.size() == first.size() : !is_padded(n);
            if (same_padding && compare_value(add(last, 1), n) == 0) {
                last = n;
                continue;
            }
            emit(first, last);
        }
        first = last = n;
    }
    if (!first.empty()) emit(first, last);
    return out;
}

std::string box_text(const std::string& pattern, const Box& box) {
    std::string out;
    std::size_t dimension = 0;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] != '%' || i + 1 == pattern.size()) {
            out += pattern[i];
        } else if (pattern[++i] == 's') {
            const Numbers& n = box[dimension++];
            out += n.size() > 1 ? "[" + numbers_text(n) + "]" : *n.begin();
        } else {
            out += '%'; // "%%": a '%' of the name
        }
    }
    return out;
}

bool disjoint(const Numbers& a, const Numbers& b) {
    return std::none_of(a.begin(), a.end(), [&](const std::string& n) { return b.count(n); });
}

bool contains(const Numbers& big, const Numbers& small) {
    return std::includes(big.begin(), big.end(), small.begin(), small.end(), ByLengthThenText{});
}

// Larger boxes first; then, dimension by dimension, the one with more numbers, the lower
// first number, the lower last number (numbers compared as text, as ClusterShell does).
bool box_before(const Box& a, const Box& b) {
    auto volume = [](const Box& box) {
        double v = 1;
        for (const auto& n : box)
            v *= static_cast<double>(n.size());
        return v;
    };
    if (volume(a) != volume(b)) return volume(a) > volume(b);
    for (std::size_t d = 0; d < a.size(); ++d) {
        if (a[d].size() != b[d].size()) return a[d].size() > b[d].size();
        if (*a[d].begin() != *b[d].begin()) return *a[d].begin() < *b[d].begin();
        if (*a[d].rbegin() != *b[d].rbegin()) return *a[d].rbegin() < *b[d].rbegin();
    }
    return false;
}

// Two boxes that agree in every dimension but one (where they are disjoint, or one holds
// the other) merge into one box.
std::optional<Box> merged(const Box& a, const Box& b) {
    Box out(a.size());
    int differing = 0;
    for (std::size_t d = 0; d < a.size(); ++d) {
        if (a[d] == b[d]) {
            out[d] = a[d];
            continue;
        }
        if (++differing > 1) return std::nullopt;
        if (disjoint(a[d], b[d])) {
            out[d] = a[d];
            out[d].insert(b[d].begin(), b[d].end());
        } else if (contains(a[d], b[d])) {
            out[d] = a[d];
        } else if (contains(b[d], a[d])) {
            out[d] = b[d];
        } else {
            return std::nullopt;
        }
    }
    return out;
}

// Beyond this many names of one pattern, points are pre-merged before the greedy passes
// (which take time quadratic in the boxes they start from).
constexpr std::size_t k_points_folded_one_by_one = 512;

std::vector<Box> fold_boxes(std::vector<Box> boxes) {
    if (boxes.size() < 2) return boxes;
    // When only one dimension varies, all boxes are one.
    std::size_t varying = 0, which = 0;
    for (std::size_t d = 0; d < boxes[0].size(); ++d) {
        bool same = std::all_of(boxes.begin(), boxes.end(),
                                [&](const Box& b) { return b[d] == boxes[0][d]; });
        if (!same) {
            ++varying;
            which = d;
        }
    }
    if (varying <= 1) {
        Box one = boxes[0];
        for (const auto& b : boxes)
            one[which].insert(b[which].begin(), b[which].end());
        return {one};
    }
    // Many points: first merge them dimension by dimension (boxes that agree in all the
    // other dimensions become one), so the greedy passes below start from a few boxes
    // instead of thousands of points. ClusterShell starts from the points; both give the
    // same fold for the lists clusters have (rows of racks, nodes), and this stays fast.
    if (boxes.size() > k_points_folded_one_by_one) {
        for (std::size_t d = boxes[0].size(); d-- > 0;) {
            std::map<Box, Numbers> rows; // the box without dimension d -> its numbers there
            for (auto& b : boxes) {
                Numbers numbers = std::move(b[d]);
                b[d].clear();
                rows[b].insert(numbers.begin(), numbers.end());
            }
            boxes.clear();
            for (auto& [rest, numbers] : rows) {
                boxes.push_back(rest);
                boxes.back()[d] = std::move(numbers);
            }
        }
        if (boxes.size() > k_points_folded_one_by_one) { // scattered: fold no further
            std::stable_sort(boxes.begin(), boxes.end(), box_before);
            return boxes;
        }
    }
    // Greedy merging: quick passes (each box against its next neighbours until one does
    // not merge), then full passes once the quick ones find nothing.
    bool changed = true, full = false;
    while (changed) {
        changed = false;
        std::stable_sort(boxes.begin(), boxes.end(), box_before);
        for (std::size_t i = 0; i + 1 < boxes.size(); ++i) {
            for (std::size_t j = i + 1; j < boxes.size();) {
                if (auto m = merged(boxes[i], boxes[j])) {
                    boxes[i] = std::move(*m);
                    boxes.erase(boxes.begin() + static_cast<std::ptrdiff_t>(j));
                    changed = true;
                } else if (!full) {
                    break;
                } else {
                    ++j;
                }
            }
        }
        if (!changed && !full) changed = full = true;
    }
    return boxes;
}

// rack2-node07 -> ("rack%s-node%s", {"2", "07"}).
std::pair<std::string, std::vector<std::string>> split_name(const std::string& name) {
    std::pair<std::string, std::vector<std::string>> out;
    for (std::size_t i = 0; i < name.size();) {
        if (name[i] >= '0' && name[i] <= '9') {
            std::size_t end = i;
            while (end < name.size() && name[end] >= '0' && name[end] <= '9')
                ++end;
            out.second.push_back(name.substr(i, end - i));
            out.first += "%s";
            i = end;
        } else {
            out.first += name[i] == '%' ? "%%" : std::string(1, name[i]);
            ++i;
        }
    }
    return out;
}

} // namespace

std::string fold_host_list(const std::vector<std::string>& hosts) {
    std::map<std::string, std::vector<Box>> patterns; // sorted by pattern, as nodeset
    std::map<std::string, std::set<std::vector<std::string>>> seen;
    for (const auto& host : hosts) {
        auto [pattern, digits] = split_name(host);
        if (!seen[pattern].insert(digits).second) continue;
        Box box;
        for (auto& d : digits)
            box.push_back(Numbers{d});
        patterns[pattern].push_back(std::move(box));
    }
    std::string out;
    for (auto& [pattern, boxes] : patterns) {
        if (boxes.front().empty()) { // no digits: the name itself
            out += (out.empty() ? "" : ",") + box_text(pattern, {});
            continue;
        }
        for (const auto& box : fold_boxes(std::move(boxes)))
            out += (out.empty() ? "" : ",") + box_text(pattern, box);
    }
    return out;
}

} // namespace clusterctl::config
