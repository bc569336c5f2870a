#pragma once
// Quoting for POSIX shells. Every piece of text clusterctl puts into a remote command goes
// through shell_quote(): a host name, an env value or an argument can never break out.

#include <string>
#include <string_view>
#include <vector>

namespace clusterctl::util {

// The text as one shell word: unchanged when it holds only characters that are never
// special ([A-Za-z0-9_@%+:,./=-], and not NAME=...), else single-quoted with ' written as '\''.
std::string shell_quote(std::string_view text);

// Each word quoted, joined by single spaces.
std::string shell_join(const std::vector<std::string>& words);

} // namespace clusterctl::util
