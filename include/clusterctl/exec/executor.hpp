#pragma once
// Carries out a LaunchPlan on every host at once: one thread, one poll() loop, one
// non-blocking libssh2 session per host (kept for all the plan's stages), a timer heap
// for every deadline. Stages run one after another; within a stage each host runs its
// task as soon as a fan-out slot is free. The executor decides nothing the plan did not:
// it connects, runs, streams, times out, cancels, and reports.

#include "clusterctl/config/secrets.hpp"
#include "clusterctl/exec/interrupt.hpp"
#include "clusterctl/exec/run_observer.hpp"
#include "clusterctl/exec/transport.hpp"
#include "clusterctl/plan/launch_plan.hpp"
#include "clusterctl/report/host_outcome.hpp"

#include <functional>
#include <string>
#include <string_view>

namespace clusterctl::exec {

struct ExecutorOptions {
    int fanout = 256;          // hosts connecting or running at once
    int command_timeout_s = 0; // 0: none
    bool fail_fast = false;    // the first failing host cancels the others
    int retries = 0;           // further connection attempts, with backoff
    int grace_s = 10;          // TERM .. KILL on the remote process group
    std::string agent_socket;  // SSH_AUTH_SOCK
    // A hang was declared in a stage watched for one (plan::HangLimits): take every rank's
    // stack now, while the ranks still run, and fill in the report's stacks. Called from
    // the loop, which waits meanwhile; the job is torn down (on_hang: stop) after it.
    std::function<void(report::HangReport&)> on_hang;
};

// Over SSH (ExecutorOptions::agent_socket for ssh-agent).
report::RunSummary execute(const plan::LaunchPlan& plan, const config::SecretStore& secrets,
                           const ExecutorOptions& options, RunObserver& observer,
                           InterruptWatch& interrupts);
// Over any transport (exec/transport.hpp): the tests' fake, a local one.
report::RunSummary execute(const plan::LaunchPlan& plan, const config::SecretStore& secrets,
                           const ExecutorOptions& options, RunObserver& observer,
                           InterruptWatch& interrupts, Transport& transport);

} // namespace clusterctl::exec
