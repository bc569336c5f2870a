// The hang rules (exec/hang_watch.hpp) on a made-up clock: when a job's silence is a hang,
// and when it is not (a rank that leaves the printing to rank 0, weights loading).

#include "clusterctl/exec/hang_watch.hpp"

#include <gtest/gtest.h>

namespace clusterctl::exec {
namespace {

using Kind = report::HangReport::Kind;
using std::chrono::seconds;
constexpr HangWatch::Clock::time_point k_t0 =
    HangWatch::Clock::time_point{} + std::chrono::hours(1);

plan::HangLimits limits(int timeout_s = 60, int startup_s = 600) {
    plan::HangLimits l;
    l.timeout_s = timeout_s;
    l.startup_timeout_s = startup_s;
    return l;
}

TEST(HangWatch, RankPrefixIsTorchrunsTeePrefix) {
    EXPECT_EQ(rank_prefix("[default0]:step 5"), 0);
    EXPECT_EQ(rank_prefix("[default13]:x"), 13);
    EXPECT_EQ(rank_prefix("[trainer2]:x"), 2);
    EXPECT_EQ(rank_prefix("[default]:x"), -1);
    EXPECT_EQ(rank_prefix("INFO:torch.distributed: [default0]:"), -1);
    EXPECT_EQ(rank_prefix("[2024-01-01 10:00:00]: a log line"), -1);
    EXPECT_EQ(rank_prefix(""), -1);
}

TEST(HangWatch, BeforeTheRanksFirstLineOnlyTheStartupLimitCounts) {
    HangWatch w(limits(60, 600), 2, k_t0);
    w.on_line(0, "WARNING: the agent says something", k_t0 + seconds(1));
    EXPECT_FALSE(w.check(k_t0 + seconds(300))) << "loading weights: silent, not hung";
    auto found = w.check(k_t0 + seconds(601));
    ASSERT_TRUE(found);
    EXPECT_EQ(found->kind, Kind::never_started);
    EXPECT_EQ(found->limit_s, 600);
    EXPECT_EQ(found->silent.size(), 2u) << "every node named";
    EXPECT_FALSE(w.check(k_t0 + seconds(700))) << "declared once";
}

TEST(HangWatch, NoLineFromAnyRankForTheTimeoutIsAHang) {
    HangWatch w(limits(60), 2, k_t0);
    w.on_line(0, "[default0]:step 1", k_t0 + seconds(10));
    w.on_line(1, "[default1]:step 1", k_t0 + seconds(12));
    EXPECT_FALSE(w.check(k_t0 + seconds(71)));
    auto found = w.check(k_t0 + seconds(73));
    ASSERT_TRUE(found);
    EXPECT_EQ(found->kind, Kind::all_silent);
    EXPECT_NEAR(found->silence_s, 61, 0.01);
    ASSERT_EQ(found->silent.size(), 2u);
    EXPECT_EQ(found->silent[0].host, 0u) << "longest silent first";
    EXPECT_EQ(found->silent[0].local_rank, 0);
}

TEST(HangWatch, ASteadyRankFallingSilentWhileOthersPrintIsAHang) {
    HangWatch w(limits(60), 2, k_t0);
    for (int t = 0; t <= 120; t += 10) {
        w.on_line(0, "[default0]:step", k_t0 + seconds(t));
        w.on_line(1, "[default0]:step", k_t0 + seconds(t));
    }
    for (int t = 130; t <= 190; t += 10) // node 1's rank stops; node 0's goes on
        w.on_line(0, "[default0]:step", k_t0 + seconds(t));
    auto found = w.check(k_t0 + seconds(185));
    ASSERT_TRUE(found);
    EXPECT_EQ(found->kind, Kind::some_silent);
    ASSERT_EQ(found->silent.size(), 1u);
    EXPECT_EQ(found->silent[0].host, 1u);
    EXPECT_NEAR(found->silence_s, 65, 0.01);
}

TEST(HangWatch, RanksThatLeaveThePrintingToRankZeroAreNotSilent) {
    HangWatch w(limits(60), 2, k_t0);
    // Every rank says hello; then rank 0 alone logs the loss, for hours.
    w.on_line(1, "[default0]:rank 1 ready", k_t0 + seconds(1));
    w.on_line(1, "[default1]:rank 3 ready", k_t0 + seconds(1));
    for (int t = 0; t <= 7200; t += 30) {
        w.on_line(0, "[default0]:step", k_t0 + seconds(t));
        EXPECT_FALSE(w.check(k_t0 + seconds(t))) << t;
    }
}

TEST(HangWatch, OffWhenTheTimeoutIsZero) {
    HangWatch w(limits(0, 0), 1, k_t0);
    EXPECT_FALSE(w.check(k_t0 + std::chrono::hours(100)));
}

TEST(HangWatch, WithoutRankPrefixesAnyLineIsTheRanks) {
    auto l = limits(60);
    l.ranks_prefixed = false;
    HangWatch w(l, 1, k_t0);
    w.on_line(0, "step 1", k_t0 + seconds(5));
    auto found = w.check(k_t0 + seconds(66));
    ASSERT_TRUE(found);
    EXPECT_EQ(found->kind, Kind::all_silent) << "started at its first line, not the startup limit";
}

} // namespace
} // namespace clusterctl::exec
