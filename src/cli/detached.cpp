#include "detached.hpp"

#include "after_steps.hpp"
#include "clusterctl/plan/detached_job.hpp"
#include "clusterctl/util/unique_fd.hpp"
#include "inputs.hpp"
#include "job_recovery.hpp"
#include "plan_runner.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <fmt/format.h>
#include <functional>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace clusterctl::cli {
namespace {

// A write lock on the whole file, as fcntl(2) takes and tests it.
struct flock whole_file_lock() {
    struct flock lock {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    return lock;
}

} // namespace

std::string self_executable() {
    char path[4096];
    ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
    return n > 0 ? std::string(path, static_cast<std::size_t>(n)) : "clusterctl";
}

std::optional<report::RunSummary> run_job_plan(Context& ctx, const report::JobRecord& record,
                                               plan::JobAction action, int& code, bool follow) {
    std::optional<report::RunSummary> seen;
    plan::JobQuery query{record.job_id, record.nodes, action, follow, -1, 10};
    code = run_planned(
        ctx, [&](const plan::PlanInputs& in) { return plan::plan_job_query(in, query); },
        [&](const plan::LaunchPlan&, const report::RunSummary& summary, int exit_code) {
            seen = summary;
            return exit_code;
        });
    return seen;
}

std::string job_state(const report::JobRecord& record, std::optional<long> supervisor) {
    if (record.outcome != report::JobOutcome::none)
        return std::string(report::to_string(record.outcome));
    if (record.attached && !supervisor) return "lost";
    return supervisor ? "running" : "unsupervised";
}

nlohmann::json job_json(const report::JobRecord& record, std::optional<long> supervisor) {
    nlohmann::json j{
        {"job_id", record.job_id},
        {"state", job_state(record, supervisor)},
        {"started", record.started},
        {"ended", record.ended.empty() ? nlohmann::json() : nlohmann::json(record.ended)},
        {"nodes", record.nodes},
        {"supervisor_pid", supervisor ? nlohmann::json(*supervisor) : nullptr},
        {"attached", record.attached},
        {"after", record.after.empty() ? nlohmann::json() : nlohmann::json(record.after)},
        {"first_failure", nullptr}};
    if (const auto& f = record.first_failure) j["first_failure"] = report::first_failure_json(*f);
    if (!record.attempts.empty()) {
        j["attempts"] = report::attempts_json(record.attempts);
        j["left_out"] = record.left_out;
        j["restarts_used"] = record.restarts_used;
    }
    return j;
}

std::string utc_timestamp() {
    std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm utc{};
    gmtime_r(&now, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}

util::Result<report::JobRecord> load_job(Context& ctx, const std::string& job,
                                         const util::SourceLocation& job_at) {
    auto record = report::read_job_record(report::job_record_dir(ctx.env.home()), job, job_at);
    if (!record) return record;
    // The inputs the job was started with, unless given again here.
    GlobalOptions& o = ctx.options;
    if (!ctx.config_given && !record->config.empty()) {
        o.config_path = record->config;
        ctx.config_given = true;
    }
    if (o.hostfile.empty()) o.hostfile = record->hostfile;
    if (o.hosts.empty()) o.hosts = record->hosts;
    if (o.exclude.empty()) o.exclude = record->exclude;
    if (o.ssh_config.empty()) o.ssh_config = record->ssh_config;
    if (o.sets.empty() && o.envs.empty()) {
        o.sets = record->sets;
        o.envs = record->envs;
    }
    ctx.secrets_needed = false;
    return record;
}

std::optional<long> running_supervisor(const std::string& jobs_dir, const std::string& job_id) {
    util::UniqueFd fd(
        ::open(report::job_lock_path(jobs_dir, job_id).c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return std::nullopt;
    struct flock lock = whole_file_lock();
    if (::fcntl(fd.get(), F_GETLK, &lock) != 0 || lock.l_type == F_UNLCK) return std::nullopt;
    return static_cast<long>(lock.l_pid);
}

util::Result<long> spawn_supervisor(const Context& ctx, const std::string& job_id) {
    std::string dir = report::job_record_dir(ctx.env.home());
    std::string log = report::supervisor_log_path(dir, job_id);
    std::string exe = self_executable();
    std::vector<std::string> args{exe, "supervise", "--foreground", job_id};
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // A session of its own: no terminal to lose, no process group a shell's logout signals.
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE})
        sigaddset(&defaults, sig);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr,
                             POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid = 0;
    int rc = ::posix_spawn(&pid, exe.c_str(), &actions, &attr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0)
        return util::fail(util::Diagnostic{
            {}, fmt::format("cannot start the supervisor: {}", std::strerror(rc)), ""});

    // It is supervising once it holds the lock; it may also find another holds it.
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < until) {
        if (auto holder = running_supervisor(dir, job_id)) return *holder;
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid)
            return util::fail(util::Diagnostic{
                {},
                fmt::format("the supervisor exited at once ({}); see {}",
                            WIFEXITED(status) ? fmt::format("exit {}", WEXITSTATUS(status))
                                              : fmt::format("signal {}", WTERMSIG(status)),
                            log),
                ""});
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return util::fail(util::Diagnostic{
        {},
        fmt::format("the supervisor (pid {}) did not start within 10 s; see {}", pid, log),
        ""});
}

util::UniqueFd take_job_lock(const std::string& jobs_dir, const std::string& job_id) {
    util::UniqueFd fd(::open(report::job_lock_path(jobs_dir, job_id).c_str(),
                             O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    struct flock lock = whole_file_lock();
    if (!fd || ::fcntl(fd.get(), F_SETLK, &lock) != 0) return {};
    return fd;
}

namespace {

// The job's settings and hosts as its inputs say now (for its recovery), or nothing.
struct JobInputs {
    config::TrainSettings train;
    std::vector<config::HostSpec> hosts;
};

std::optional<JobInputs> job_inputs(const Context& ctx) {
    auto inputs = load_inputs(ctx);
    if (!inputs || !inputs->config || !inputs->config->train) return std::nullopt;
    return JobInputs{*inputs->config->train, inputs->inventory.hosts};
}

// Relaunches the job detached, attempt `attempt` on `nodes` (checked already); false when
// its inputs could not be planned (said).
bool relaunch(Context& ctx, const report::JobRecord& record, int attempt,
              const std::vector<std::string>& nodes) {
    Context launch_ctx = ctx;
    launch_ctx.options.job_id = record.job_id;
    launch_ctx.options.log_dir = "";
    launch_ctx.secrets_needed = true; // the ranks need them again
    std::optional<report::RunSummary> seen;
    run_planned(
        launch_ctx,
        [&](const plan::PlanInputs& in) {
            plan::PlanInputs launch = in;
            launch.preflight = false;
            launch.detach = true;
            launch.attempt = attempt;
            launch.nodes = nodes;
            return plan::plan_train(launch);
        },
        [&](const plan::LaunchPlan&, const report::RunSummary& summary, int code) {
            seen = summary;
            return code;
        });
    return seen.has_value();
}

} // namespace

int supervise_job(Context& ctx, const report::JobRecord& started) {
    std::string dir = report::job_record_dir(ctx.env.home());
    util::UniqueFd lock_fd = take_job_lock(dir, started.job_id);
    if (!lock_fd) {
        auto holder = running_supervisor(dir, started.job_id);
        ctx.err << fmt::format("clusterctl: job {} is already supervised{}\n", started.job_id,
                               holder ? fmt::format(" (pid {})", *holder) : "");
        return 0;
    }
    // The record as it is now (a stop may have been asked meanwhile), with this PID.
    report::JobRecord record = started;
    auto update = [&](const std::function<void(report::JobRecord&)>& change) {
        auto fresh = report::read_job_record(dir, started.job_id, {});
        if (fresh) record = *fresh;
        change(record);
        if (std::string error = report::write_job_record(dir, record); !error.empty())
            ctx.err << "clusterctl: warning: " << error << "\n";
    };
    update([](report::JobRecord& r) { r.supervisor_pid = static_cast<long>(::getpid()); });
    if (record.outcome != report::JobOutcome::none) {
        ctx.err << fmt::format("clusterctl: job {} has ended ({})\n", record.job_id,
                               report::to_string(record.outcome));
        return 0;
    }
    // With train.restarts, the supervisor relaunches the job as an attached train would.
    std::optional<JobRecovery> recovery;
    if (auto inputs = job_inputs(ctx); inputs && inputs->train.restarts > 0) {
        recovery.emplace(ctx, inputs->train, inputs->hosts, record.job_id, "");
        update([](report::JobRecord& r) {
            if (r.attempts.empty()) r.attempts.push_back({r.nodes, r.started, "", {}, "", "", {}});
        });
        recovery->restore(record);
    }
    for (;;) {
        ctx.err << fmt::format("clusterctl: {} supervising job {} on {} nodes (pid {})\n",
                               utc_timestamp(), record.job_id, record.nodes.size(), ::getpid());
        auto began = std::chrono::steady_clock::now();
        int code = 0;
        auto watch = run_job_plan(ctx, record, plan::JobAction::watch, code);
        if (!watch) return code;
        update([](report::JobRecord&) {});
        report::JobEnd end = report::job_end(*watch, record);
        if (end.outcome == report::JobOutcome::none) {
            ctx.err << "clusterctl: supervision interrupted; the job runs on unsupervised\n";
            return 130;
        }
        plan::AttemptEnd attempt = attempt_end(
            *watch, record.nodes,
            std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count());
        attempt.succeeded = end.outcome == report::JobOutcome::succeeded;
        attempt.stopped = end.outcome == report::JobOutcome::stopped;
        if (report::went_wrong(end.outcome)) {
            ctx.err << fmt::format("clusterctl: {} {} failed first; tearing the job down on "
                                   "every node\n",
                                   utc_timestamp(),
                                   end.first_failure ? end.first_failure->node : "a node");
            // A node that cannot be reached is not tried again.
            report::JobRecord reachable = record;
            std::erase_if(reachable.nodes, [&](const std::string& n) {
                return std::find(attempt.lost.begin(), attempt.lost.end(), n) != attempt.lost.end();
            });
            int stop_code = 0;
            if (!reachable.nodes.empty())
                run_job_plan(ctx, reachable, plan::JobAction::stop, stop_code);
        }
        std::optional<std::vector<std::string>> next;
        if (recovery && !record.attempts.empty()) {
            report::AttemptRecord& last = record.attempts.back();
            report::close_attempt(last, end, utc_timestamp());
            bool interrupted = false;
            if (record.stop_requested.empty()) next = recovery->after(attempt, last, interrupted);
            auto attempts = record.attempts;
            update([&](report::JobRecord& r) {
                r.attempts = attempts;
                r.left_out = recovery->state().left_out;
                r.spares = recovery->state().spares;
                r.restarts_used = recovery->state().used;
            });
            if (interrupted) {
                ctx.err << "clusterctl: supervision interrupted before the restart\n";
                return 130;
            }
            if (next && !record.stop_requested.empty()) next.reset(); // stopped meanwhile
        }
        if (next) {
            auto resumed = recovery->resume_step(next->front());
            int attempt_index = static_cast<int>(record.attempts.size());
            update([&](report::JobRecord& r) {
                r.nodes = *next;
                r.attempts.push_back({*next, utc_timestamp(), "", {}, "", "", resumed});
            });
            if (relaunch(ctx, record, attempt_index, *next)) continue;
            end.outcome = report::JobOutcome::failed;
        }
        bool succeeded = end.outcome == report::JobOutcome::succeeded;
        update([&](report::JobRecord& r) {
            r.outcome = end.outcome;
            r.ended = utc_timestamp();
            r.first_failure = end.first_failure;
            if (succeeded) r.after = "running";
        });
        ctx.err << fmt::format("clusterctl: {} job {} {}\n", utc_timestamp(), record.job_id,
                               report::to_string(end.outcome));
        if (!succeeded) return report::went_wrong(end.outcome) ? 1 : 0;
        auto after = run_after_steps(ctx, record.job_id, record.nodes, "");
        update([&](report::JobRecord& r) {
            r.after = !after ? "" : after->exit_code == 0 ? "succeeded" : "failed";
            if (after && after->first_failure) r.first_failure = after->first_failure;
        });
        if (after)
            ctx.err << fmt::format("clusterctl: {} job {}: after: steps {}\n", utc_timestamp(),
                                   record.job_id, after->exit_code == 0 ? "succeeded" : "failed");
        return after ? after->exit_code : 0;
    }
}

namespace {

// What the record says of the job's state: how it ended (who failed first), or who runs it.
std::string describe_state(const report::JobRecord& record, std::optional<long> supervisor) {
    std::string head = fmt::format("job {}: ", record.job_id);
    if (report::went_wrong(record.outcome) && record.first_failure) {
        const auto& f = *record.first_failure;
        std::string what = record.outcome == report::JobOutcome::lost
                               ? fmt::format("was lost first ({})", f.stage)
                           : f.exit_code ? fmt::format("failed first (exit {})", *f.exit_code)
                                         : std::string("failed first");
        std::string text =
            fmt::format("{}{} ({}): {} {}: {}\n", head, report::to_string(record.outcome),
                        record.ended, f.node, what, f.message);
        for (const auto& line : f.last_lines)
            text += fmt::format("  {} | {}\n", f.node, line);
        return text;
    }
    if (record.after == "failed" && record.first_failure) {
        const auto& f = *record.first_failure;
        std::string text = fmt::format(
            "{}training succeeded ({}); the after: steps FAILED: {} failed in '{}'{}{}\n", head,
            record.ended, f.node, f.stage,
            f.exit_code ? fmt::format(" (exit {})", *f.exit_code) : "",
            f.message.empty() ? "" : ": " + f.message);
        for (const auto& line : f.last_lines)
            text += fmt::format("  {} | {}\n", f.node, line);
        return text;
    }
    if (record.outcome != report::JobOutcome::none)
        return fmt::format("{}{} ({}){}\n", head, report::to_string(record.outcome), record.ended,
                           record.after.empty() ? "" : "; after: steps " + record.after);
    if (record.attached && supervisor)
        return fmt::format("{}running, attached to clusterctl (pid {}); its lines are in {}\n",
                           head, *supervisor, record.log_dir);
    if (record.attached)
        return fmt::format("{}lost: the clusterctl running it (pid {}) went away without "
                           "recording its end; the nodes stopped the job when its connections "
                           "closed\n",
                           head, record.supervisor_pid);
    if (supervisor) return fmt::format("{}supervised (pid {})\n", head, *supervisor);
    return fmt::format("{}UNSUPERVISED: no supervisor runs for it (it was killed, or this "
                       "machine restarted); clusterctl supervise {} watches it again\n",
                       head, record.job_id);
}
} // namespace

std::string describe_job(const report::JobRecord& record, std::optional<long> supervisor) {
    std::string text = describe_state(record, supervisor);
    // With train.restarts: every attempt, where it ran and how it ended.
    for (std::size_t i = 0; i < record.attempts.size(); ++i)
        text += "  " + report::describe_attempt(i, record.attempts[i]) + "\n";
    return text;
}

} // namespace clusterctl::cli
