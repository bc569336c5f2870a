#pragma once
// Small string helpers that depend on nothing project-specific.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace clusterctl::util {

std::string_view trim(std::string_view text);
std::string to_lower(std::string_view text);
std::vector<std::string_view> split_whitespace(std::string_view text);

// A whole decimal integer in [min, max]; nothing else (no sign games, no trailing text).
std::optional<long long> parse_int(std::string_view text, long long min, long long max);

// The candidate closest to `word` by edit distance, if it is close enough to be a typo.
std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates);

// "did you mean 'x'?" or an empty string.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

} // namespace clusterctl::util
