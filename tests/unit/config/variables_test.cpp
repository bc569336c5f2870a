#include "clusterctl/config/variables.hpp"

#include <gtest/gtest.h>

using namespace clusterctl;

namespace {
std::optional<std::string> lookup(std::string_view name) {
    if (name == "A") return "alpha";
    if (name == "EMPTY") return "";
    return std::nullopt;
}
util::Result<std::string> expand(std::string_view text) {
    return config::expand_variables(text, lookup, {"cfg", 4, 10});
}
} // namespace

TEST(Variables, BracedNamesDefaultsAndDollarDollar) {
    EXPECT_EQ(*expand("${A}/x"), "alpha/x");
    EXPECT_EQ(*expand("${B:-beta}"), "beta");
    EXPECT_EQ(*expand("${EMPTY:-fallback}"), "fallback");
    EXPECT_EQ(*expand("cost $$5 ${A}"), "cost $5 alpha");
}

TEST(Variables, UnbracedDollarIsLeftForTheRemoteShell) {
    EXPECT_EQ(*expand("$HOME/$A"), "$HOME/$A");
}

TEST(Variables, UndefinedIsAnErrorAtItsColumn) {
    auto r = expand("x ${NOPE}");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().str(),
              "cfg:4:12: error: undefined variable 'NOPE' (define it under env: or export it, or "
              "write ${NOPE:-default})");
}

TEST(Variables, ColumnsFollowNewlinesInTemplates) {
    auto r = expand("line1\n  ${MISSING}");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().where.line, 5);
    EXPECT_EQ(r.error().where.column, 3);
}
