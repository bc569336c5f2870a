// The engine's small parts: the line splitter and tail, the timer heap, the wrapper's input
// framing and control lines.

#include "clusterctl/exec/line_splitter.hpp"
#include "clusterctl/exec/line_tail.hpp"
#include "clusterctl/exec/remote_wrapper.hpp"
#include "clusterctl/exec/timer_heap.hpp"

#include <gtest/gtest.h>
#include <random>

namespace clusterctl {
namespace {

TEST(LineSplitter, LinesSplitAnywhereComeOutWhole) {
    std::string text;
    for (int i = 0; i < 500; ++i)
        text +=
            "line " + std::to_string(i) + std::string(static_cast<std::size_t>(i % 37), 'x') + "\n";
    text += "partial";
    std::mt19937 random(3);
    for (int round = 0; round < 20; ++round) {
        exec::LineSplitter splitter;
        std::vector<std::string> lines;
        auto collect = [&](std::string_view l) { lines.emplace_back(l); };
        for (std::size_t at = 0; at < text.size();) {
            std::size_t n = std::min<std::size_t>(text.size() - at, random() % 90 + 1);
            splitter.feed(std::string_view(text).substr(at, n), collect);
            at += n;
        }
        ASSERT_EQ(lines.size(), 500u);
        EXPECT_EQ(lines[7], "line 7xxxxxxx");
        splitter.flush(collect);
        EXPECT_EQ(lines.back(), "partial");
    }
}

TEST(LineSplitter, AnEndlessLineIsPassedOnInPieces) {
    exec::LineSplitter splitter(8);
    std::vector<std::string> lines;
    splitter.feed("abcdefghijklmnopqrst\nuv", [&](std::string_view l) { lines.emplace_back(l); });
    EXPECT_EQ(lines, (std::vector<std::string>{"abcdefghijklmnopqrst"}));
    lines.clear();
    splitter.feed("wxyz0123456789", [&](std::string_view l) { lines.emplace_back(l); });
    EXPECT_EQ(lines, (std::vector<std::string>{"uvwxyz01", "23456789"}));
}

TEST(LineTail, KeepsTheLastLinesOldestFirst) {
    exec::LineTail tail;
    EXPECT_TRUE(tail.lines().empty());
    for (int i = 0; i < 25; ++i)
        tail.push("line " + std::to_string(i));
    auto lines = tail.lines();
    ASSERT_EQ(lines.size(), exec::LineTail::k_lines);
    EXPECT_EQ(lines.front(), "line 5");
    EXPECT_EQ(lines.back(), "line 24");
    tail.clear();
    tail.push("after");
    EXPECT_EQ(tail.lines(), (std::vector<std::string>{"after"}));
}

TEST(LineTail, CutsALongLineAtACharacterBoundary) {
    exec::LineTail tail;
    // 'é' is two bytes: byte 512 is the second byte of one, so the cut falls before it.
    std::string line = std::string(511, 'a') + "\xc3\xa9" + std::string(1000, 'b');
    tail.push(line);
    EXPECT_EQ(tail.lines().front(), std::string(511, 'a') + " ... (1002 more bytes)");
    tail.push(std::string(512, 'c'));
    EXPECT_EQ(tail.lines().back(), std::string(512, 'c'));
}

TEST(TimerHeap, FiresInOrderAndReArmingReplaces) {
    using namespace std::chrono_literals;
    exec::TimerHeap heap;
    auto t0 = exec::TimerHeap::Clock::now();
    heap.arm(1, t0 + 30ms);
    heap.arm(2, t0 + 10ms);
    heap.arm(3, t0 + 20ms);
    heap.arm(1, t0 + 5ms); // replaces 30 ms
    heap.disarm(3);
    EXPECT_EQ(heap.next(), t0 + 5ms);
    std::vector<std::size_t> fired;
    heap.expire(t0 + 100ms, [&](std::size_t owner) { fired.push_back(owner); });
    EXPECT_EQ(fired, (std::vector<std::size_t>{1, 2}));
    EXPECT_FALSE(heap.next().has_value());
}

TEST(RemoteWrapper, ControlLinesAndInputFraming) {
    auto control = exec::parse_control_line("\x1e"
                                            "clusterctl:step 4242");
    ASSERT_TRUE(control);
    EXPECT_EQ(control->word, "step");
    EXPECT_EQ(control->argument, "4242");
    EXPECT_FALSE(exec::parse_control_line("clusterctl:skipped"));
    EXPECT_EQ(exec::wrapper_input("echo hi\n", 10), "8 10\necho hi\n");
}

} // namespace
} // namespace clusterctl
