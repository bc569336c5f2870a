#pragma once
// ${VAR} expansion, which replaces the seed workflow's envsubst:
//   ${NAME}            the value of NAME; undefined is an error at its line and column
//   ${NAME:-default}   NAME's value, or default when NAME is undefined or empty
//   $$                 a literal '$'
// Any other '$' is kept as it is, so shell text like "$HOME" passes through untouched.

#include "clusterctl/util/result.hpp"

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace clusterctl::config {

using VariableLookup = std::function<std::optional<std::string>(std::string_view)>;

// A config value may grow to this by expansion; templates to util::k_input_file_limit.
// Past it, the expansion is refused at the ${ that crossed it (a value that refers four
// times to one that refers four times to ... would otherwise grow to gigabytes).
inline constexpr std::size_t k_expanded_value_limit = std::size_t{1} << 20;

util::Result<std::string> expand_variables(std::string_view text, const VariableLookup& lookup,
                                           const util::SourceLocation& where,
                                           std::size_t limit = k_expanded_value_limit);

bool is_variable_name(std::string_view name);

} // namespace clusterctl::config
