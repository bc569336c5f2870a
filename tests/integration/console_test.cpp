// What a person sees of a run against real sshd hosts: colour and the progress area on a
// pseudo-terminal, none with NO_COLOR, TERM=dumb or into files.

#include "ssh_suite.hpp"

namespace clusterctl::test_support {
namespace {

TEST(Engine, ColourAndProgressOnlyOnATerminal) {
    Farm farm(3, test_seed());
    std::vector<std::string> args{"exec", "--", "echo hi; sleep 2; echo bye"};

    // A terminal: each host's name in its colour, the counts redrawn under the output.
    auto tty = farm.run_on_terminal(args, {"TERM=xterm"});
    ASSERT_EQ(tty.code, 0) << tty.screen;
    EXPECT_NE(tty.screen.find("\033[32mh001\033[0m: hi\r\n"), std::string::npos) << tty.screen;
    EXPECT_NE(tty.screen.find("\033[34mh003\033[0m: bye\r\n"), std::string::npos) << tty.screen;
    EXPECT_NE(tty.screen.find("exec: 0/3 done, 3 running"), std::string::npos) << tty.screen;
    EXPECT_NE(tty.screen.find("\r\033[J"), std::string::npos) << "the area is cleared";

    // NO_COLOR: the same without colour; the counts are not colour and stay.
    auto no_colour = farm.run_on_terminal(args, {"TERM=xterm", "NO_COLOR=1"});
    ASSERT_EQ(no_colour.code, 0) << no_colour.screen;
    EXPECT_FALSE(has_colour(no_colour.screen)) << no_colour.screen;
    EXPECT_NE(no_colour.screen.find("h002: bye\r\n"), std::string::npos) << no_colour.screen;
    EXPECT_NE(no_colour.screen.find("3 running"), std::string::npos) << no_colour.screen;

    // A dumb terminal can neither colour nor move the cursor: plain lines only.
    auto dumb = farm.run_on_terminal(args, {"TERM=dumb"});
    ASSERT_EQ(dumb.code, 0) << dumb.screen;
    EXPECT_EQ(dumb.screen.find('\033'), std::string::npos) << dumb.screen;
    EXPECT_NE(dumb.screen.find("h001: hi\r\n"), std::string::npos) << dumb.screen;

    // Files (CI, a pipe): no escape sequence in either stream, no progress.
    auto files = farm.run(args, {"TERM=xterm"});
    ASSERT_EQ(files.code, 0) << files.err;
    EXPECT_EQ(files.out.find('\033'), std::string::npos) << files.out;
    EXPECT_EQ(files.err.find('\033'), std::string::npos) << files.err;
    EXPECT_EQ(files.err.find("running"), std::string::npos) << files.err;
    EXPECT_NE(files.out.find("h003: bye\n"), std::string::npos) << files.out;
}

} // namespace
} // namespace clusterctl::test_support
