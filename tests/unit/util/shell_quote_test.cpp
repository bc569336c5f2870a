// Property test: no text survives quoting as anything but itself. Random strings full of
// shell metacharacters are quoted, run through the real /bin/sh, and the argv that comes
// back must equal what went in.

#include "clusterctl/util/shell_quote.hpp"
#include "clusterctl/util/shell_script.hpp"

#include <gtest/gtest.h>
#include <random>
#include <stdio.h>
#include <sys/wait.h>

using namespace clusterctl;

namespace {

// What `sh -c SCRIPT` prints; the shell must exit 0.
std::string run_sh(const std::string& script) {
    std::string command = "/bin/sh -c " + util::shell_quote(script);
    FILE* pipe = ::popen(command.c_str(), "r");
    EXPECT_NE(pipe, nullptr);
    std::string out;
    char buffer[4096];
    std::size_t n;
    while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0)
        out.append(buffer, n);
    EXPECT_EQ(::pclose(pipe), 0);
    return out;
}

// Runs `sh -c 'printf "%s\0" WORDS'` and splits its output at NULs.
std::vector<std::string> argv_through_shell(const std::vector<std::string>& words) {
    std::string out = run_sh("printf '%s\\0' " + util::shell_join(words));
    std::vector<std::string> back;
    std::size_t pos = 0;
    while (pos < out.size()) {
        std::size_t end = out.find('\0', pos);
        back.push_back(out.substr(pos, end - pos));
        pos = end + 1;
    }
    return back;
}

std::string random_word(std::mt19937& rng) {
    static const std::string k_alphabet = "ab Z09_-=./:,@%+~#!*?[]{}()<>|&;$`'\"\\\t\n^";
    std::uniform_int_distribution<std::size_t> length(0, 24);
    std::uniform_int_distribution<std::size_t> pick(0, k_alphabet.size() - 1);
    std::uniform_int_distribution<int> byte(1, 255);
    std::string word;
    std::size_t n = length(rng);
    for (std::size_t i = 0; i < n; ++i)
        word += (i % 7 == 6) ? static_cast<char>(byte(rng)) : k_alphabet[pick(rng)];
    return word;
}

} // namespace

TEST(ShellQuote, PlainWordsStayReadable) {
    EXPECT_EQ(util::shell_quote("--nnodes=8"), "--nnodes=8");
    EXPECT_EQ(util::shell_quote("/usr/bin/torchrun"), "/usr/bin/torchrun");
    EXPECT_EQ(util::shell_quote(""), "''");
    EXPECT_EQ(util::shell_quote("a b"), "'a b'");
    EXPECT_EQ(util::shell_quote("it's"), "'it'\\''s'");
    EXPECT_EQ(util::shell_quote("FOO=bar"), "'FOO=bar'"); // would be an assignment unquoted
}

TEST(ShellQuote, RandomTextWithMetacharactersComesBackUnchanged) {
    std::mt19937 rng(20261125);
    for (int round = 0; round < 60; ++round) {
        std::vector<std::string> words;
        for (int i = 0; i < 8; ++i)
            words.push_back(random_word(rng));
        ASSERT_EQ(argv_through_shell(words), words) << "round " << round;
    }
}

TEST(ShellQuote, HostileHostNamesAndValues) {
    std::vector<std::string> words = {
        "$(touch /tmp/pwned)", "`id`", "; rm -rf /", "a'b\"c", "${HOME}", "x\ny", "-n", "*"};
    EXPECT_EQ(argv_through_shell(words), words);
}

TEST(ShellScript, HolesTakeValuesAsOneWordEach) {
    util::ShellScript s;
    std::vector<std::string> argv = {"a b", "$(x)"};
    s.add("d={} n={} argv=({})\n", "/w$(touch M)", 8, util::ShellWords{argv});
    EXPECT_EQ(s.text(), "d='/w$(touch M)' n=8 argv=('a b' '$(x)')\n");
}

TEST(ShellScript, OtherBracesAreShellText) {
    util::ShellScript s;
    s.add("alive() { [ -n \"${p}\" ]; }\nv={}\n", "x");
    EXPECT_EQ(s.text(), "alive() { [ -n \"${p}\" ]; }\nv=x\n");
    EXPECT_EQ(util::ScriptText<2>::holes("{}{} ${a} {x}"), 2u);
}

TEST(ShellScript, AVariableNameThatIsNotOneIsABug) {
    util::ShellScript s;
    EXPECT_THROW(s.add("export {}=1\n", util::ShellVariable{"A;id"}), std::invalid_argument);
    EXPECT_THROW(s.add("export {}=1\n", util::ShellVariable{"1A"}), std::invalid_argument);
    s.add("export {}=1\n", util::ShellVariable{"_A1"});
    EXPECT_EQ(s.text(), "export _A1=1\n");
}

TEST(ShellScript, HostileValuesComeBackUnchangedThroughARealShell) {
    std::mt19937 rng(20261201);
    for (int round = 0; round < 40; ++round) {
        std::string a = random_word(rng), b = random_word(rng);
        util::ShellScript s;
        s.add("x={} y={}\nprintf '%s\\0' \"$x\" \"$y\"\n", a, b);
        EXPECT_EQ(run_sh(s.text()), a + std::string(1, '\0') + b + std::string(1, '\0'))
            << "round " << round;
    }
}
