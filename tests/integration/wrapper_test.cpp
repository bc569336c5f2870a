// The remote wrapper run on this machine without sshd: the script arrives on stdin and
// runs in a process group of its own, and EOF on stdin kills that whole group (the
// connection dropped, or clusterctl cancelled). Each test runs twice: as sshd runs it (bash
// as the login shell, made a session leader) and from a /bin/sh that leads no process
// group (the wrapper then goes through setsid).

#include "clusterctl/exec/remote_wrapper.hpp"
#include "farm.hpp"

#include <algorithm>
#include <gtest/gtest.h>
#include <poll.h>

namespace clusterctl::test_support {
namespace {

using namespace std::chrono_literals;

enum class Shell { sshd_bash, plain_sh };

struct Wrapper {
    pid_t pid = -1;
    int in = -1;  // its stdin
    int out = -1; // its stdout and stderr

    Wrapper(Shell shell, const std::string& script, int grace_s) {
        int to[2], from[2];
        if (::pipe(to) != 0 || ::pipe(from) != 0) throw std::runtime_error("pipe");
        pid = ::fork();
        if (pid == 0) {
            ::dup2(to[0], 0);
            ::dup2(from[1], 1);
            ::dup2(from[1], 2);
            for (int fd : {to[0], to[1], from[0], from[1]})
                ::close(fd);
            const std::string& command = exec::wrapper_command();
            if (shell == Shell::sshd_bash) {
                ::setsid(); // as sshd does for a session's shell
                ::execl("/bin/bash", "bash", "-c", command.c_str(), nullptr);
            }
            ::execl("/bin/sh", "sh", "-c", command.c_str(), nullptr);
            ::_exit(127);
        }
        ::close(to[0]);
        ::close(from[1]);
        in = to[1];
        out = from[0];
        std::string input = exec::wrapper_input(script, grace_s);
        if (::write(in, input.data(), input.size()) != static_cast<ssize_t>(input.size()))
            throw std::runtime_error("write");
    }
    ~Wrapper() {
        if (in >= 0) ::close(in);
        if (out >= 0) ::close(out);
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
    }
    // Its output, without the control lines for clusterctl (kept in `control`), as the
    // executor takes them out: up to EOF, which comes when the wrapper and its whole group
    // are gone, or for 20 s (a leftover holding stdout; `timed_out` says so).
    std::string read_all() {
        std::string text;
        char buffer[4096];
        auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        for (;;) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                until - std::chrono::steady_clock::now());
            pollfd p{out, POLLIN, 0};
            if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) == 0) {
                timed_out = true;
                break;
            }
            ssize_t n = ::read(out, buffer, sizeof buffer);
            if (n <= 0) break;
            text.append(buffer, static_cast<std::size_t>(n));
        }
        std::string shown;
        for (std::size_t at = 0, end; at < text.size(); at = end + 1) {
            end = std::min(text.find('\n', at), text.size() - 1);
            std::string line = text.substr(at, end + 1 - at);
            (exec::parse_control_line(line) ? control : shown) += line;
        }
        return shown;
    }
    std::string control;
    bool timed_out = false;
    int wait() {
        int status = 0;
        ::waitpid(pid, &status, 0);
        pid = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
};

class WrapperTest : public ::testing::TestWithParam<Shell> {
protected:
    // "sleep N", N apart for each shell: ctest runs the two instances at once.
    std::string sleep(int n) {
        std::string command =
            "sleep " + std::to_string(n + (GetParam() == Shell::plain_sh ? 100 : 0));
        if (std::find(m_sleeps.begin(), m_sleeps.end(), command) == m_sleeps.end())
            m_sleeps.push_back(command);
        return command;
    }
    // What a failed test left is killed by its PID, so that it holds nothing after it.
    void TearDown() override {
        for (const auto& command : m_sleeps)
            for (pid_t pid : processes_with(command))
                ::kill(pid, SIGKILL);
    }

private:
    std::vector<std::string> m_sleeps;
};

TEST_P(WrapperTest, RunsTheScriptFromStdin) {
    Wrapper w(GetParam(), "export SECRET_VALUE='s3cr3t x'\necho \"got $SECRET_VALUE\"; exit 3\n",
              10);
    std::string text = w.read_all();
    EXPECT_EQ(w.wait(), 3);
    EXPECT_EQ(text, "got s3cr3t x\n");
}

TEST_P(WrapperTest, RunsTheScriptInAProcessGroupOfItsOwn) {
    Wrapper w(GetParam(), "read -r s </proc/self/stat; set -- ${s##*) }; echo \"$3 $$\"\n", 10);
    std::string text = w.read_all();
    EXPECT_EQ(w.wait(), 0);
    auto space = text.find(' ');
    ASSERT_NE(space, std::string::npos) << text;
    EXPECT_EQ(text.substr(0, space) + "\n", text.substr(space + 1)) << "pgid and pid: " << text;
    EXPECT_NE(std::stoi(text.substr(0, space)), ::getpgrp());
    // ... and says which, for the run's summary.
    EXPECT_EQ(w.control, "\036clusterctl:pgid " + text.substr(0, space) + "\n");
}

