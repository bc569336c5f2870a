#pragma once
// The seam between the engine and the ways of reaching a host. The executor's loop drives
// a HostLink per host without knowing how it reaches the host: it asks which fd it waits
// on, lets it advance, holds its deadline in the timer heap, starts a task on it, cancels
// it, and reads how the task ended. A Transport makes the links, and owns what they share
// (an SSH transport's jump-host sessions). SSH is one transport (exec/ssh_transport.hpp);
// the tests have a fake one.
//
// Tasks: a script run through the remote wrapper (plan::StageKind::run), files pushed, a
// folder fetched. A link is passive, like the ssh/ state machines under it: it never
// blocks and never sleeps, and keeps no timer but the one deadline() it states.

#include "clusterctl/config/host_spec.hpp"
#include "clusterctl/exec/task_result.hpp"
#include "clusterctl/exec/task_spec.hpp"
#include "clusterctl/plan/launch_plan.hpp"
#include "clusterctl/util/failure.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <poll.h>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace clusterctl::exec {

using Clock = std::chrono::steady_clock;
inline constexpr Clock::time_point k_never = Clock::time_point::max();

// Why a link failed: where (connect, handshake, hostkey, auth, lost, ...), what, and
// whether connecting again may help.
using LinkFailure = util::Failure;

// Bytes a running command wrote: on stderr when `is_stderr`.
using OutputSink = std::function<void(bool is_stderr, std::string_view data)>;

class HostLink {
public:
    enum class Phase { connecting, ready, failed };

    virtual ~HostLink() = default;

    virtual Phase phase() const = 0;
    virtual const LinkFailure& failure() const = 0;
    // Where connecting has got to (connect, handshake, hostkey, auth): a timeout's stage.
    virtual util::FailureStage stage() const = 0;
    virtual void fail(util::FailureStage stage, std::string message, bool retryable) = 0;

    // Waiting for something the transport shares (a jump host's stream, a Slurm step's
    // srun): advance_shared() may let it go on, connecting or running.
    virtual bool behind_shared() const = 0;
    // Appends the fds to poll now and for what (none while it waits for a deadline).
    virtual void poll_set(std::vector<pollfd>& fds) const = 0;
    // Goes as far as it can without waiting: the connection, then the task.
    virtual void advance(const OutputSink& output) = 0;
    // Its own next deadline (keepalives, liveness while a task runs), and what it does
    // then; a host gone silent fails the link with stage "lost".
    virtual Clock::time_point deadline() const = 0;
    virtual void on_deadline(Clock::time_point now) = 0;

    // A task on a ready link; "" or why it could not start (a push whose local file is
    // gone).
    virtual std::string start(TaskSpec task, Clock::time_point now) = 0;
    virtual bool task_done() const = 0;
    // A transfer's start (SFTP's version) has come; a script's start is the wrapper's
    // first line, which the engine reads itself.
    virtual bool transfer_started() const = 0;
    // A script: EOF on its stdin, and the wrapper stops its process group. A transfer
    // cannot be cancelled part-way: the engine ends the host instead.
    virtual bool cancel() = 0;
    // How the task ended (the engine adds what it knows: timeouts, cancels, reports).
    virtual TaskEnd task_end() const = 0;
    // The task is over; the link stays for the next stage's task.
    virtual void end_task() = 0;
};

class Transport {
public:
    virtual ~Transport() = default;
    // Before the first link: `hosts` at most `fanout` at once. A warning, or "".
    virtual std::string prepare(std::size_t hosts, int fanout) = 0;
    // A link to `host`, connecting from now on.
    virtual std::unique_ptr<HostLink> connect(const config::HostSpec& host) = 0;
    // What the links share (jump-host sessions): fds to poll, and moving them on. After
    // advance_shared() a connecting link may have somewhere to go: step them.
    virtual void shared_fds(std::vector<pollfd>& fds) = 0;
    virtual void advance_shared() = 0;
    // Warnings said once for the whole run (a key type known_hosts prefers, ...).
    virtual std::vector<std::string> take_warnings() = 0;

    // The engine's clock and its one wait. A real transport's are the steady clock and
    // poll(2); the tests' fake keeps a clock of its own and moves it to the next deadline at
    // once, so an engine rule that takes seconds of a real run is tested in microseconds.
    virtual Clock::time_point now() const { return Clock::now(); }
    virtual int wait(std::vector<pollfd>& fds, int timeout_ms) {
        return ::poll(fds.data(), fds.size(), timeout_ms);
    }
};

} // namespace clusterctl::exec
