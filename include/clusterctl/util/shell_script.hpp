#pragma once
// Remote scripts built so that no value can become code. The shell text of a script is
// written in clusterctl's own source, as string literals with `{}` holes (checked when
// compiling: a runtime string cannot be passed as script text, and the number of holes
// must match the values). Each hole takes one value as ONE shell word: text through
// shell_quote, integers as digits, a list of words each quoted. The one way to add text
// that the shell runs as it is, add_command(), is for commands: what the user wrote to be
// run (a setup step's run:, activate:, exec's command) and clusterctl's control lines.

#include "clusterctl/util/shell_quote.hpp"

#include <concepts>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace clusterctl::util {

// A string literal of shell text with exactly N holes "{}". Other braces stay as written
// (`${v}`, `f() { ...; }`): only "{}" is a hole.
template <std::size_t N> class ScriptText {
public:
    template <std::size_t L>
    consteval ScriptText(const char (&text)[L]) : m_text(text, L - 1) { // NOLINT: implicit
        if (holes(m_text) != N) throw "the script text's {} holes do not match its values";
    }
    std::string_view view() const { return m_text; }

    static constexpr std::size_t holes(std::string_view text) {
        std::size_t n = 0;
        for (std::size_t i = 0; i + 1 < text.size(); ++i)
            if (text[i] == '{' && text[i + 1] == '}') ++n;
        return n;
    }

private:
    std::string_view m_text;
};

// Several words, each quoted, joined by spaces (an argv).
struct ShellWords {
    const std::vector<std::string>& words;
};

// A variable's name, as in `export {}=...`: written as it is, and only when it is a valid
// name ([A-Za-z_][A-Za-z0-9_]*); anything else is a bug (the config reader refuses such
// names), so it throws std::invalid_argument rather than reach a shell.
struct ShellVariable {
    std::string_view name;
};

class ShellScript {
public:
    // Appends `text` with each {} replaced by the next value, quoted.
    template <typename... V> ShellScript& add(ScriptText<sizeof...(V)> text, const V&... values) {
        std::string words[] = {word(values)..., std::string()};
        append(text.view(), words);
        return *this;
    }

    // Text that is a command by intent, on a line of its own: what the user wrote to be run
    // (run:, activate:, exec) or a line of clusterctl's own protocol (plan/control_line.hpp).
    // Never a value.
    ShellScript& add_command(std::string_view user_command);

    // Another script, built the same way.
    ShellScript& add(const ShellScript& other);

    const std::string& text() const { return m_text; }
    std::string str() && { return std::move(m_text); }
    bool empty() const { return m_text.empty(); }

private:
    static std::string word(std::string_view text) { return shell_quote(text); }
    static std::string word(const std::string& text) { return shell_quote(text); }
    static std::string word(const char* text) { return shell_quote(text); }
    static std::string word(std::integral auto number) { return std::to_string(number); }
    static std::string word(const ShellWords& list) { return shell_join(list.words); }
    static std::string word(ShellVariable variable);
    static std::string word(bool) = delete;

    void append(std::string_view text, const std::string* words);

    std::string m_text;
};

} // namespace clusterctl::util
