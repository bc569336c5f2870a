#pragma once
// ${VAR} expansion, which replaces the seed workflow's envsubst:
//   ${NAME}            the value of NAME; undefined is an error at its line and column
//   ${NAME:-default}   NAME's value, or default when NAME is undefined or empty
//   $$                 a literal '$'
// Any other '$' is kept as it is, so shell text like "$HOME" passes through untouched.

#include "clusterctl/util/result.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace clusterctl::config {

using VariableLookup = std::function<std::optional<std::string>(std::string_view)>;

util::Result<std::string> expand_variables(std::string_view text, const VariableLookup& lookup,
                                           const util::SourceLocation& where);

bool is_variable_name(std::string_view name);

} // namespace clusterctl::config
