#pragma once
// A LaunchPlan is everything a command will do, decided before any connection is made:
// the hosts, then stages run one after another, each a set of per-host tasks run in
// parallel. --dry-run prints it; the executor carries it out and decides nothing.

#include "clusterctl/config/host_spec.hpp"
#include "clusterctl/plan/remote_command.hpp"

#include <optional>
#include <string>
#include <vector>

namespace clusterctl::plan {

enum class StageKind {
    run,   // run a RemoteCommand on each task's host
    push,  // copy files to each task's host
    fetch, // copy a remote file or tree (source) from the task's host to a local directory
};

inline const char* to_string(StageKind kind) {
    return kind == StageKind::run ? "run" : kind == StageKind::push ? "push" : "fetch";
}

// What a stage is for, where code after the run must find it (not by its name).
enum class StageRole {
    command, // a command of the user's or clusterctl's: exec, a setup step, a download, a query
    check,   // the pre-flight checks
    files,   // files copied: push, templates, a download fetched and distributed
    launch,  // the training job itself
};

// The subcommand a plan carries out, as the summary names it.
enum class Action {
    exec,
    push,
    setup,
    download,
    check,
    train,
    status,
    logs,
    stop,
    watch,
    stacks,
    after
};

inline const char* to_string(Action action) {
    constexpr const char* k_names[] = {"exec",   "push", "setup", "download", "check",  "train",
                                       "status", "logs", "stop",  "watch",    "stacks", "after"};
    return k_names[static_cast<int>(action)];
}

struct FileTransfer {
    std::string source;                 // a local path; empty when `content` is given
    std::optional<std::string> content; // a rendered template
    std::string destination;            // remote path
    int mode = 0644;
    bool recursive = false;
};

struct Task {
    std::size_t host = 0; // index into LaunchPlan::hosts
    RemoteCommand command;
    std::vector<FileTransfer> files;
};

// A stage watched for a hang (the training launch, a detached job's watch): what its
// hosts print is the job's sign of life (exec/hang_watch.hpp).
struct HangLimits {
    int timeout_s = 1800;         // no line for this long: a hang
    int startup_timeout_s = 7200; // the same, before the ranks' first line
    bool stop = true;             // tear the job down once its stacks are taken (else wait)
    bool ranks_prefixed = true;   // the ranks' lines carry torchrun's "[defaultN]:" (--tee)
    std::string job_id;           // whose ranks' stacks to take (the hook's folder)
};

struct Stage {
    std::string name;
    StageKind kind = StageKind::run;
    StageRole role = StageRole::command;
    std::vector<Task> tasks;
    int retries = 0;            // attempts after a failed command, with backoff (download)
    bool fail_fast = false;     // the first host failing here stops every host (train)
    bool all_must_pass = false; // a failure on any host keeps every host from what follows
    // A line holding this says the host's command has failed before it exits, with the
    // exit code after it (torchrun: "failed (exitcode: 1) local_rank: 0 ..."; its agent
    // then waits at an exit barrier for the other nodes, up to minutes). Empty: none.
    std::string failure_line;
    // What a host prints once clusterctl began stopping it is teardown noise (torchrun's
    // SignalException tracebacks), kept to its log: the training launch. Elsewhere (exec)
    // the last output of an interrupted command is shown as it comes.
    bool quiet_teardown = false;
    std::optional<HangLimits> hang; // watched for a hang: the training job
    // Said with a failure of exit code 127 (command not found): how to install the tool.
    std::string not_found_hint;
};

struct LaunchPlan {
    Action action = Action::exec;
    std::string job_id;
    std::vector<config::HostSpec> hosts;
    std::vector<Stage> stages;
    int fanout = 256;
    int command_timeout_s = 0;
    std::vector<std::string> notes; // said once, before the stages (e.g. the rank map)
};

} // namespace clusterctl::plan
