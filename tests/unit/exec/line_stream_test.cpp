// exec::LineStream: what a host prints becomes the lines the run shows, without a host,
// a connection or a clock.

#include "clusterctl/exec/line_stream.hpp"

#include <gtest/gtest.h>

using namespace clusterctl;
using namespace std::chrono_literals;

namespace {

struct Recorder : exec::RunObserver {
    std::vector<std::string> lines, statuses, teardown;
    void on_line(std::size_t host, bool is_stderr, std::string_view line) override {
        lines.push_back(std::to_string(host) + (is_stderr ? " err " : " out ") + std::string(line));
    }
    void on_status(std::size_t host, std::string_view text) override {
        statuses.push_back(std::to_string(host) + " " + std::string(text));
    }
    void on_teardown_line(std::size_t, bool, std::string_view line) override {
        teardown.push_back(std::string(line));
    }
};

const exec::LineStream::Clock::time_point t0{};

config::SecretStore secrets_with(std::string_view secret) {
    config::SecretStore secrets;
    if (!secret.empty()) secrets.add("HF_TOKEN", std::string(secret));
    return secrets;
}

// A stream of host `host` (with one secret, if given) whose lines a Recorder keeps.
struct Fixture {
    explicit Fixture(std::size_t host = 0, std::string_view secret = {})
        : secrets(secrets_with(secret)), s(host, secrets, seen) {}
    config::SecretStore secrets;
    Recorder seen;
    exec::LineStream s;
};

} // namespace

TEST(LineStream, ControlLinesAreFactsNotOutput) {
    Fixture f(3);
    auto& [secrets, seen, s] = f;
    s.begin("");
    s.feed(true,
           "\x1e"
           "clusterctl:pgid 4242\nwarning\n\x1e"
           "clusterctl:skipped\n",
           t0);
    s.feed(false, "hello\n", t0);
    EXPECT_EQ(seen.lines, (std::vector<std::string>{"3 err warning", "3 out hello"}));
    EXPECT_EQ(s.process_group(), 4242);
    EXPECT_TRUE(s.skipped());
    s.begin(""); // the next task starts with nothing said
    EXPECT_FALSE(s.process_group());
    EXPECT_FALSE(s.skipped());
    EXPECT_TRUE(s.tail().lines().empty());
}

TEST(LineStream, TheFailureLineIsNoticedWithItsCode) {
    Fixture f;
    auto& [secrets, seen, s] = f;
    s.begin("failed (exitcode: ");
    s.feed(false, "[default1]:step 3\n", t0);
    EXPECT_FALSE(s.reported_exit());
    s.feed(false, "ERROR: worker 1 failed (exitcode: -9) local_rank: 1\n", t0);
    EXPECT_EQ(s.reported_exit(), -9);
    s.begin("failed (exitcode: ");
    s.feed(false, "x failed (exitcode: 0)\n", t0); // a failure said with 0 is still one
    EXPECT_EQ(s.reported_exit(), 1);
}

TEST(LineStream, SecretsAreMaskedInLinesStatusAndTail) {
    Fixture f(0, "hf_s3cr3t");
    auto& [secrets, seen, s] = f;
    s.begin("");
    s.feed(false, "token hf_s3cr3t\n", t0);
    s.feed(false, "50% hf_s3cr3t\r", t0);
    s.feed(false, "60% hf_s3cr3t\r", t0);
    EXPECT_EQ(seen.lines, (std::vector<std::string>{"0 out token ***"}));
    EXPECT_EQ(seen.statuses, (std::vector<std::string>{"0 50% ***"}));
    EXPECT_EQ(s.tail().lines(), (std::vector<std::string>{"token ***"}));
}

TEST(LineStream, AProgressBarShowsAtMostFourTimesASecondAndEndsAsOneLine) {
    Fixture f;
    auto& [secrets, seen, s] = f;
    s.begin("");
    s.feed(false, "10%\r", t0);
    s.feed(false, "20%\r", t0 + 100ms); // too soon
    s.feed(false, "30%\r", t0 + 260ms);
    s.feed(false, "100%\r\n", t0 + 300ms);
    EXPECT_EQ(seen.statuses, (std::vector<std::string>{"0 10%", "0 30%"}));
    EXPECT_EQ(seen.lines, (std::vector<std::string>{"0 out 100%"}));
}

TEST(LineStream, ATeardownsLinesAreKeptApartAndTheTailKeepsTheFailure) {
    Fixture f(0, "hf_secret");
    auto& [secrets, seen, s] = f;
    s.begin("failed (exitcode: ");
    s.feed(false, "rank 1 failed (exitcode: 1)\n", t0);
    s.stopping(true);
    s.feed(true, "SignalException: process got signal 15 hf_secret\n", t0);
    s.feed(false, "last words", t0);
    s.flush();
    EXPECT_EQ(seen.lines, (std::vector<std::string>{"0 out rank 1 failed (exitcode: 1)"}));
    EXPECT_EQ(seen.teardown, (std::vector<std::string>{"SignalException: process got signal 15 ***",
                                                       "last words"}));
    EXPECT_EQ(s.tail().lines(), (std::vector<std::string>{"rank 1 failed (exitcode: 1)"}));
    // Without keeping them apart (exec): shown, the tail still keeps the failure.
    s.begin("failed (exitcode: ");
    s.feed(false, "rank 1 failed (exitcode: 1)\n", t0);
    s.stopping(false);
    s.feed(false, "interrupted\n", t0);
    EXPECT_EQ(seen.lines.back(), "0 out interrupted");
    EXPECT_EQ(s.tail().lines(), (std::vector<std::string>{"rank 1 failed (exitcode: 1)"}));
    // The next task starts afresh.
    s.begin("");
    s.feed(false, "next\n", t0);
    EXPECT_EQ(seen.lines.back(), "0 out next");
}
