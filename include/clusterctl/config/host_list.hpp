#pragma once
// Host list expressions as pdsh and ClusterShell users write them:
//   node-[001-008,010]      ranges and single values, zero padding kept
//   rack[1-2]-gpu[01-04]    several bracket groups: every combination
//   a,b,node-[1-3]          a comma-separated list of the above
// and the reverse, folding names back into the shortest such expression.

#include "clusterctl/util/result.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace clusterctl::config {

inline constexpr std::size_t k_max_expanded_hosts = 100000;
// A name is at most 253 characters (DNS); a range's numbers have at most 18 digits. A name
// whose number is longer is folded as it is, so a fold always expands again.
inline constexpr std::size_t k_max_host_name = 253;
inline constexpr std::size_t k_max_range_digits = 18;
inline constexpr long long k_max_range_number = 999999999999999999;

// Errors point at `where` advanced by the offset of the offending character.
util::Result<std::vector<std::string>> expand_host_list(std::string_view expression,
                                                        const util::SourceLocation& where);

// One host pattern (no top-level commas).
util::Result<std::vector<std::string>> expand_host_pattern(std::string_view pattern,
                                                           const util::SourceLocation& where);

// "node-001,node-002,node-003,node-007" -> "node-[001-003,007]". Order of first appearance
// of each prefix/suffix group is kept; numbers within a group are sorted.
std::string fold_host_list(const std::vector<std::string>& hosts);

} // namespace clusterctl::config
