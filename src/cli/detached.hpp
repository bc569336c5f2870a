#pragma once
// Detached jobs, on the machine clusterctl runs on: a job's record as the inputs of a later
// command, and its supervisor: a clusterctl process of its own session (setsid) that
// follows every node's job over SSH until it ends there, and when one node fails or is
// lost, tears the job down on every node and records who failed first; the same rules as
// an attached run. Its liveness is a POSIX lock on JOB.lock: held while it runs, gone with
// it however it ends. Private to cli/.

#include "clusterctl/plan/detached_job.hpp"
#include "clusterctl/report/job_record.hpp"
#include "clusterctl/util/unique_fd.hpp"
#include "context.hpp"

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace clusterctl::cli {

// Now, as a record writes it: 2026-11-25T10:15:00Z.
std::string utc_timestamp();

// This clusterctl's own path (/proc/self/exe): what a supervisor or a batch job runs.
std::string self_executable();

// The record of `job` ("": the latest), whose inputs (config, hostfile, hosts, ssh_config)
// become this command's unless given again. `job_at` locates an error.
util::Result<report::JobRecord> load_job(Context& ctx, const std::string& job,
                                         const util::SourceLocation& job_at);

// The job's supervision lock, taken (closing the fd lets it go); an empty fd when another
// process holds it.
util::UniqueFd take_job_lock(const std::string& jobs_dir, const std::string& job_id);

// The PID of the process that holds the job's supervision lock, if one does.
std::optional<long> running_supervisor(const std::string& jobs_dir, const std::string& job_id);

// Starts `clusterctl supervise --foreground JOB` in a session of its own (stdin /dev/null,
// output into JOB.supervisor.log) and waits until it holds the lock. Its PID, or why not.
util::Result<long> spawn_supervisor(const Context& ctx, const std::string& job_id);

// The supervisor itself: takes the lock (0 at once when another holds it), follows the
// job, tears it down when a node fails, records how it ended. Exit code: 0 when the job
// succeeded or was stopped, 1 when it failed, 130 interrupted (the job runs on).
int supervise_job(Context& ctx, const report::JobRecord& record);

// One line saying what the record knows of the job, for status: its end (who failed
// first), or whether it is supervised.
std::string describe_job(const report::JobRecord& record, std::optional<long> supervisor);

// The job's state as `jobs` and `status --json` name it: how it ended (succeeded, failed,
// lost, stopped), else running (supervised) or unsupervised.
std::string job_state(const report::JobRecord& record, std::optional<long> supervisor);

// The record as JSON, for `jobs --json` and `status --json`.
nlohmann::json job_json(const report::JobRecord& record, std::optional<long> supervisor);

// Runs `action` on every node of the job (as status, logs, stop do); its summary, or
// nothing when the inputs could not be loaded (said, with `code` the exit code).
std::optional<report::RunSummary> run_job_plan(Context& ctx, const report::JobRecord& record,
                                               plan::JobAction action, int& code,
                                               bool follow = false);

} // namespace clusterctl::cli
