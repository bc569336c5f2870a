#pragma once
// Reading a whole input file, with the error pointing at where its path was given.

#include "clusterctl/util/result.hpp"

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace clusterctl::util {

// Every input file (config, hostfile, ssh_config and its Includes, templates, secret files,
// keys) is read whole, so it must be a regular file of at most this size: /dev/zero, a
// FIFO or a directory is refused by what it is, not read until memory runs out.
inline constexpr std::size_t k_input_file_limit = std::size_t{16} << 20;

// The file's bytes, or "ORIGIN: error: cannot read WHAT 'PATH': REASON (HINT)".
Result<std::string> read_text_file(const std::string& path, const std::string& what,
                                   const SourceLocation& origin,
                                   std::size_t limit = k_input_file_limit);

// The file's bytes, or nullopt when it cannot be read (for optional files: keys, .pub).
std::optional<std::string> read_file_if_present(const std::string& path);

bool file_exists(const std::string& path);

// Calls `visit(line, location)` for each line of `text` (without its '\n', nor the '\r'
// before it: a file saved on Windows reads as its LF twin), stopping at the
// first failure, which it returns.
Status for_each_line(std::string_view text, const std::string& path,
                     const std::function<Status(std::string_view, const SourceLocation&)>& visit);

// The directory part of a path ("." when there is none).
std::string parent_directory(const std::string& path);

// `path` as it is when absolute, else relative to `base_dir`.
std::string resolve_path(const std::string& base_dir, const std::string& path);

} // namespace clusterctl::util
