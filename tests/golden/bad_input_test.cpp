// Bad input of every kind ends with "FILE:LINE:COL: error: WHAT (HINT)" on stderr, exit
// code 2, nothing on stdout, and nothing run anywhere. One row per bad input.

#include "test_support.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace clusterctl;

namespace {

struct BadInput {
    const char* name;
    const char* files;
    const char* args;
    const char* expected;
};

const BadInput k_cases[] = {
#define BAD(name, files, args, expected) {name, files, args, expected},
#include "bad_input_cases.inc"
#undef BAD
};

std::string substitute(std::string text, const std::string& dir) {
    for (std::size_t pos; (pos = text.find("{d}")) != std::string::npos;)
        text.replace(pos, 3, dir);
    return text;
}

// "a=1|b=2" -> files a and b.
void write_files(const test_support::TempDir& dir, const std::string& spec) {
    std::size_t pos = 0;
    while (pos < spec.size()) {
        std::size_t bar = spec.find("\n|", pos);
        std::size_t end = bar == std::string::npos ? spec.size() : bar + 1;
        std::string item = spec.substr(pos, end - pos);
        std::size_t eq = item.find('=');
        dir.write(item.substr(0, eq), item.substr(eq + 1));
        pos = bar == std::string::npos ? spec.size() : bar + 2;
    }
}

// Arguments split at spaces; '...' keeps a quoted argument whole.
std::vector<std::string> split_args(const std::string& text) {
    std::vector<std::string> args;
    std::string current;
    bool quoted = false, any = false;
    for (char c : text) {
        if (c == '\'') {
            quoted = !quoted;
            any = true;
        } else if (c == ' ' && !quoted) {
            if (any) args.push_back(current);
            current.clear();
            any = false;
        } else {
            current += c;
            any = true;
        }
    }
    if (any) args.push_back(current);
    return args;
}

class BadInputTest : public ::testing::TestWithParam<BadInput> {};

} // namespace

TEST_P(BadInputTest, ReportsFileLineColumnAndExitsTwo) {
    const BadInput& c = GetParam();
    test_support::TempDir dir;
    write_files(dir, c.files);
    // What the limits refuse: a FIFO (a read would wait for a writer forever) and a
    // sparse 17 MiB file (over every input file's limit).
    ASSERT_EQ(::mkfifo((dir.path() + "/fifo").c_str(), 0600), 0);
    ASSERT_EQ(::truncate(dir.write("big", "").c_str(), 17 << 20), 0);
    auto r = test_support::run_cli(split_args(substitute(c.args, dir.path())),
                                   test_support::test_environment());
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, substitute(c.expected, dir.path()) + "\n") << "actual: " << r.err;
}

INSTANTIATE_TEST_SUITE_P(AllBadInputs, BadInputTest, ::testing::ValuesIn(k_cases),
                         [](const auto& test_info) { return std::string(test_info.param.name); });

TEST(BadInput, TableCoversAtLeastFortyInputs) {
    EXPECT_GE(std::size(k_cases), 40u);
}
