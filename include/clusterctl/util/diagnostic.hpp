#pragma once
// A Diagnostic is what the user sees for bad input: FILE:LINE:COL: error: WHAT (HINT).

#include <string>
#include <string_view>

namespace clusterctl::util {

// Where a piece of input came from. Lines and columns are 1-based; the command line is
// reported as the file "<command line>" with line 1.
struct SourceLocation {
    std::string file;
    int line = 1;
    int column = 1;

    SourceLocation advanced(int columns) const { return {file, line, column + columns}; }
};

inline constexpr const char* k_command_line_file = "<command line>";

struct Diagnostic {
    SourceLocation where;
    std::string message;
    std::string hint;

    // "FILE:LINE:COL: error: MESSAGE (HINT)"; the hint part is left out when empty. A
    // warning reads the same with "warning" in place of "error".
    std::string str(std::string_view severity = "error") const;
};

Diagnostic error_at(SourceLocation where, std::string message, std::string hint = {});

} // namespace clusterctl::util
