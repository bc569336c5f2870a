#pragma once
// What clusterctl keeps, on the machine it runs on, about a detached job:
// ~/.clusterctl/jobs/JOB.json, written by `train --detach`, read by status, logs and stop.
// It holds where the job's hosts came from (so a later command reaches the same ones from
// any directory) and their names; nothing secret.

#include "clusterctl/util/result.hpp"

#include <optional>
#include <string>
#include <vector>

namespace clusterctl::report {

struct JobRecord {
    std::string job_id;
    std::string started; // UTC, ISO 8601
    std::string config;  // absolute path of the config it was started with, or empty
    std::string hostfile, hosts, exclude, ssh_config; // the flags it was started with
    std::vector<std::string> nodes;                   // by node rank
};

// The folder of records: HOME/.clusterctl/jobs.
std::string job_record_dir(const std::string& home);

// Writes DIR/JOB.json; an error message, or empty.
std::string write_job_record(const std::string& dir, const JobRecord& record);

// `job_id` empty: the job started last. Errors (at `where`, the JOB argument) name the
// file, or say there is none.
util::Result<JobRecord> read_job_record(const std::string& dir, const std::string& job_id,
                                        const util::SourceLocation& where);

} // namespace clusterctl::report
