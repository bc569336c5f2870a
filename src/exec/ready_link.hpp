#pragma once
// A link with no connection to make (the local and Slurm transports): ready from the
// start, failed only when the engine says so (a timeout's stage). Private to exec/.

#include "clusterctl/exec/transport.hpp"

#include <string>
#include <utility>

namespace clusterctl::exec {

class ReadyLink : public HostLink {
public:
    Phase phase() const override {
        return m_failure.stage == util::FailureStage::none ? Phase::ready : Phase::failed;
    }
    const LinkFailure& failure() const override { return m_failure; }
    util::FailureStage stage() const override { return util::FailureStage::exec; }
    void fail(util::FailureStage stage, std::string message, bool retryable) override {
        m_failure = {stage, std::move(message), retryable};
    }

private:
    LinkFailure m_failure;
};

} // namespace clusterctl::exec
