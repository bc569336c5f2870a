// The test farm itself: it goes down with a test that is killed, and refuses an address
// another farm holds.

#include "ssh_suite.hpp"

namespace clusterctl::test_support {
namespace {

// A test killed before its Farm's destructor runs (ctest's timeout) must not leave its
// daemons listening: the next run of that test, with the same addresses, would meet them.
TEST(Farm, GoesDownWithATestKilledBeforeItsCleanUp) {
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) { // a test's process: it makes a farm, says where, and is killed
        ::close(pipe_fds[0]);
        Farm farm(2, test_seed());
        std::string dir = farm.dir() + "\n";
        if (::write(pipe_fds[1], dir.data(), dir.size()) < 0) ::_exit(1);
        ::pause();
        ::_exit(0);
    }
    ::close(pipe_fds[1]);
    std::string dir;
    char c;
    while (::read(pipe_fds[0], &c, 1) == 1 && c != '\n')
        dir += c;
    ::close(pipe_fds[0]);
    ASSERT_FALSE(dir.empty());
    auto daemons = farm_pids(dir);
    ASSERT_FALSE(daemons.empty());
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    auto until = std::chrono::steady_clock::now() + 10s;
    auto alive = [&] {
        for (pid_t pid : daemons)
            if (::kill(pid, 0) == 0) return true;
        return false;
    };
    while (alive() && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(100ms);
    EXPECT_FALSE(alive()) << "the farm of a killed test is still running";
    std::filesystem::remove_all(dir);
    Farm again(2, test_seed()); // the same addresses are free again
}

// A farm asked for an address another farm holds refuses, naming the holder.
TEST(Farm, RefusesAnAddressAlreadyTaken) {
    Farm first(1, test_seed());
    TempDir second("/tmp");
    std::string command = std::string(CLUSTERCTL_SOURCE_DIR) + "/scripts/sshd-farm up 1 " +
                          second.path() + " --net " +
                          first.address(1).substr(0, first.address(1).rfind('.')) + " --port " +
                          std::to_string(first.port()) + " 2>&1";
    FILE* pipe = ::popen(command.c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    std::string out;
    char buffer[512];
    while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe))
        out.append(buffer, n);
    EXPECT_NE(::pclose(pipe), 0);
    EXPECT_NE(
        out.find(first.address(1) + ":" + std::to_string(first.port()) + " is already taken (pid="),
        std::string::npos)
        << out;
}

} // namespace
} // namespace clusterctl::test_support
