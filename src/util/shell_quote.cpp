#include "clusterctl/util/shell_quote.hpp"

#include <algorithm>

namespace clusterctl::util {
namespace {

bool is_plain(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    switch (c) {
    case '_':
    case '@':
    case '%':
    case '+':
    case ':':
    case ',':
    case '.':
    case '/':
    case '-':
    case '=':
        return true;
    default:
        return false;
    }
}

// NAME=value at the start of a command is an assignment, not a word: always quote it.
bool looks_like_assignment(std::string_view text) {
    auto eq = text.find('=');
    if (eq == std::string_view::npos || eq == 0) return false;
    if (text[0] >= '0' && text[0] <= '9') return false;
    return std::all_of(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(eq), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_';
    });
}

} // namespace

std::string shell_quote(std::string_view text) {
    if (!text.empty() && std::all_of(text.begin(), text.end(), is_plain) &&
        !looks_like_assignment(text))
        return std::string(text);
    std::string out;
    out.reserve(text.size() + 2);
    out += '\'';
    for (char c : text) {
        if (c == '\'')
            out += "'\\''";
        else
            out += c;
    }
    out += '\'';
    return out;
}

std::string shell_join(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& word : words) {
        if (!out.empty()) out += ' ';
        out += shell_quote(word);
    }
    return out;
}

} // namespace clusterctl::util
