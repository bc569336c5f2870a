#pragma once
// Carrying out a training job's recovery (train.restarts; the rules are plan/recovery's):
// after an attempt failed, check the nodes the next may take (the pre-flight check, on the
// nodes left and the spares), decide, say it, wait the backoff (Ctrl-C ends the wait,
// exit 130), and find the step the next attempt resumes from. An attached `train` and a
// detached job's supervisor both drive it. Private to cli/.

#include "clusterctl/plan/recovery.hpp"
#include "clusterctl/report/job_record.hpp"
#include "context.hpp"

#include <optional>
#include <string>
#include <vector>

namespace clusterctl::cli {

// How an attempt ended, from its run's summary (attached: the launch; detached: the
// supervisor's watch, whose job states name a node whose processes vanished as lost).
plan::AttemptEnd attempt_end(const report::RunSummary& run, const std::vector<std::string>& nodes,
                             double seconds);

class JobRecovery {
public:
    // `log_root`: where the attempts' folders go (the first attempt's log folder).
    JobRecovery(Context& ctx, const config::TrainSettings& train,
                const std::vector<config::HostSpec>& hosts, std::string job_id,
                std::string log_root);

    bool enabled() const { return m_policy.restarts > 0; }
    // What the job has been through, to record (restarts used, nodes left out); the record's
    // to start from when a supervisor takes over a job.
    const plan::RecoveryState& state() const { return m_state; }
    void restore(const report::JobRecord& record);

    // After attempt `end` failed: the next attempt's nodes, or nothing (said why, and in
    // `attempt.next`). `interrupted`: Ctrl-C or SIGTERM came while waiting.
    std::optional<std::vector<std::string>>
    after(const plan::AttemptEnd& end, report::AttemptRecord& attempt, bool& interrupted);

    // The step of the newest checkpoint the next attempt finds (from its first node).
    std::optional<long> resume_step(const std::string& first_node);

    // Where attempt N (from 1) keeps its logs.
    std::string attempt_log_dir(int attempt) const;

private:
    Context& m_ctx;
    plan::RestartPolicy m_policy;
    plan::RecoveryState m_state;
    std::vector<std::string> m_all_spares;
    std::string m_job_id, m_log_root;
};

} // namespace clusterctl::cli
