#pragma once
// Running a reference tool (ssh -G, nodeset) and reading what it printed.

#include <array>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace clusterctl::compat {

struct ToolResult {
    int exit_code = -1;
    std::string out; // stdout
    std::string err; // stderr
};

// Runs argv (PATH searched) to completion; stdin is /dev/null.
inline ToolResult run_tool(const std::vector<std::string>& argv) {
    int out_pipe[2], err_pipe[2];
    if (::pipe(out_pipe) != 0 || ::pipe(err_pipe) != 0) throw std::runtime_error("pipe");
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork");
    if (pid == 0) {
        std::freopen("/dev/null", "r", stdin);
        ::dup2(out_pipe[1], 1);
        ::dup2(err_pipe[1], 2);
        ::close(out_pipe[0]);
        ::close(err_pipe[0]);
        std::vector<char*> args;
        for (const auto& a : argv)
            args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    ToolResult r;
    // Small outputs: read stderr after stdout (a tool that fills the stderr pipe first
    // would block, and neither ssh -G nor nodeset writes that much there).
    auto drain = [](int fd, std::string& into) {
        std::array<char, 4096> buffer;
        ssize_t n;
        while ((n = ::read(fd, buffer.data(), buffer.size())) > 0)
            into.append(buffer.data(), static_cast<std::size_t>(n));
        ::close(fd);
    };
    drain(out_pipe[0], r.out);
    drain(err_pipe[0], r.err);
    int status = 0;
    ::waitpid(pid, &status, 0);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

inline std::vector<std::string> words(const std::string& text) {
    std::istringstream in(text);
    std::vector<std::string> out;
    for (std::string w; in >> w;)
        out.push_back(w);
    return out;
}

} // namespace clusterctl::compat