TEST_P(WrapperTest, EofOnStdinKillsTheWholeGroup) {
    Wrapper w(GetParam(), sleep(3020) + " & " + sleep(3021) + "; echo not reached\n", 10);
    ASSERT_TRUE(eventually([this] {
        return processes_with(sleep(3020)).size() == 1 && processes_with(sleep(3021)).size() == 1;
    }));
    ::close(w.in); // what sshd does when the connection drops
    w.in = -1;
    EXPECT_EQ(w.wait(), 128 + SIGTERM);
    EXPECT_TRUE(eventually(
        [this] {
            return processes_with(sleep(3020)).empty() && processes_with(sleep(3021)).empty();
        },
        5s));
}

TEST_P(WrapperTest, WhatIgnoresTermIsKilledAfterTheGracePeriod) {
    Wrapper w(GetParam(), "trap '' TERM; " + sleep(3022) + "\n", 1);
    ASSERT_TRUE(eventually([this] { return processes_with(sleep(3022)).size() == 1; }));
    ::close(w.in);
    w.in = -1;
    EXPECT_EQ(w.wait(), 128 + SIGKILL);
    EXPECT_TRUE(eventually([this] { return processes_with(sleep(3022)).empty(); }, 5s));
}

TEST_P(WrapperTest, LeftoversOfAFinishedScriptAreKilled) {
    Wrapper w(GetParam(), sleep(3023) + " &\necho started\n", 10);
    std::string text = w.read_all(); // ends when the wrapper and its group are gone
    EXPECT_FALSE(w.timed_out) << "a leftover holds stdout";
    EXPECT_EQ(w.wait(), 0);
    EXPECT_EQ(text, "started\n");
    EXPECT_TRUE(eventually([this] { return processes_with(sleep(3023)).empty(); }, 5s));
}

// The script replaces the EXIT trap that would stop its leftovers, and stdin stays open
// (sshd would close it when the shell exits): the watchdog notices the shell is gone.
// The script lasts long enough for the watchdog to be waiting on stdin by then.
TEST_P(WrapperTest, LeftoversAreKilledWhenTheScriptReplacesTheExitTrap) {
    Wrapper w(GetParam(), "trap 'echo bye' EXIT; " + sleep(3024) + " &\nsleep 0.3; echo started\n",
              10);
    std::string text = w.read_all(); // the leftover holds stdout until it is killed
    EXPECT_FALSE(w.timed_out) << "a leftover holds stdout";
    EXPECT_EQ(w.wait(), 0);
    EXPECT_EQ(text, "started\nbye\n");
    EXPECT_TRUE(eventually([this] { return processes_with(sleep(3024)).empty(); }, 5s));
}

TEST_P(WrapperTest, LeftoversAreKilledWhenTheScriptExecs) {
    Wrapper w(GetParam(), sleep(3025) + " & sleep 0.3; exec echo replaced\n", 10);
    std::string text = w.read_all();
    EXPECT_FALSE(w.timed_out) << "a leftover holds stdout";
    EXPECT_EQ(w.wait(), 0);
    EXPECT_EQ(text, "replaced\n");
    EXPECT_TRUE(eventually([this] { return processes_with(sleep(3025)).empty(); }, 5s));
}

// A TERM sent to the group before the watchdog has run a line of its own (as the EXIT
// trap of a script that ends at once sends it) must not kill the watchdog: it is what
// KILLs the leftovers a TERM missed, and here the script also drops its EXIT trap. Five
// at once: the watchdog lost that race in 4 runs of 5 when it set its own trap.
TEST_P(WrapperTest, TheWatchdogOutlivesATermSentBeforeItsFirstLine) {
    std::vector<std::unique_ptr<Wrapper>> wrappers;
    for (int i = 0; i < 5; ++i)
        wrappers.push_back(std::make_unique<Wrapper>(
            GetParam(), "trap '' TERM; kill -TERM 0; trap - TERM EXIT; " + sleep(3026) + " &\n",
            10));
    for (auto& w : wrappers) {
        w->read_all();
        EXPECT_FALSE(w->timed_out) << "a leftover holds stdout";
        EXPECT_EQ(w->wait(), 0);
    }
    EXPECT_TRUE(eventually([this] { return processes_with(sleep(3026)).empty(); }, 5s));
}

// A script that ends at once races the wrapper's own start-up: 4 rounds of 64 wrappers at
// once, and nothing but the script's output may come back.
TEST_P(WrapperTest, SaysNothingOfItsOwnWhenTheScriptEndsAtOnce) {
    for (int round = 0; round < 4; ++round) {
        std::vector<std::unique_ptr<Wrapper>> wrappers;
        for (int i = 0; i < 64; ++i)
            wrappers.push_back(
                std::make_unique<Wrapper>(GetParam(), i % 2 ? "true\n" : "echo x; exit 3\n", 10));
        for (int i = 0; i < 64; ++i) {
            auto& w = *wrappers[static_cast<std::size_t>(i)];
            std::string text = w.read_all();
            EXPECT_EQ(w.wait(), i % 2 ? 0 : 3);
            EXPECT_EQ(text, i % 2 ? "" : "x\n");
            EXPECT_EQ(w.control.rfind("\036clusterctl:pgid ", 0), 0u) << w.control;
            EXPECT_EQ(std::count(w.control.begin(), w.control.end(), '\n'), 1) << w.control;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Shells, WrapperTest, ::testing::Values(Shell::sshd_bash, Shell::plain_sh),
                         [](const ::testing::TestParamInfo<Shell>& shell) {
                             return shell.param == Shell::sshd_bash ? "SshdBash" : "PlainSh";
                         });

} // namespace
} // namespace clusterctl::test_support
