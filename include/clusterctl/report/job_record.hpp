#pragma once
// What clusterctl keeps, on the machine it runs on, about a training job:
// ~/.clusterctl/jobs/JOB.json, written by `train` (attached or --detach), read by status,
// logs, stop, stacks and jobs,
// and kept up to date by the job's supervisor. It holds where the job's hosts came from (so
// a later command reaches the same ones from any directory), their names, who supervises
// the job and how it ended; nothing secret. Beside it, JOB.lock is held (a POSIX lock) by
// the supervisor for as long as it runs, and JOB.supervisor.log is what it printed.

#include "clusterctl/report/host_outcome.hpp"
#include "clusterctl/util/result.hpp"

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace clusterctl::report {

// How a detached job ended, as its supervisor recorded it; none while it runs, or when
// nobody watched it end.
enum class JobOutcome { none, succeeded, failed, lost, stopped };
std::string_view to_string(JobOutcome outcome); // "" for none
JobOutcome parse_job_outcome(std::string_view text);
// failed or lost: a node's job failed, or a node went away.
inline bool went_wrong(JobOutcome outcome) {
    return outcome == JobOutcome::failed || outcome == JobOutcome::lost;
}

// One attempt of a job that restarts (train.restarts): where it ran and how it ended.
struct AttemptRecord {
    std::vector<std::string> nodes; // node rank 0 first
    std::string started, ended;     // UTC, ISO 8601
    JobOutcome outcome = JobOutcome::none;
    std::string failed;               // the node that failed first and how ("node-003 lost")
    std::string next;                 // what came of it: the restart, or why none
    std::optional<long> resumed_from; // the step of the checkpoint it started from
};

nlohmann::json attempts_json(const std::vector<AttemptRecord>& attempts);
// "attempt 1 on node-001,node-002,node-004: succeeded (resumed from step 10)"
std::string describe_attempt(std::size_t index, const AttemptRecord& attempt);

struct JobRecord {
    std::string job_id;
    std::string started; // UTC, ISO 8601
    std::string config;  // absolute path of the config it was started with, or empty
    std::string hostfile, hosts, exclude, ssh_config; // the flags it was started with
    std::vector<std::string> sets, envs;              // --set and --env
    std::vector<std::string> nodes;                   // by node rank
    std::string stop_requested;                       // when `clusterctl stop` was run
    // An attached run (`train` without --detach): the clusterctl running it holds JOB.lock
    // and is its supervisor; its lines are in log_dir on this machine, not on the nodes.
    bool attached = false;
    std::string log_dir;

    // On Slurm: the Slurm job the run was in. `slurm_batch`: the run IS that batch job
    // (train --detach on backend: slurm), so Slurm says whether it runs (squeue), stop is
    // scancel, and its lines are the batch job's output, DIR/JOB.slurm.out.
    std::string slurm_job;
    bool slurm_batch = false;

    long supervisor_pid = 0; // the last supervisor started; JOB.lock says whether it runs
    JobOutcome outcome = JobOutcome::none; // summary.json's "state"
    std::string ended;                     // when, as its supervisor saw it
    struct FirstFailure {
        std::string node;
        std::string stage;   // exec, lost, channel, ... (util::FailureStage's names)
        std::string message; // why, for a human
        std::optional<int> exit_code;
        std::vector<std::string> last_lines;
    };
    std::optional<FirstFailure> first_failure;
    // With train.restarts: every attempt so far (the last is the one running or that ended
    // the job), the spares not yet taken and the restarts used (an early failure counts 2).
    std::vector<AttemptRecord> attempts;
    std::vector<std::string> spares, left_out;
    int restarts_used = 0;
    // The config's after: steps, once training has succeeded: "" (none, or not yet),
    // "running", "succeeded" or "failed" (first_failure then names the step's failure;
    // `outcome` stays succeeded: the training did).
    std::string after;
};

// The job went wrong: its training failed or was lost, or its after: steps failed.
inline bool job_failed(const JobRecord& record) {
    return went_wrong(record.outcome) || record.after == "failed";
}

// The folder of records: HOME/.clusterctl/jobs.
std::string job_record_dir(const std::string& home);

// A node's job state, as the `job` control line of status, logs -f and the supervisor's
// watch says it (plan/control_line.hpp): "running PID", "exited CODE", "stopped CODE",
// "lost"; anything else is none.
struct NodeJobState {
    enum class Kind { none, running, exited, stopped, lost } kind = Kind::none;
    long value = 0; // running: the PID; exited, stopped: the exit code
};
NodeJobState parse_job_state(std::string_view text);
std::string_view to_string(NodeJobState::Kind kind); // "none", "running", ...

// How a supervised job ended, from its watch (every node followed until its job ended
// there, fail-fast) and its record: succeeded when every node exited 0; stopped when
// `clusterctl stop` was run or a node said it was stopped (and none failed first);
// otherwise failed (the first node to fail: its job exited non-zero or logged a failed
// worker, or its ranks hung: then the hang's lines are its last lines) or lost (the first node to
// fail went away: its connection, or its processes with no exit code). none: the watch was
// interrupted, so nobody knows yet.
struct JobEnd {
    JobOutcome outcome = JobOutcome::none;
    std::optional<JobRecord::FirstFailure> first_failure;
};
JobEnd job_end(const RunSummary& watch, const JobRecord& record);
// How an attached run ended, from its own summary: succeeded (exit 0), stopped
// (interrupted), failed or lost (its first failure's stage says which).
JobEnd attached_end(const RunSummary& run);
// An attempt's end (train.restarts): how, when (`ended`), and who failed first
// ("node-003 lost").
void close_attempt(AttemptRecord& attempt, const JobEnd& end, std::string ended);

// A first failure as the record, `jobs --json` and `status --json` write it.
nlohmann::json first_failure_json(const JobRecord::FirstFailure& failure);

// Writes DIR/JOB.json (a new file renamed over the old one: a reader never sees half of
// it); an error message, or empty.
std::string write_job_record(const std::string& dir, const JobRecord& record);

// DIR/JOB.lock, DIR/JOB.supervisor.log, and a Slurm batch job's output DIR/JOB.slurm.out.
std::string slurm_output_path(const std::string& dir, const std::string& job_id);
std::string job_lock_path(const std::string& dir, const std::string& job_id);
std::string supervisor_log_path(const std::string& dir, const std::string& job_id);

// Every record in DIR, the job started last first.
std::vector<JobRecord> list_job_records(const std::string& dir);

// `job_id` empty: the job started last. Errors (at `where`, the JOB argument) name the
// file, or say there is none.
util::Result<JobRecord> read_job_record(const std::string& dir, const std::string& job_id,
                                        const util::SourceLocation& where);

} // namespace clusterctl::report
