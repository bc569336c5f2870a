// A detached job's nodes' logs merged by the stamps the nodes wrote (output/merged_logs.hpp).

#include "clusterctl/output/merged_logs.hpp"

#include <gtest/gtest.h>

namespace clusterctl::output {
namespace {

TEST(MergedLogs, NodesAreInterleavedByTheirStampsEachInItsOwnOrder) {
    std::string out = "node-001: 100.000001 [default0]:a\n"
                      "node-001: 102.5 [default0]:c\n"
                      "node-002: 101.25 [default0]:b\n"
                      "node-002: 102,5 [default0]:d\n"
                      "node-002: an unstamped line stays after d\n";
    EXPECT_EQ(merge_stamped_logs(out), "node-001: [default0]:a\n"
                                       "node-002: [default0]:b\n"
                                       "node-001: [default0]:c\n"
                                       "node-002: [default0]:d\n"
                                       "node-002: an unstamped line stays after d\n");
    EXPECT_EQ(merge_stamped_logs(out, 2), "node-002: [default0]:d\n"
                                          "node-002: an unstamped line stays after d\n");
    EXPECT_EQ(merge_stamped_logs(out, 0), "");
}

TEST(MergedLogs, ANumberThatIsNotAStampIsText) {
    EXPECT_EQ(merge_stamped_logs("n: 42 is the answer\nn: 3. x\n"),
              "n: 42 is the answer\nn: 3. x\n");
}

} // namespace
} // namespace clusterctl::output
