#include "clusterctl/util/failure.hpp"

#include <array>

namespace clusterctl::util {
namespace {

constexpr std::array<std::string_view, 15> k_names{
    "",        "resolve", "connect", "handshake", "hostkey", "auth", "lost", "session",
    "channel", "exec",    "timeout", "push",      "fetch",   "hang", "step"};
static_assert(k_names.size() == static_cast<std::size_t>(FailureStage::in_step) + 1);

} // namespace

std::string_view to_string(FailureStage stage) {
    return k_names[static_cast<std::size_t>(stage)];
}

} // namespace clusterctl::util
