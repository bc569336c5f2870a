// Shell quoting: a quoted word, read back the way a POSIX shell reads it (plain characters,
// or single-quoted runs joined by \'), is the text that went in; and a ShellScript hole
// holds exactly that word.
#include "clusterctl/util/shell_quote.hpp"
#include "clusterctl/util/shell_script.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

[[noreturn]] void fail(const char* what, const std::string& text) {
    std::fprintf(stderr, "%s: %s\n", what, text.c_str());
    std::abort();
}

// The word as sh would read it; fails on anything a shell would treat as syntax.
std::string read_word(const std::string& word) {
    std::string out;
    std::size_t i = 0;
    const std::string plain = "_@%+:,./=-";
    while (i < word.size()) {
        char c = word[i];
        if (c == '\'') {
            std::size_t close = word.find('\'', i + 1);
            if (close == std::string::npos) fail("unterminated quote", word);
            out.append(word, i + 1, close - i - 1);
            i = close + 1;
        } else if (c == '\\' && i + 1 < word.size() && word[i + 1] == '\'') {
            out += '\'';
            i += 2;
        } else if (std::isalnum(static_cast<unsigned char>(c)) || plain.find(c) != plain.npos) {
            out += c;
            ++i;
        } else {
            fail("shell syntax outside quotes", word);
        }
    }
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
    using namespace clusterctl::util;
    std::string text(reinterpret_cast<const char*>(data), size);
    std::string word = shell_quote(text);
    if (read_word(word) != text) fail("quoting changed the text", word);
    if (text.empty() && word != "''") fail("an empty text must be ''", word);
    ShellScript script;
    script.add("v={}\n", text);
    if (script.text() != "v=" + word + "\n") fail("a hole is not the quoted word", script.text());
    return 0;
}
