#pragma once
// The command line as a source of diagnostics: a bad flag is reported as
// "<command line>:1:COL: error: ..." with COL pointing into the line as typed.

#include "clusterctl/util/diagnostic.hpp"

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace clusterctl::cli {

class CommandLine {
public:
    explicit CommandLine(std::vector<std::string> args);

    const std::vector<std::string>& args() const { return m_args; }

    // Where argument `index` starts (0 is the program name).
    util::SourceLocation at_arg(std::size_t index) const;
    // Where the value of an option starts: "--fanout 8", "--fanout=8" and "-w8" forms.
    util::SourceLocation at_value(std::initializer_list<std::string_view> names) const;
    // Every value of a repeatable option, in order, each with where it starts (before any
    // "--": what follows it is a remote command's).
    std::vector<std::pair<std::string, util::SourceLocation>>
    values_of(std::initializer_list<std::string_view> names) const;
    // Where an argument equal to `token` starts; column 1 when there is none.
    util::SourceLocation at_token(std::string_view token) const;

private:
    std::vector<std::string> m_args;
};

} // namespace clusterctl::cli
