#pragma once
// The command-line front end. run() is all of clusterctl behind main(): tests call it
// in-process with their own environment and streams.

#include "clusterctl/util/environment.hpp"

#include <iosfwd>
#include <string>
#include <vector>

namespace clusterctl::cli {

// Whether stdout and stderr are terminals: colour and the progress line need one.
struct Terminal {
    bool out = false;
    bool err = false;
    std::size_t columns = 80; // of stderr's terminal
};

// One option of the command line, as defined (for tests that go through every option, and
// for generated docs): "--job-id" of "" (global) or of a subcommand, or a positional.
struct OptionInfo {
    std::string command; // "" for a global option
    std::string name;    // "--job-id", "-f", or a positional's name ("JOB")
    bool positional = false;
    bool takes_value = false;
    std::string type; // CLI11's type name: "TEXT", "INT", ...
};

std::vector<OptionInfo> describe_options();

// `args` is argv as given, the program name first. Returns the exit code.
int run(const std::vector<std::string>& args, const util::Environment& env, std::ostream& out,
        std::ostream& err, Terminal terminal = {});

} // namespace clusterctl::cli
