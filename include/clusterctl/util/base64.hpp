#pragma once
// Base64 as OpenSSH writes it: known_hosts keys, private key bodies, and SHA256
// fingerprints (which drop the '=' padding).

#include <optional>
#include <string>
#include <string_view>

namespace clusterctl::util {

std::string base64_encode(std::string_view bytes, bool pad = true);

// Whitespace is skipped; any other character outside the alphabet gives nullopt.
std::optional<std::string> base64_decode(std::string_view text);

} // namespace clusterctl::util
