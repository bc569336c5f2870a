#include "clusterctl/util/diagnostic.hpp"

#include "clusterctl/util/strings.hpp"

#include <fmt/format.h>

namespace clusterctl::util {

std::string Diagnostic::str(std::string_view severity) const {
    std::string text = fmt::format("{}:{}:{}: {}: {}", escape_control(where.file), where.line,
                                   where.column, severity, escape_control(message));
    if (!hint.empty()) text += fmt::format(" ({})", escape_control(hint));
    return text;
}

Diagnostic error_at(SourceLocation where, std::string message, std::string hint) {
    return Diagnostic{std::move(where), std::move(message), std::move(hint)};
}

} // namespace clusterctl::util
