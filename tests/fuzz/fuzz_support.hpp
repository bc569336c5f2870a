#pragma once
// What every harness checks of a failure: a Diagnostic that points inside the text it was
// given (a line that exists, a column on that line or just past its end), and a message
// with no raw control byte. Anything else aborts, which libFuzzer reports as a crash; an
// exception escaping a parser is one too.

#include "clusterctl/util/diagnostic.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace clusterctl::fuzz {

[[noreturn]] inline void fail(const char* what, const util::Diagnostic& d) {
    std::fprintf(stderr, "%s: %s\n", what, d.str().c_str());
    std::abort();
}

// The diagnostic's place, for a diagnostic about `text` read as `file`.
inline void check_diagnostic(const util::Diagnostic& d, std::string_view text,
                             const std::string& file) {
    if (d.where.file != file) return; // about another file (an Include), or the command line
    if (d.where.line < 1 || d.where.column < 1) fail("position before the text", d);
    std::size_t start = 0;
    for (int line = 1; line < d.where.line; ++line) {
        std::size_t nl = text.find('\n', start);
        if (nl == std::string_view::npos) fail("line past the end of the text", d);
        start = nl + 1;
    }
    std::size_t end = text.find('\n', start);
    std::size_t length = (end == std::string_view::npos ? text.size() : end) - start;
    if (static_cast<std::size_t>(d.where.column) > length + 1)
        fail("column past the end of its line", d);
    for (char c : d.str())
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) fail("raw control byte", d);
}

} // namespace clusterctl::fuzz
