#pragma once
// What the integration tests stand on: a farm of real sshd hosts on loopback addresses
// (scripts/sshd-farm), clusterctl run as a real process, and a look at /proc for what is
// left running. Every process a test starts is stopped by its PID.

#include "temp_dir.hpp"

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <dirent.h>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <poll.h>
#include <pty.h>
#include <spawn.h>
#include <sstream>
#include <stdexcept>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace clusterctl::test_support {

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

inline void write_file(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
}

// argv or envp for exec: the strings, then a null pointer.
// The file with the first `from` replaced by `to` (a test's variant of a config).
inline void replace_in_file(const std::string& path, const std::string& from,
                            const std::string& to) {
    std::string text = read_file(path);
    auto at = text.find(from);
    if (at == std::string::npos) throw std::runtime_error("not in " + path + ": " + from);
    write_file(path, text.replace(at, from.size(), to));
}

inline std::vector<char*> c_strings(const std::vector<std::string>& strings) {
    std::vector<char*> pointers;
    for (const auto& s : strings)
        pointers.push_back(const_cast<char*>(s.c_str()));
    pointers.push_back(nullptr);
    return pointers;
}

// A clean environment for clusterctl: HOME, a plain PATH, root, the sanitizers' options,
// then `extra`.
inline std::vector<std::string> clusterctl_env(const std::string& home,
                                               const std::vector<std::string>& extra) {
    std::vector<std::string> e{"HOME=" + home, "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "USER=root"};
    for (const char* keep : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"})
        if (const char* v = std::getenv(keep)) e.push_back(std::string(keep) + "=" + v);
    e.insert(e.end(), extra.begin(), extra.end());
    return e;
}

// "CLUSTERCTL_OWNER_PID=PID ": what the farm and sandbox scripts take down with this process.
inline std::string owner_env() {
    return "CLUSTERCTL_OWNER_PID=" + std::to_string(::getpid()) + " ";
}

// A child process with stdout and stderr in files.
class Process {
public:
    Process(const std::vector<std::string>& argv, const std::string& out_file,
            const std::string& err_file, const std::vector<std::string>& env)
        : m_out(out_file), m_err(err_file) {
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&actions, 1, out_file.c_str(),
                                         O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_addopen(&actions, 2, err_file.c_str(),
                                         O_WRONLY | O_CREAT | O_TRUNC, 0644);
        std::vector<char*> args = c_strings(argv), envp = c_strings(env);
        if (posix_spawn(&m_pid, argv[0].c_str(), &actions, nullptr, args.data(), envp.data()) != 0)
            throw std::runtime_error("posix_spawn " + argv[0]);
        posix_spawn_file_actions_destroy(&actions);
    }
    ~Process() {
        if (m_pid > 0) {
            ::kill(m_pid, SIGKILL);
            ::waitpid(m_pid, nullptr, 0);
        }
    }
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    pid_t pid() const { return m_pid; }
    void signal(int sig) const { ::kill(m_pid, sig); }

    // The exit code (128+N for a signal), or -1 if it did not end within `limit`.
    int wait(std::chrono::seconds limit) {
        auto until = std::chrono::steady_clock::now() + limit;
        for (;;) {
            int status = 0;
            pid_t r = ::waitpid(m_pid, &status, WNOHANG);
            if (r == m_pid) {
                m_pid = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            if (std::chrono::steady_clock::now() > until) return -1;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }
    std::string out() const { return read_file(m_out); }
    std::string err() const { return read_file(m_err); }

private:
    pid_t m_pid = -1;
    std::string m_out, m_err;
};

struct TerminalRun {
    int code; // as Process::wait
    std::string screen;
};

// `argv` on a pseudo-terminal of 120 columns as its stdin, stdout and stderr: what a user
// at a terminal sees, escape sequences and all ("\n" comes out as "\r\n").
inline TerminalRun run_on_terminal(const std::vector<std::string>& argv,
                                   const std::vector<std::string>& env,
                                   std::chrono::seconds limit) {
    std::vector<char*> args = c_strings(argv), envp = c_strings(env);
    winsize size{};
    size.ws_row = 40;
    size.ws_col = 120;
    int master = -1;
    pid_t pid = ::forkpty(&master, nullptr, nullptr, &size);
    if (pid < 0) throw std::runtime_error("forkpty");
    if (pid == 0) {
        ::execve(args[0], args.data(), envp.data());
        ::_exit(127);
    }
    TerminalRun run{-1, ""};
    bool timed_out = false;
    auto until = std::chrono::steady_clock::now() + limit;
    char buffer[4096];
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                        until - std::chrono::steady_clock::now())
                        .count();
        if (left <= 0) {
            ::kill(pid, SIGKILL);
            timed_out = true;
            break;
        }
        pollfd p{master, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(std::min<long long>(left, 200))) <= 0) continue;
        ssize_t n = ::read(master, buffer, sizeof buffer);
        if (n <= 0) break; // EIO: the terminal's other side is closed, the run is over
        run.screen.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(master);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!timed_out) run.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return run;
}

// Live processes whose command line starts with `prefix` ("sleep 3012"), or holds
// `needle` anywhere. Zombies have no command line, so they do not count.
inline std::vector<pid_t> processes_matching(const std::string& needle, bool anywhere) {
    std::vector<pid_t> found;
    DIR* proc = ::opendir("/proc");
    if (!proc) return found;
    while (dirent* e = ::readdir(proc)) {
        char* end = nullptr;
        long pid = std::strtol(e->d_name, &end, 10);
        if (*end != '\0' || pid <= 0 || pid == ::getpid()) continue;
        std::string cmdline = read_file(std::string("/proc/") + e->d_name + "/cmdline");
        for (char& c : cmdline)
            if (c == '\0') c = ' ';
        auto at = cmdline.find(needle);
        if (anywhere ? at != std::string::npos : at == 0) found.push_back(static_cast<pid_t>(pid));
    }
    ::closedir(proc);
    return found;
}

inline std::vector<pid_t> processes_with(const std::string& prefix) {
    return processes_matching(prefix, false);
}

inline std::vector<pid_t> processes_holding(const std::string& needle) {
    return processes_matching(needle, true);
}

// The processes in the network namespace at `netns_path` (/run/netns/NAME) whose command
// line holds `needle`: what runs "on" a simulated node.
inline std::vector<pid_t> processes_in_netns(const std::string& netns_path,
                                             const std::string& needle) {
    struct stat ns {};
    if (::stat(netns_path.c_str(), &ns) != 0) return {};
    std::string want = "net:[" + std::to_string(ns.st_ino) + "]";
    std::vector<pid_t> found;
    for (pid_t pid : processes_holding(needle)) {
        char link[64] = {};
        std::string self = "/proc/" + std::to_string(pid) + "/ns/net";
        ssize_t n = ::readlink(self.c_str(), link, sizeof link - 1);
        if (n > 0 && std::string(link, static_cast<std::size_t>(n)) == want) found.push_back(pid);
    }
    return found;
}

// Waits up to `limit` for `done()`; true if it came.
inline bool eventually(const std::function<bool()>& done,
                       std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
        if (done()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return done();
}

// A farm of `n` sshd hosts h001..hNNN, each on its own loopback address, all on a port
// and /24 picked from `seed` so tests running at once do not meet.
class Farm {
public:
    Farm(int n, unsigned seed, const std::string& extra = "", const std::string& base = "/tmp")
        : m_dir(base) {
        m_net =
            "127." + std::to_string(20 + seed % 200) + "." + std::to_string(seed / 200 % 60 * 4);
        m_port = 20000 + static_cast<int>(seed % 20000);
        // The farm goes down with this process, even when ctest kills it (its watcher).
        std::string command = owner_env() + std::string(CLUSTERCTL_SOURCE_DIR) +
                              "/scripts/sshd-farm up " + std::to_string(n) + " " + m_dir.path() +
                              " --net " + m_net + " --port " + std::to_string(m_port) + " " +
                              extra + " >/dev/null";
        if (std::system(command.c_str()) != 0) throw std::runtime_error("sshd-farm up failed");
        m_up = true;
    }
    ~Farm() {
        if (m_up)
            std::system(
                (std::string(CLUSTERCTL_SOURCE_DIR) + "/scripts/sshd-farm down " + m_dir.path())
                    .c_str());
    }
    Farm(const Farm&) = delete;
    Farm& operator=(const Farm&) = delete;

    const std::string& dir() const { return m_dir.path(); }
    std::string file(const std::string& name) const { return m_dir.file(name); }
    int port() const { return m_port; }
    std::string address(int i) const { // host i, from 1
        int third = std::stoi(m_net.substr(m_net.rfind('.') + 1)) + (i - 1) / 250;
        return m_net.substr(0, m_net.rfind('.') + 1) + std::to_string(third) + "." +
               std::to_string((i - 1) % 250 + 1);
    }

    // The environment clusterctl runs with: HOME in the farm, no agent.
    std::vector<std::string> env(const std::vector<std::string>& extra = {}) const {
        return clusterctl_env(dir(), extra);
    }

    // clusterctl ARGS with the farm's hostfile and ssh_config.
    std::unique_ptr<Process> start(std::vector<std::string> args,
                                   const std::vector<std::string>& extra_env = {}) {
        ++m_runs;
        return std::make_unique<Process>(argv(args), file("out." + std::to_string(m_runs)),
                                         file("err." + std::to_string(m_runs)), env(extra_env));
    }

    struct Run {
        int code;
        std::string out, err;
    };
    Run run(std::vector<std::string> args, const std::vector<std::string>& extra_env = {},
            std::chrono::seconds limit = std::chrono::seconds(120)) {
        auto p = start(std::move(args), extra_env);
        int code = p->wait(limit);
        return {code, p->out(), p->err()};
    }

    // The same on a terminal: `screen` is what it shows.
    TerminalRun run_on_terminal(const std::vector<std::string>& args,
                                const std::vector<std::string>& extra_env = {},
                                std::chrono::seconds limit = std::chrono::seconds(60)) {
        return test_support::run_on_terminal(argv(args), env(extra_env), limit);
    }

private:
    std::vector<std::string> argv(const std::vector<std::string>& args) const {
        std::vector<std::string> argv{CLUSTERCTL_BINARY, "--log-dir", file("logs")};
        bool has_hosts = false, has_ssh_config = false;
        for (const auto& a : args) {
            if (a == "--hostfile" || a == "-c" || a == "-w") has_hosts = true;
            if (a == "--ssh-config") has_ssh_config = true;
        }
        if (!has_hosts) argv.insert(argv.end(), {"--hostfile", file("hostfile")});
        if (!has_ssh_config) argv.insert(argv.end(), {"--ssh-config", file("ssh_config")});
        argv.insert(argv.end(), args.begin(), args.end());
        return argv;
    }

    TempDir m_dir;
    std::string m_net;
    int m_port = 0;
    bool m_up = false;
    int m_runs = 0;
};

} // namespace clusterctl::test_support
