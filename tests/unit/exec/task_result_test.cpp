// exec::judge and exec::retry_command: how a task's end becomes the host's verdict.

#include "clusterctl/exec/task_result.hpp"

#include <gtest/gtest.h>

using namespace clusterctl;
using exec::TaskEnd;
using report::HostState;

namespace {

using util::FailureStage;

exec::TaskVerdict judged(const TaskEnd& end, const std::vector<std::string>& printed = {}) {
    exec::LineTail tail;
    for (const auto& line : printed)
        tail.push(line);
    return exec::judge(end, 30, tail);
}

} // namespace

TEST(TaskResult, ExitCodesAndSignals) {
    auto ok = judged({});
    EXPECT_EQ(ok.state, HostState::done);
    EXPECT_EQ(ok.exit_code, 0);
    EXPECT_EQ(ok.signal, "");

    TaskEnd three;
    three.exit_status = 3;
    auto v = judged(three);
    EXPECT_EQ(v.state, HostState::failed);
    EXPECT_EQ(v.stage, FailureStage::exec);
    EXPECT_EQ(v.exit_code, 3);

    TaskEnd killed;
    killed.exit_signal = "KILL";
    v = judged(killed);
    EXPECT_EQ(v.exit_code, 137);
    EXPECT_EQ(v.signal, "KILL");

    TaskEnd by_shell; // a shell reports its child's signal as 128+N
    by_shell.exit_status = 143;
    EXPECT_EQ(judged(by_shell).signal, "TERM");
}

TEST(TaskResult, ASessionThatEndedBeforeTheCommandStartedSaysSo) {
    TaskEnd end;
    end.exit_status = 255;
    end.started = false;
    auto v = judged(end);
    EXPECT_EQ(v.stage, FailureStage::session);
    EXPECT_NE(v.message.find("closed the session after login, before the command started "
                             "(exit 255, nothing printed)"),
              std::string::npos)
        << v.message;
    v = judged(end, {"bash: not found"});
    EXPECT_EQ(v.message, "the command did not start (exit 255): bash: not found");
    end.cancelled = true; // stopped before its first line: a cancel, not a server's close
    EXPECT_NE(judged(end).stage, FailureStage::session);
}

TEST(TaskResult, TimeoutReportedFailureAndCancelOverrideTheExit) {
    TaskEnd end;
    end.exit_status = 143;
    end.timed_out = true;
    auto v = judged(end);
    EXPECT_EQ(v.stage, FailureStage::timeout);
    EXPECT_EQ(v.message, "still running after --timeout 30 s; its process group was killed");

    TaskEnd reported;
    reported.exit_status = 143;
    reported.cancelled = true;
    reported.reported_exit = -9; // torchrun: a worker killed by SIGKILL
    v = judged(reported);
    EXPECT_EQ(v.state, HostState::failed);
    EXPECT_EQ(v.exit_code, 137);
    EXPECT_EQ(v.signal, "KILL");

    TaskEnd cancelled;
    cancelled.exit_status = 143;
    cancelled.cancelled = true;
    v = judged(cancelled);
    EXPECT_EQ(v.state, HostState::cancelled);
    EXPECT_EQ(v.stage, FailureStage::in_step);
}

TEST(TaskResult, TransfersAndBrokenChannels) {
    TaskEnd push;
    push.how = TaskEnd::How::transfer_failed;
    push.transfer_stage = FailureStage::push;
    push.error = "creating /x: permission denied";
    auto v = judged(push);
    EXPECT_EQ(v.stage, FailureStage::push);
    EXPECT_EQ(v.message, push.error);
    EXPECT_FALSE(v.exit_code);
    EXPECT_FALSE(v.signal);

    TaskEnd done;
    done.how = TaskEnd::How::transferred;
    EXPECT_EQ(judged(done).state, HostState::done);

    TaskEnd broken;
    broken.how = TaskEnd::How::channel_failed;
    broken.error = "channel closed";
    EXPECT_EQ(judged(broken).stage, FailureStage::channel);

    // A Slurm node that failed under its task: lost, and never retried as a command.
    TaskEnd gone;
    gone.how = TaskEnd::How::host_lost;
    gone.error = "Slurm lost the node";
    auto lost = judged(gone);
    EXPECT_EQ(lost.state, HostState::failed);
    EXPECT_EQ(lost.stage, FailureStage::lost);
    EXPECT_FALSE(exec::retry_command(lost, false, 0, 3));

    // Stopped by Slurm because another task of the step failed (--kill-on-bad-exit): not
    // this host's failure.
    TaskEnd collateral;
    collateral.exit_signal = "TERM";
    collateral.stopped_with_others = true;
    EXPECT_EQ(judged(collateral).state, HostState::cancelled);
}

TEST(TaskResult, OnlyACommandsOwnFailureIsRetried) {
    TaskEnd failed;
    failed.exit_status = 1;
    auto v = judged(failed);
    EXPECT_TRUE(exec::retry_command(v, false, 0, 3));
    EXPECT_TRUE(exec::retry_command(v, false, 2, 3));
    EXPECT_FALSE(exec::retry_command(v, false, 3, 3)) << "attempts used up";
    EXPECT_FALSE(exec::retry_command(v, true, 0, 3)) << "the run is being cancelled";
    TaskEnd timed_out = failed;
    timed_out.timed_out = true;
    EXPECT_FALSE(exec::retry_command(judged(timed_out), false, 0, 3));
    TaskEnd never = failed;
    never.started = false;
    EXPECT_FALSE(exec::retry_command(judged(never), false, 0, 3)) << "a session, not the command";
}

TEST(TaskResult, AMissingToolIsSaidInWordsAndNeverRetried) {
    TaskEnd missing;
    missing.exit_status = 127;
    auto v = judged(missing, {"bash: line 4: huggingface-cli: command not found"});
    EXPECT_EQ(v.state, HostState::failed);
    EXPECT_EQ(v.message, "command not found (exit 127)");
    EXPECT_FALSE(exec::retry_command(v, false, 0, 3));
    TaskEnd not_executable;
    not_executable.exit_status = 126;
    auto n = judged(not_executable);
    EXPECT_EQ(n.message, "command not executable (exit 126)");
    EXPECT_FALSE(exec::retry_command(n, false, 0, 3));
}
