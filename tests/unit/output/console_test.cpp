// What the console shows: host prefixes with and without colour, and the progress area
// a terminal gets (redrawn at most 10 times a second, never stale, nothing elsewhere).

#include "clusterctl/output/live_output.hpp"
#include "clusterctl/output/progress_line.hpp"

#include <gtest/gtest.h>
#include <sstream>
#include <thread>

namespace clusterctl::output {
namespace {

using namespace std::chrono_literals;

std::string live_text(bool color) {
    std::ostringstream out, err;
    LiveOutput live(out, err, {"node-1", "node-10"}, LiveOutputOptions{true, false, false, color});
    live.line(0, false, "hello");
    live.line(1, true, "oops");
    live.flush();
    return out.str() + "|" + err.str();
}

TEST(LiveOutput, HostNamesAreColouredOnlyWhenAsked) {
    EXPECT_EQ(live_text(false), "node-1:  hello\n|node-10: oops\n");
    EXPECT_EQ(live_text(true), "\033[32mnode-1\033[0m:  hello\n|\033[33mnode-10\033[0m: oops\n");
}

TEST(ProgressLine, NothingAtAllWhenNotATerminal) {
    std::ostringstream err;
    ProgressLine progress(err, false);
    progress.update("exec: 0/2 done, 2 running");
    progress.status("node-1", "50%");
    progress.redraw();
    progress.clear();
    EXPECT_EQ(err.str(), "");
}

TEST(ProgressLine, RedrawsAtMostTenTimesASecondAndNeverStaysStale) {
    std::ostringstream err;
    ProgressLine progress(err, true);
    progress.update("exec: 0/2 done, 2 connecting");
    EXPECT_EQ(err.str(), "exec: 0/2 done, 2 connecting");
    progress.update("exec: 0/2 done, 2 running"); // within 100 ms: not yet
    EXPECT_EQ(err.str(), "exec: 0/2 done, 2 connecting");
    std::this_thread::sleep_for(120ms);
    // The executor reports the same counts again: the change held back is drawn now.
    progress.update("exec: 0/2 done, 2 running");
    EXPECT_EQ(err.str(), "exec: 0/2 done, 2 connecting\r\033[Jexec: 0/2 done, 2 running");
    std::this_thread::sleep_for(120ms);
    progress.update("exec: 0/2 done, 2 running"); // nothing changed: nothing drawn
    progress.clear();                             // before an output line
    EXPECT_EQ(err.str(), "exec: 0/2 done, 2 connecting\r\033[Jexec: 0/2 done, 2 running\r\033[J");
}

TEST(ProgressLine, AHostsProgressBarGetsALineUnderTheCounts) {
    std::ostringstream err;
    ProgressLine progress(err, true, 40);
    progress.status("node-1", std::string(60, '#')); // cut to the terminal's width
    progress.update("download: 0/1 done, 1 running");
    std::this_thread::sleep_for(120ms);
    progress.update("download: 0/1 done, 1 running");
    std::string shown = err.str();
    std::string last = shown.substr(shown.rfind("\033[J") + 3);
    EXPECT_EQ(last, "download: 0/1 done, 1 running\n  node-1: " + std::string(29, '#'));
    progress.clear(); // two lines: back up one, then clear to the end of the screen
    EXPECT_EQ(err.str().substr(shown.size()), "\r\033[1A\033[J");
}

} // namespace
} // namespace clusterctl::output
