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
// The parts between each `by` ("a..b" -> a, "", b; "" -> one empty part).
std::vector<std::string> split(std::string_view text, char by);

// A whole decimal integer in [min, max]; nothing else (no sign games, no trailing text).
std::optional<long long> parse_int(std::string_view text, long long min, long long max);

// The candidate closest to `word` by edit distance, if it is close enough to be a typo;
// else the one candidate that `word` (3 characters or more) is the start of.
std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates);

// A job id names files and folders here and on every node: 1 to 128 of [A-Za-z0-9._-],
// starting with a letter or digit, without "..".
bool is_valid_job_id(std::string_view id);
inline constexpr const char* k_job_id_hint =
    "a job id is 1 to 128 letters, digits, '.', '_' and '-', starting with a letter or digit";

// `text` with its control bytes written as escapes (\r, \t, \n, \x00, \x7f), so a message
// never carries a raw byte that moves the cursor or ends a line. Other bytes (UTF-8) stay.
std::string escape_control(std::string_view text);

// 'text', control bytes escaped: how messages show a value.
std::string quoted(std::string_view text);

// "did you mean 'x'?" or an empty string.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

} // namespace clusterctl::util
