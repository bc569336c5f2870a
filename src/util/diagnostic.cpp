#include "clusterctl/util/diagnostic.hpp"

#include <fmt/format.h>

namespace clusterctl::util {

std::string Diagnostic::str() const {
    std::string text =
        fmt::format("{}:{}:{}: error: {}", where.file, where.line, where.column, message);
    if (!hint.empty()) text += fmt::format(" ({})", hint);
    return text;
}

Diagnostic error_at(SourceLocation where, std::string message, std::string hint) {
    return Diagnostic{std::move(where), std::move(message), std::move(hint)};
}

} // namespace clusterctl::util
