// What a run leaves on disk: host logs written in 32 KiB pieces by a thread of their own,
// and every record that could not be kept named.

#include "clusterctl/output/log_writer.hpp"
#include "clusterctl/output/run_logs.hpp"

#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <thread>
#include <unistd.h>

namespace clusterctl {
namespace {

// 2 MB of output from each of 64 hosts would be 31,000 writes a host 4 KiB at a time; the
// log keeps 32 KiB before it hands them to its writer thread.
TEST(RunLogs, AHostLogIsWrittenIn32KiBPieces) {
    std::string dir = ::testing::TempDir() + "run_logs_test";
    std::filesystem::remove_all(dir);
    std::string log = dir + "/node-1.log";
    {
        output::RunLogs logs(dir, {"node-1"});
        ASSERT_EQ(logs.error(), "");
        std::string line(99, 'x'); // 100 bytes with its newline
        for (int i = 0; i < 300; ++i)
            logs.line(0, line);
        EXPECT_EQ(std::filesystem::file_size(log), 0u) << "30,000 bytes fit in the buffer";
        for (int i = 0; i < 100; ++i)
            logs.line(0, line);
        // The first 32 KiB, and the 100-byte line that crossed it, go to the writer thread.
        for (int wait = 0; wait < 200 && std::filesystem::file_size(log) == 0; ++wait)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        EXPECT_EQ(std::filesystem::file_size(log), 32'800u);
        nlohmann::json summary = nlohmann::json::object();
        EXPECT_TRUE(logs.write_summary(summary).empty());
        EXPECT_EQ(std::filesystem::file_size(log), 40'000u);
        EXPECT_TRUE(std::filesystem::exists(dir + "/summary.json"));
    }
    std::filesystem::remove_all(dir);
}

// A log that cannot be made is named, with why, in the summary and in what comes back;
// the summary's room (taken first) is cut back to what it holds.
TEST(RunLogs, ALogThatCannotBeWrittenIsNamedInTheSummary) {
    std::string dir = ::testing::TempDir() + "run_logs_lost_test";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir + "/node-2.log"); // in the log's way
    {
        output::RunLogs logs(dir, {"node-1", "node-2"});
        EXPECT_GE(std::filesystem::file_size(dir + "/summary.json"), 64u * 1024)
            << "the summary's room is taken before any log is written";
        logs.line(0, "fine");
        logs.line(1, "lost");
        logs.line(1, "lost again");
        nlohmann::json summary = {{"action", "exec"}};
        auto lost = logs.write_summary(summary);
        ASSERT_EQ(lost.size(), 1u);
        EXPECT_EQ(lost[0], dir + "/node-2.log: Is a directory");
        std::ifstream in(dir + "/summary.json");
        auto written = nlohmann::json::parse(in);
        EXPECT_EQ(written["logs_incomplete"], nlohmann::json::array({lost[0]}));
        EXPECT_EQ(written["action"], "exec");
        EXPECT_EQ(summary["logs_incomplete"], written["logs_incomplete"]);
    }
    std::filesystem::remove_all(dir);
}

TEST(LogWriter, WritesChunksInOrderAndSaysWhatFailed) {
    std::string path = ::testing::TempDir() + "log_writer_test.log";
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0);
    int full = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
    ASSERT_GE(full, 0);
    output::LogWriter writer(64); // a small limit: write() waits for room now and then
    std::string expected;
    for (int i = 0; i < 1000; ++i) {
        std::string chunk = std::to_string(i) + "\n";
        expected += chunk;
        writer.write(fd, chunk);
    }
    EXPECT_TRUE(writer.finish().empty());
    writer.write(full, "lost\n");
    writer.write(full, "lost again\n");
    ASSERT_EQ(writer.finish().size(), 1u) << "one failure per descriptor";
    EXPECT_EQ(writer.finish().front().fd, full);
    EXPECT_EQ(writer.finish().front().reason, "No space left on device");
    ::close(fd);
    ::close(full);
    std::ifstream in(path);
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), expected);
    std::filesystem::remove(path);
}

} // namespace
} // namespace clusterctl
