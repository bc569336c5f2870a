#include "clusterctl/plan/recovery.hpp"

#include <gtest/gtest.h>

using namespace clusterctl;
using plan::AttemptEnd;
using plan::RecoveryState;
using plan::RestartPolicy;
using Names = std::vector<std::string>;

namespace {

RestartPolicy policy(int restarts, int min_nodes = 3) {
    RestartPolicy p;
    p.restarts = restarts;
    p.min_nodes = min_nodes;
    p.backoff_s = 10;
    p.early_failure_s = 60;
    return p;
}

AttemptEnd ended(Names lost, std::optional<std::string> first, double seconds = 600) {
    AttemptEnd end;
    end.nodes = {"n1", "n2", "n3"};
    end.lost = std::move(lost);
    end.first_failure = std::move(first);
    end.seconds = seconds;
    return end;
}

} // namespace

TEST(Recovery, ALostNodeIsReplacedByASpareInItsPlace) {
    RecoveryState state{0, 0, {"s1", "s2"}, {}};
    auto end = ended({"n3"}, "n1"); // n1's ranks saw the peer go before n3 was seen lost
    auto verdict = plan::may_restart(policy(2), state, end);
    ASSERT_TRUE(verdict.restart) << verdict.why;
    EXPECT_EQ(verdict.cost, 1);
    EXPECT_EQ(verdict.backoff_s, 10);
    EXPECT_EQ(plan::restart_candidates(state, end), (Names{"n1", "n2", "s1", "s2"}))
        << "the lost node is never contacted again";
    auto next = plan::next_attempt(policy(2), state, end, {});
    EXPECT_EQ(next.nodes, (Names{"n1", "n2", "s1"})) << "the spare takes node rank 2";
    ASSERT_EQ(next.left_out.size(), 1u);
    EXPECT_EQ(next.left_out[0].first, "n3");
    EXPECT_EQ(next.replaced, (std::vector<std::pair<std::string, std::string>>{{"s1", "n3"}}));
    EXPECT_EQ(state.spares, (Names{"s2"}));
    EXPECT_EQ(state.left_out, (Names{"n3"}));
    EXPECT_EQ(state.attempt, 1);
}

TEST(Recovery, WithNoNodeLostTheNodeThatFailedFirstIsLeftOut) {
    RecoveryState state{0, 0, {"s1"}, {}};
    auto next = plan::next_attempt(policy(2), state, ended({}, "n2"), {});
    EXPECT_EQ(next.nodes, (Names{"n1", "s1", "n3"}));
    ASSERT_EQ(next.left_out.size(), 1u);
    EXPECT_EQ(next.left_out[0].second, "its ranks failed first");
}

TEST(Recovery, ANodeThatFailsTheProbeIsLeftOutAndABadSpareSkipped) {
    RecoveryState state{0, 0, {"s1", "s2"}, {}};
    // n3 died without its connection being seen to drop: the probe finds it.
    auto next = plan::next_attempt(policy(2), state, ended({}, "n1"),
                                   {{"n3", "connect: refused"}, {"s1", "torchrun missing"}});
    EXPECT_EQ(next.nodes, (Names{"n1", "n2", "s2"})) << "n1's failure was n3's loss";
    ASSERT_EQ(next.skipped.size(), 1u);
    EXPECT_EQ(next.skipped[0].first, "s1");
    EXPECT_TRUE(state.spares.empty()) << "a spare that failed its check is not tried again";
}

TEST(Recovery, WithoutASpareARangeGoesOnWithFewerNodesDownToItsMin) {
    RecoveryState state{0, 0, {}, {}};
    auto next = plan::next_attempt(policy(2, 2), state, ended({"n3"}, "n3"), {});
    EXPECT_EQ(next.nodes, (Names{"n1", "n2"}));
    RecoveryState again{0, 0, {}, {}};
    auto below = plan::next_attempt(policy(2, 3), again, ended({"n3"}, "n3"), {});
    EXPECT_TRUE(below.nodes.empty());
    EXPECT_NE(below.why.find("2 nodes left, 3 needed"), std::string::npos) << below.why;
}

TEST(Recovery, AnEarlyFailureCountsDoubleAndTheBudgetEndsIt) {
    RecoveryState state{0, 0, {"s1"}, {}};
    auto early = plan::may_restart(policy(2), state, ended({}, "n1", 5));
    ASSERT_TRUE(early.restart) << early.why;
    EXPECT_EQ(early.cost, 2);
    state.used += early.cost;
    state.attempt = 1;
    auto again = plan::may_restart(policy(2), state, ended({}, "n1", 5));
    EXPECT_FALSE(again.restart);
    EXPECT_NE(again.why.find("2 of train.restarts 2 were used"), std::string::npos) << again.why;
    auto late = plan::may_restart(policy(3), state, ended({}, "n1", 600));
    ASSERT_TRUE(late.restart);
    EXPECT_EQ(late.backoff_s, 20) << "the wait doubles each attempt";
}

TEST(Recovery, NoRestartWhenStoppedSucceededOrNotAsked) {
    RecoveryState state{0, 0, {"s1"}, {}};
    auto stopped = ended({}, std::nullopt);
    stopped.stopped = true;
    EXPECT_FALSE(plan::may_restart(policy(2), state, stopped).restart);
    auto ok = ended({}, std::nullopt);
    ok.succeeded = true;
    EXPECT_FALSE(plan::may_restart(policy(2), state, ok).restart);
    EXPECT_FALSE(plan::may_restart(policy(0), state, ended({"n3"}, "n3")).restart);
}

TEST(Recovery, TheBackoffIsCapped) {
    RecoveryState state{20, 0, {}, {}};
    EXPECT_EQ(plan::may_restart(policy(100), state, ended({"n3"}, "n3")).backoff_s,
              plan::k_max_backoff_s);
}
