#include "clusterctl/config/variables.hpp"

#include <fmt/format.h>

namespace clusterctl::config {
namespace {

using util::error_at;
using util::fail;

// Columns follow the text across newlines, so a template's error points at its own line.
util::SourceLocation location_of(std::string_view text, std::size_t offset,
                                 const util::SourceLocation& where) {
    util::SourceLocation at = where;
    for (std::size_t i = 0; i < offset; ++i) {
        if (text[i] == '\n') {
            ++at.line;
            at.column = 1;
        } else {
            ++at.column;
        }
    }
    return at;
}

} // namespace

bool is_variable_name(std::string_view name) {
    if (name.empty() || (name.front() >= '0' && name.front() <= '9')) return false;
    for (char c : name) {
        bool ok =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        if (!ok) return false;
    }
    return true;
}

util::Result<std::string> expand_variables(std::string_view text, const VariableLookup& lookup,
                                           const util::SourceLocation& where, std::size_t limit) {
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        char c = text[i];
        if (c != '$' || i + 1 == text.size()) {
            if (out.size() == limit)
                return fail(error_at(location_of(text, i, where),
                                     fmt::format("the text is longer than {} KiB", limit >> 10),
                                     "keep it shorter"));
            out += c;
            ++i;
            continue;
        }
        if (text[i + 1] == '$') {
            out += '$';
            i += 2;
            continue;
        }
        if (text[i + 1] != '{') {
            out += c;
            ++i;
            continue;
        }
        std::size_t close = text.find('}', i + 2);
        if (close == std::string_view::npos)
            return fail(error_at(location_of(text, i, where), "unterminated '${'",
                                 "close it with '}', or write '$$' for a literal '$'"));
        std::string_view inner = text.substr(i + 2, close - i - 2);
        std::size_t sep = inner.find(":-");
        std::string_view name = inner.substr(0, sep);
        if (!is_variable_name(name))
            return fail(error_at(location_of(text, i, where),
                                 fmt::format("bad variable name '{}'", name),
                                 "names hold letters, digits and '_'"));
        auto value = lookup(name);
        if (sep != std::string_view::npos) {
            if (!value || value->empty()) value = std::string(inner.substr(sep + 2));
        } else if (!value) {
            return fail(error_at(location_of(text, i, where),
                                 fmt::format("undefined variable '{}'", name),
                                 fmt::format("define it under env: or export it, or write "
                                             "${{{}:-default}}",
                                             name)));
        }
        if (out.size() + value->size() > limit)
            return fail(error_at(location_of(text, i, where),
                                 fmt::format("expanding '${{{}}}' makes the value longer than {} "
                                             "KiB",
                                             name, limit >> 10),
                                 "values refer to each other too many times over; write a "
                                 "shorter value"));
        out += *value;
        i = close + 1;
    }
    return out;
}

} // namespace clusterctl::config
