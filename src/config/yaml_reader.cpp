#include "yaml_reader.hpp"

#include "clusterctl/util/strings.hpp"

#include <fmt/format.h>
#include <set>

namespace clusterctl::config {

using util::error_at;
using util::fail;

namespace {

std::string kind_name(const YAML::Node& node) {
    switch (node.Type()) {
    case YAML::NodeType::Map:
        return "a mapping";
    case YAML::NodeType::Sequence:
        return "a list";
    case YAML::NodeType::Null:
        return "nothing";
    case YAML::NodeType::Scalar:
        return fmt::format("'{}'", node.Scalar());
    default:
        return "an undefined value";
    }
}

} // namespace

void YamlReader::add_origin(const YAML::Node& node, const util::SourceLocation& origin) {
    m_origins.emplace_back(node, origin);
    if (node.IsMap()) {
        for (auto it = node.begin(); it != node.end(); ++it) {
            add_origin(it->first, origin);
            add_origin(it->second, origin);
        }
    } else if (node.IsSequence()) {
        for (const auto& item : node)
            add_origin(item, origin);
    }
}

util::SourceLocation YamlReader::at(const YAML::Node& node) const {
    YAML::Mark mark = node.Mark();
    for (const auto& [from, origin] : m_origins)
        if (from.is(node)) return mark.is_null() ? origin : origin.advanced(mark.column);
    if (mark.is_null()) return {m_file, 1, 1};
    return {m_file, mark.line + 1, mark.column + 1};
}

util::Status YamlReader::check_keys(const YAML::Node& map, std::string_view section,
                                    const std::vector<std::string>& allowed) const {
    std::set<std::string> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
        std::string key = it->first.Scalar();
        std::string where = section.empty() ? "at the top level" : fmt::format("in {}", section);
        if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
            std::string hint = util::did_you_mean(key, allowed);
            if (hint.empty()) hint = fmt::format("known keys: {}", fmt::join(allowed, ", "));
            return fail(
                error_at(at(it->first), fmt::format("unknown key '{}' {}", key, where), hint));
        }
        if (!seen.insert(key).second)
            return fail(error_at(at(it->first), fmt::format("key '{}' given twice {}", key, where),
                                 "keep one"));
    }
    return util::Ok{};
}

util::Status YamlReader::expect_map(const YAML::Node& node, std::string_view what) const {
    if (node.IsMap()) return util::Ok{};
    return fail(error_at(at(node),
                         fmt::format("{} must be a mapping, got {}", what, kind_name(node)),
                         "write 'key: value' lines indented under it"));
}

util::Status YamlReader::expect_list(const YAML::Node& node, std::string_view what) const {
    if (node.IsSequence()) return util::Ok{};
    return fail(error_at(at(node), fmt::format("{} must be a list, got {}", what, kind_name(node)),
                         "write '- item' lines indented under it"));
}

util::Result<std::string> YamlReader::raw_string(const YAML::Node& node,
                                                 std::string_view what) const {
    if (!node.IsScalar())
        return fail(error_at(at(node),
                             fmt::format("{} must be text, got {}", what,
                                         node.IsSequence() ? "a list"
                                         : node.IsMap()    ? "a mapping"
                                                           : "nothing"),
                             "write a single value"));
    const std::string& text = node.Scalar();
    // A NUL cannot reach a process's environment or argv, and other control bytes (but
    // tab and newline) in a value are a mistake or an attack, never a setting.
    for (std::size_t i = 0; i < text.size(); ++i) {
        auto byte = static_cast<unsigned char>(text[i]);
        if (byte >= 0x20 || byte == '\t' || byte == '\n') continue;
        return fail(error_at(
            at(node),
            fmt::format("{} holds the control byte {}", what, util::quoted(text.substr(i, 1))),
            "remove it; write values as plain text"));
    }
    return text;
}

util::Result<std::string> YamlReader::string(const YAML::Node& node, std::string_view what) const {
    auto text = raw_string(node, what);
    if (!text) return text;
    util::SourceLocation where = at(node);
    if (node.Tag() == "!") ++where.column; // a quoted scalar: its text starts after the quote
    auto expanded = expand_variables(*text, m_lookup, where);
    if (expanded) return expanded;
    util::Diagnostic d = expanded.error();
    d.where = inside_scalar(d.where, at(node));
    return fail(std::move(d));
}

// expand_variables counts positions in the scalar's value; a scalar folded over several
// lines (or with escapes) has a value that no longer lines up with its source. The place
// stands when the source really has "${" there; else the error points at the scalar.
util::SourceLocation YamlReader::inside_scalar(const util::SourceLocation& at,
                                               const util::SourceLocation& scalar) const {
    if (scalar.file != m_file) return at; // a value given on the command line: one line
    std::size_t start = 0;
    for (int line = 1; line < at.line; ++line) {
        start = m_text.find('\n', start);
        if (start == std::string_view::npos) return scalar;
        ++start;
    }
    std::size_t pos = start + static_cast<std::size_t>(at.column - 1);
    std::size_t end = std::min(m_text.find('\n', start), m_text.size());
    if (pos + 1 < end && m_text.substr(pos, 2) == "${") return at;
    return scalar;
}

util::Result<int> YamlReader::integer(const YAML::Node& node, std::string_view what, int min,
                                      int max) const {
    auto text = string(node, what);
    if (!text) return fail(text.error());
    auto n = util::parse_int(*text, min, max);
    if (!n) {
        bool number = util::parse_int(*text, -2147483647LL, 2147483647LL).has_value();
        return fail(error_at(at(node),
                             number
                                 ? fmt::format("{} is {}, out of range", what, *text)
                                 : fmt::format("{} must be a whole number, got '{}'", what, *text),
                             fmt::format("from {} to {}", min, max)));
    }
    return static_cast<int>(*n);
}

util::Result<bool> YamlReader::boolean(const YAML::Node& node, std::string_view what) const {
    auto text = string(node, what);
    if (!text) return fail(text.error());
    std::string v = util::to_lower(*text);
    if (v == "true" || v == "yes" || v == "on") return true;
    if (v == "false" || v == "no" || v == "off") return false;
    return fail(error_at(at(node), fmt::format("{} must be true or false, got '{}'", what, *text)));
}

util::Result<std::vector<std::string>> YamlReader::string_list(const YAML::Node& node,
                                                               std::string_view what) const {
    std::vector<std::string> out;
    if (node.IsScalar()) {
        auto one = string(node, what);
        if (!one) return fail(one.error());
        out.push_back(std::move(*one));
        return out;
    }
    if (auto s = expect_list(node, what); !s) return fail(s.error());
    for (const auto& item : node) {
        auto text = string(item, what);
        if (!text) return fail(text.error());
        out.push_back(std::move(*text));
    }
    return out;
}

} // namespace clusterctl::config
