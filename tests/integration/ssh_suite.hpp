#pragma once
// What the SSH suites share: the farm test's seed, summary.json's hosts, keys, ssh_config
// edits, the workloads and what they check. Each suite (engine, auth, console, jump, push,
// farm) is a file of its own in one test program.

#include "farm.hpp"

#include <arpa/inet.h>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>

namespace clusterctl::test_support {

using namespace std::chrono_literals;
using nlohmann::json;

inline unsigned test_seed() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    return static_cast<unsigned>(
        std::hash<std::string>{}(std::string(info->test_suite_name()) + info->name()) % 12000);
}

inline json summary_of(const Farm& farm) {
    return json::parse(read_file(farm.file("logs/summary.json")));
}

inline const json& host_in(const json& summary, const std::string& name) {
    for (const auto& h : summary["hosts"])
        if (h["host"] == name) return h;
    throw std::runtime_error("no host " + name + " in summary");
}

inline std::string keygen(const Farm& farm, const std::string& name, const std::string& type,
                          const std::string& passphrase = "") {
    std::string path = farm.file(name);
    std::string command = "ssh-keygen -q -t " + type + " -N '" + passphrase + "' -f " + path +
                          " -C " + name + " >/dev/null";
    if (std::system(command.c_str()) != 0) throw std::runtime_error("ssh-keygen failed");
    return path;
}

// The farm's ssh_config with one setting replaced; ssh_config's first value wins, so
// the replacement goes where the original was.
inline std::string
ssh_config_with(const Farm& farm, const std::vector<std::pair<std::string, std::string>>& changes) {
    std::string text = read_file(farm.file("ssh_config"));
    for (const auto& [from, to] : changes) {
        auto at = text.find(from);
        if (at == std::string::npos) throw std::runtime_error("no '" + from + "' in ssh_config");
        text.replace(at, from.size(), to);
    }
    std::string path = farm.file("ssh_config.edited");
    write_file(path, text);
    return path;
}

inline std::string ssh_config_with(const Farm& farm, const std::string& from,
                                   const std::string& to) {
    return ssh_config_with(farm, {{from, to}});
}

// The SHA256 fingerprint OpenSSH prints for the farm's host key.
inline std::string host_key_fingerprint(const Farm& farm) {
    std::string out = farm.file("fp");
    std::system(("ssh-keygen -lf " + farm.file("ssh_host_ed25519_key.pub") + " > " + out).c_str());
    std::string text = read_file(out);
    return text.substr(text.find("SHA256:"),
                       text.find(' ', text.find("SHA256:")) - text.find("SHA256:"));
}

inline std::size_t count(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
        ++n;
    return n;
}

// A script that knows which farm host it runs on: $n is the last octet of its address.
inline const std::string k_host_number = "a=${SSH_CONNECTION% *}; n=${a##*.}; ";

// 31250 lines of 64 bytes: 2,000,000 bytes a host.
inline const std::string k_line_tail = " padded to sixty-four bytes with this text........";
inline const std::string k_two_megabytes = "seq -f 'line %08g" + k_line_tail + "' 1 31250";

// Every host's 31250 lines, whole, in order, none lost: what the merged output must hold.
inline void expect_two_megabytes_each(const std::string& out, std::size_t hosts) {
    std::map<std::string, long> next; // host -> the number its next line must carry
    std::istringstream lines(out);
    std::string line;
    std::size_t total = 0;
    while (std::getline(lines, line)) {
        ++total;
        ASSERT_EQ(line.size(), 6 + 63u) << "torn line: " << line;
        std::string host = line.substr(0, 4);
        ASSERT_EQ(line.substr(4, 7), ": line ") << line;
        ASSERT_EQ(line.substr(19), k_line_tail) << line;
        long number = std::stol(line.substr(11, 8));
        long& expected = next.try_emplace(host, 1).first->second;
        ASSERT_EQ(number, expected) << host << " lost or reordered a line";
        ++expected;
    }
    EXPECT_EQ(total, hosts * 31250u);
    EXPECT_EQ(next.size(), hosts);
    for (const auto& [host, n] : next)
        EXPECT_EQ(n, 31251) << host;
}

// Prints "sshd=PID": the sshd process serving this session, parent of the wrapper
// (the session's shell, which runs the script).
inline const std::string k_sshd_pid = "s=$BASHPID; echo sshd=$(ps -o ppid= -p $s | tr -d ' '); ";

// Colour (ESC [ ... m) in a screen's text, as opposed to cursor movement.
inline bool has_colour(const std::string& screen) {
    for (auto at = screen.find("\033["); at != std::string::npos;
         at = screen.find("\033[", at + 1)) {
        auto end = screen.find_first_not_of("0123456789;", at + 2);
        if (end != std::string::npos && screen[end] == 'm') return true;
    }
    return false;
}

// Hosts h001..h008 behind h009: ProxyJump in ssh_config, as for a cluster behind its
// head node.
inline std::string behind_jump(Farm& farm, int hosts, int jump) {
    std::string names;
    for (int i = 1; i <= hosts; ++i) {
        char name[16];
        std::snprintf(name, sizeof name, " h%03d", i);
        names += name;
    }
    char jump_name[16];
    std::snprintf(jump_name, sizeof jump_name, "h%03d", jump);
    std::string config = farm.file("ssh_config.jump");
    write_file(config, "Host" + names + "\n  ProxyJump " + jump_name + "\n" +
                           read_file(farm.file("ssh_config")));
    std::string hostfile = farm.file("hostfile.jump");
    std::string all = read_file(farm.file("hostfile"));
    std::string lines;
    std::istringstream in(all);
    for (std::string line; std::getline(in, line) && hosts-- > 0;)
        lines += line + "\n";
    write_file(hostfile, lines);
    return config;
}

// TCP connections `pid` holds, from /proc/net/tcp and its fds.
inline std::size_t tcp_connections_of(pid_t pid) {
    std::set<std::string> inodes;
    std::istringstream tcp(read_file("/proc/net/tcp"));
    std::string line;
    std::getline(tcp, line);
    while (std::getline(tcp, line)) {
        std::istringstream f(line);
        std::string sl, local, remote, state, queues, timer, retr, uid, timeout, inode;
        f >> sl >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout >> inode;
        if (state == "01") inodes.insert(inode); // established
    }
    std::size_t n = 0;
    for (const auto& fd :
         std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
        std::error_code ec;
        std::string target = std::filesystem::read_symlink(fd.path(), ec).string();
        if (target.rfind("socket:[", 0) == 0 && inodes.count(target.substr(8, target.size() - 9)))
            ++n;
    }
    return n;
}

// The PIDs a farm's script recorded for its daemons.
inline std::vector<pid_t> farm_pids(const std::string& dir) {
    std::vector<pid_t> pids;
    std::istringstream in(read_file(dir + "/pids"));
    for (pid_t pid; in >> pid;)
        pids.push_back(pid);
    return pids;
}

} // namespace clusterctl::test_support
