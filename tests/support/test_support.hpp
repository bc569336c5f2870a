#pragma once
// Helpers shared by the unit and golden tests: clusterctl run in-process with a fixed
// environment (and TempDir, from temp_dir.hpp).

#include "clusterctl/cli/app.hpp"
#include "temp_dir.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdlib.h>
#include <string>
#include <vector>

namespace clusterctl::test_support {

struct CliResult {
    int code = -1;
    std::string out;
    std::string err;
};

inline CliResult run_cli(std::vector<std::string> args, const util::Environment& env) {
    args.insert(args.begin(), "clusterctl");
    std::ostringstream out, err;
    CliResult r;
    r.code = cli::run(args, env, out, err);
    r.out = out.str();
    r.err = err.str();
    return r;
}

// HOME points at an empty place, so no ~/.ssh/config of the machine leaks into a test.
inline util::Environment
test_environment(std::map<std::string, std::string, std::less<>> extra = {}) {
    std::map<std::string, std::string, std::less<>> vars{
        {"HOME", "/nonexistent-home"}, {"USER", "tester"}, {"PATH", "/usr/bin:/bin"}};
    for (auto& [k, v] : extra)
        vars[k] = v;
    return util::Environment(vars);
}

} // namespace clusterctl::test_support
