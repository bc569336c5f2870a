#pragma once
// A temporary directory that removes itself: for the unit, golden and integration tests.

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <stdlib.h>
#include <string>
#include <sys/stat.h>

namespace clusterctl::test_support {

class TempDir {
public:
    // Under `base`; readable by all (0755), as sshd wants of the dirs above its files.
    explicit TempDir(const std::string& base = std::filesystem::temp_directory_path()) {
        std::filesystem::create_directories(base);
        std::string pattern = base + "/clusterctl-test-XXXXXX";
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        m_path = pattern;
        ::chmod(m_path.c_str(), 0755);
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

} // namespace clusterctl::test_support
