#include "clusterctl/util/shell_script.hpp"

#include <stdexcept>

namespace clusterctl::util {

std::string ShellScript::word(ShellVariable variable) {
    auto letter = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    };
    bool valid = !variable.name.empty() && letter(variable.name.front());
    for (char c : variable.name)
        valid = valid && (letter(c) || (c >= '0' && c <= '9'));
    if (!valid)
        throw std::invalid_argument("not a shell variable name: " + shell_quote(variable.name));
    return std::string(variable.name);
}

void ShellScript::append(std::string_view text, const std::string* words) {
    std::size_t next = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t hole = text.find("{}", pos);
        if (hole == std::string_view::npos) break;
        m_text.append(text.substr(pos, hole - pos));
        m_text += words[next++];
        pos = hole + 2;
    }
    m_text.append(text.substr(pos));
}

ShellScript& ShellScript::add_command(std::string_view user_command) {
    if (user_command.empty()) return *this;
    m_text.append(user_command);
    if (m_text.empty() || m_text.back() != '\n') m_text += '\n';
    return *this;
}

ShellScript& ShellScript::add(const ShellScript& other) {
    m_text += other.m_text;
    return *this;
}

} // namespace clusterctl::util
