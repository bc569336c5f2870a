#include "clusterctl/cli/command_line.hpp"

namespace clusterctl::cli {

CommandLine::CommandLine(std::vector<std::string> args) : m_args(std::move(args)) {
    if (m_args.empty()) m_args.push_back("clusterctl");
    m_args.front() = "clusterctl"; // shown as typed on a PATH, whatever argv[0] was
}

util::SourceLocation CommandLine::at_arg(std::size_t index) const {
    int column = 1;
    for (std::size_t i = 0; i < index && i < m_args.size(); ++i)
        column += static_cast<int>(m_args[i].size()) + 1;
    return {util::k_command_line_file, 1, column};
}

util::SourceLocation CommandLine::at_value(std::initializer_list<std::string_view> names) const {
    for (std::size_t i = 1; i < m_args.size(); ++i) {
        std::string_view arg = m_args[i];
        if (arg == "--") break;
        for (std::string_view name : names) {
            if (arg == name) return at_arg(i + 1);
            bool long_form = name.starts_with("--");
            if (long_form && arg.starts_with(name) && arg.size() > name.size() &&
                arg[name.size()] == '=')
                return at_arg(i).advanced(static_cast<int>(name.size()) + 1);
            if (!long_form && arg.starts_with(name) && arg.size() > name.size())
                return at_arg(i).advanced(static_cast<int>(name.size()));
        }
    }
    return at_arg(0);
}

std::vector<std::pair<std::string, util::SourceLocation>>
CommandLine::values_of(std::initializer_list<std::string_view> names) const {
    std::vector<std::pair<std::string, util::SourceLocation>> values;
    for (std::size_t i = 1; i < m_args.size(); ++i) {
        std::string_view arg = m_args[i];
        if (arg == "--") break;
        for (std::string_view name : names) {
            if (arg == name && i + 1 < m_args.size()) {
                values.emplace_back(m_args[i + 1], at_arg(i + 1));
                ++i;
                break;
            }
            if (name.starts_with("--") && arg.starts_with(name) && arg.size() > name.size() &&
                arg[name.size()] == '=') {
                values.emplace_back(std::string(arg.substr(name.size() + 1)),
                                    at_arg(i).advanced(static_cast<int>(name.size()) + 1));
                break;
            }
        }
    }
    return values;
}

util::SourceLocation CommandLine::at_token(std::string_view token) const {
    for (std::size_t i = 1; i < m_args.size(); ++i)
        if (m_args[i] == token) return at_arg(i);
    return at_arg(0);
}

} // namespace clusterctl::cli
