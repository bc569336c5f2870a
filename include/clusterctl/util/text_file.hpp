#pragma once
// Reading a whole input file, with the error pointing at where its path was given.

#include "clusterctl/util/result.hpp"

#include <string>

namespace clusterctl::util {

// The file's bytes, or "ORIGIN: error: cannot read WHAT 'PATH': REASON (HINT)".
Result<std::string> read_text_file(const std::string& path, const std::string& what,
                                   const SourceLocation& origin);

bool file_exists(const std::string& path);

// The directory part of a path ("." when there is none).
std::string parent_directory(const std::string& path);

// `path` as it is when absolute, else relative to `base_dir`.
std::string resolve_path(const std::string& base_dir, const std::string& path);

} // namespace clusterctl::util
