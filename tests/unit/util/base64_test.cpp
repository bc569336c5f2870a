// util::base64: known vectors and a round trip.

#include "clusterctl/util/base64.hpp"

#include <gtest/gtest.h>
#include <random>

namespace clusterctl {
namespace {

TEST(Base64, KnownVectorsAndRoundTrip) {
    EXPECT_EQ(util::base64_encode(""), "");
    EXPECT_EQ(util::base64_encode("f"), "Zg==");
    EXPECT_EQ(util::base64_encode("fo"), "Zm8=");
    EXPECT_EQ(util::base64_encode("foo"), "Zm9v");
    EXPECT_EQ(util::base64_encode("foob", false), "Zm9vYg");
    EXPECT_EQ(util::base64_decode("Zm9v\nYmFy").value(), "foobar");
    EXPECT_FALSE(util::base64_decode("Zm9v!").has_value());
    std::mt19937 random(1);
    for (int n = 0; n < 64; ++n) {
        std::string bytes;
        for (int i = 0; i < n; ++i)
            bytes += static_cast<char>(random());
        EXPECT_EQ(util::base64_decode(util::base64_encode(bytes)).value(), bytes);
    }
}

} // namespace
} // namespace clusterctl
