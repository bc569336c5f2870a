#pragma once
// Helpers shared by the unit and golden tests: a temporary directory that removes itself,
// and clusterctl run in-process with a fixed environment.

#include "clusterctl/cli/app.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdlib.h>
#include <string>
#include <vector>

namespace clusterctl::test_support {

class TempDir {
public:
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "clusterctl-test-XXXXXX");
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        m_path = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(m_path, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::string& path() const { return m_path; }
    std::string file(const std::string& name) const { return m_path + "/" + name; }

    std::string write(const std::string& name, const std::string& content) const {
        std::string full = file(name);
        std::filesystem::create_directories(std::filesystem::path(full).parent_path());
        std::ofstream(full, std::ios::binary) << content;
        return full;
    }

private:
    std::string m_path;
};

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
