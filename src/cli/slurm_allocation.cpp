#include "slurm_allocation.hpp"

#include "clusterctl/plan/slurm.hpp"
#include "clusterctl/util/pipe.hpp"
#include "clusterctl/util/strings.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace clusterctl::cli {
namespace {

std::string trim(const std::string& text) {
    return std::string(util::trim(text));
}

// Slurm's pending reasons that no wait will clear: the request is wrong, not early.
constexpr std::string_view k_never_reasons[] = {
    "PartitionTimeLimit",
    "PartitionNodeLimit",
    "BadConstraints",
    "AccountNotAllowed",
    "InvalidAccount",
    "InvalidQOS",
    "QOSMaxWallDurationPerJobLimit",
    "QOSMaxNodePerJobLimit",
    "PartitionDown",
    "PartitionInactive",
    "ReqNodeNotAvail, UnavailableNodes",
};

bool never_runs(std::string_view reason) {
    return std::any_of(std::begin(k_never_reasons), std::end(k_never_reasons),
                       [&](std::string_view r) { return reason.rfind(r, 0) == 0; });
}

// "KEY=VALUE KEY=VALUE ..." of scontrol show job -o: VALUE of KEY.
std::string field(const std::string& line, const std::string& key) {
    std::size_t at = line.find(" " + key + "=");
    if (at == std::string::npos)
        at = line.rfind(key + "=", 0) == 0 ? 0 : std::string::npos;
    else
        ++at;
    if (at == std::string::npos) return "";
    at += key.size() + 1;
    return line.substr(at, line.find(' ', at) - at);
}

// The job's place among the partition's pending jobs, highest priority first ("" when
// Slurm does not say).
std::string queue_position(const std::string& job_id, const std::string& partition) {
    auto queued =
        run_command({"squeue", "-h", "-t", "PENDING", "-p", partition, "-S", "-p", "-o", "%i"});
    if (queued.status != 0) return "";
    auto ids = util::split(trim(queued.out), '\n');
    auto it = std::find(ids.begin(), ids.end(), job_id);
    if (it == ids.end()) return "";
    std::size_t ahead = static_cast<std::size_t>(it - ids.begin());
    return ahead == 0 ? "next in the queue"
                      : fmt::format("{} job{} ahead", ahead, ahead == 1 ? "" : "s");
}

} // namespace

CommandOutput run_command(const std::vector<std::string>& argv,
                          const std::vector<std::string>* env) {
    CommandOutput result;
    util::UniqueFd out_read, out_write, err_read, err_write;
    if (!util::make_pipe(out_read, out_write) || !util::make_pipe(err_read, err_write))
        return {127, "", std::strerror(errno)};
    std::vector<std::string> words = argv;
    std::vector<char*> args;
    for (auto& w : words)
        args.push_back(w.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out_write.get(), 1);
    posix_spawn_file_actions_adddup2(&actions, err_write.get(), 2);
    pid_t pid = 0;
    std::vector<std::string> entries = env ? *env : std::vector<std::string>{};
    std::vector<char*> envp;
    for (auto& e : entries)
        envp.push_back(e.data());
    envp.push_back(nullptr);
    int rc =
        ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), env ? envp.data() : environ);
    posix_spawn_file_actions_destroy(&actions);
    out_write.reset();
    err_write.reset();
    if (rc != 0) return {127, "", fmt::format("{}: {}", argv.front(), std::strerror(rc))};
    pollfd fds[2] = {{out_read.get(), POLLIN, 0}, {err_read.get(), POLLIN, 0}};
    std::string* into[2] = {&result.out, &result.err};
    int open = 2;
    char buffer[8192];
    while (open > 0) {
        if (::poll(fds, 2, -1) < 0 && errno != EINTR) break;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0) continue;
            ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
            if (n > 0) {
                into[i]->append(buffer, static_cast<std::size_t>(n));
            } else if (n == 0 || errno != EINTR) {
                fds[i].fd = -1;
                --open;
            }
        }
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

HeldAllocation::~HeldAllocation() {
    if (m_job.ours && !m_job.job_id.empty()) run_command({"scancel", m_job.job_id});
}

Allocated request_allocation(Context& ctx, const config::TrainingConfig& config,
                             const std::string& job_name, exec::InterruptWatch& interrupts) {
    auto argv = plan::allocation_argv(config.slurm, nodes_wanted(config), "clusterctl-" + job_name);
    auto submitted = run_command(argv);
    if (submitted.status == 127)
        return {std::nullopt,
                report_error(ctx, util::error_at({config.path, 1, 1},
                                                 "no Slurm commands found: sbatch is not on PATH",
                                                 "run clusterctl where Slurm's client commands "
                                                 "are (a login node), or install slurm-client"))};
    std::string said = trim(submitted.err);
    if (submitted.status != 0 || !plan::is_slurm_job_id(trim(submitted.out))) {
        std::string hint = "check the slurm: section against `sinfo` and `sacctmgr show assoc`";
        std::string key;
        if (said.find("invalid partition") != std::string::npos) {
            hint = "Slurm does not know slurm.partition; `sinfo -s` lists the partitions";
            key = "partition";
        } else if (said.find("Invalid account") != std::string::npos) {
            hint = "check slurm.account: `sacctmgr show assoc user=$USER`";
            key = "account";
        } else if (said.find("time limit") != std::string::npos) {
            hint = "slurm.time is over the partition's limit (`sinfo -o '%P %l'`)";
            key = "time";
        }
        auto at = config.slurm.at.find(key);
        util::SourceLocation where = at != config.slurm.at.end() ? at->second
                                     : config.slurm.where.line > 0
                                         ? config.slurm.where
                                         : util::SourceLocation{config.path, 1, 1};
        return {std::nullopt,
                report_error(ctx, util::error_at(where,
                                                 fmt::format("Slurm refused the allocation: {}",
                                                             said.empty() ? "sbatch failed" : said),
                                                 hint))};
    }
    std::string id = trim(submitted.out);
    id = id.substr(0, id.find(';'));
    SlurmJob job{id, "", true};
    auto give_back = [&] { run_command({"scancel", id}); };
    if (!ctx.options.quiet)
        ctx.err << fmt::format("clusterctl: asked Slurm for {} node{} (job {})\n",
                               config.slurm.nodes.value_or(nodes_wanted(config)),
                               nodes_wanted(config) == 1 ? "" : "s", id)
                << std::flush;
    std::string last_said;
    int wait_ms = 50;
    auto began = std::chrono::steady_clock::now();
    while (true) {
        auto seen = run_command({"squeue", "-h", "-j", id, "-o", "%T|%r|%N|%P"});
        auto parts = util::split(trim(seen.out), '|');
        std::string state = parts.size() > 0 ? parts[0] : "";
        std::string reason = parts.size() > 1 ? parts[1] : "";
        if (state == "RUNNING" && parts.size() > 2 && !parts[2].empty()) {
            job.nodes = parts[2];
            if (!ctx.options.quiet)
                ctx.err << fmt::format("clusterctl: Slurm job {} running on {} after {:.1f} s\n",
                                       id, job.nodes,
                                       std::chrono::duration<double>(
                                           std::chrono::steady_clock::now() - began)
                                           .count())
                        << std::flush;
            return {job, 0};
        }
        if (state.empty() || (state != "PENDING" && state != "CONFIGURING" && state != "RUNNING")) {
            std::string end = slurm_job_end(id);
            ctx.err << fmt::format("clusterctl: error: Slurm job {} ended before it started: {}\n",
                                   id, end.empty() ? (state.empty() ? "gone" : state) : end);
            give_back();
            return {std::nullopt, 1};
        }
        if (state == "PENDING" && never_runs(reason)) {
            give_back();
            return {std::nullopt,
                    report_error(
                        ctx, util::error_at(config.slurm.where.line > 0
                                                ? config.slurm.where
                                                : util::SourceLocation{config.path, 1, 1},
                                            fmt::format("Slurm will never start job {}: pending "
                                                        "with reason {}",
                                                        id, reason),
                                            "ask for what the partition allows (`scontrol show "
                                            "partition`); the job was cancelled"))};
        }
        std::string now = state == "PENDING" ? fmt::format("pending ({}{})", reason,
                                                           parts.size() > 3 && !parts[3].empty()
                                                               ? ", " + queue_position(id, parts[3])
                                                               : "")
                                             : "configuring its nodes";
        if (now != last_said && !ctx.options.quiet) {
            ctx.err << fmt::format("clusterctl: Slurm job {}: {}\n", id, now) << std::flush;
            last_said = now;
        }
        // Slurm schedules within a second or two of a submission: look soon, then each
        // second.
        pollfd fd{interrupts.fd(), POLLIN, 0};
        wait_ms = std::min(1000, wait_ms * 2);
        if (::poll(&fd, 1, wait_ms) > 0 && interrupts.count() > 0) {
            give_back();
            ctx.err << fmt::format("clusterctl: interrupted; Slurm job {} cancelled\n", id);
            return {std::nullopt, 130};
        }
    }
}

bool needs_allocation(const Context& ctx, const Inputs& inputs) {
    return inputs.slurm && inputs.slurm->job_id.empty() && !ctx.options.dry_run;
}

int in_allocation(Context& ctx, const Inputs& inputs, const std::function<int(Context&)>& body) {
    if (!needs_allocation(ctx, inputs)) return body(ctx);
    std::string name = ctx.options.job_id.empty() ? new_job_id(inputs) : ctx.options.job_id;
    std::optional<Allocated> allocated;
    {
        exec::InterruptWatch interrupts;
        allocated = request_allocation(ctx, *inputs.config, name, interrupts);
    }
    if (!allocated->job) return allocated->exit_code;
    HeldAllocation held(*allocated->job);
    util::Environment env = ctx.env;
    env.set("SLURM_JOB_ID", held.job().job_id);
    env.set("SLURM_JOB_NODELIST", held.job().nodes);
    Context with_env = rebound(ctx, env, ctx.out);
    with_env.options.job_id = name;
    return body(with_env);
}

std::string slurm_job_end(const std::string& job_id) {
    CommandOutput shown;
    std::string state;
    // A job Slurm is ending shows COMPLETING for a moment (its steps' tasks are being
    // killed) before how it ended; its reason may say it already.
    for (int i = 0; i < 20; ++i) {
        shown = run_command({"scontrol", "show", "job", "-o", job_id});
        if (shown.status != 0) return "";
        state = field(shown.out, "JobState");
        if (state == "COMPLETING" && field(shown.out, "Reason") == "TimeLimit") state = "TIMEOUT";
        if (state != "COMPLETING") break;
        std::this_thread::sleep_for(std::chrono::milliseconds(150));
    }
    if (state == "TIMEOUT") return "TIMEOUT (the allocation's time limit, slurm.time, was reached)";
    if (state == "NODE_FAIL") {
        auto down = run_command({"sinfo", "-h", "-N", "-n", field(shown.out, "NodeList"), "-t",
                                 "down,drain,fail,failing,no_respond", "-o", "%N"});
        std::string nodes = trim(down.out);
        std::replace(nodes.begin(), nodes.end(), '\n', ',');
        return fmt::format("NODE_FAIL (a node of the job failed{})",
                           nodes.empty() ? "" : ": " + nodes);
    }
    if (state == "CANCELLED" || state == "FAILED" || state == "PREEMPTED" ||
        state == "OUT_OF_MEMORY" || state == "DEADLINE" || state == "BOOT_FAIL") {
        std::string reason = field(shown.out, "Reason");
        return reason.empty() || reason == "None" ? state : fmt::format("{} ({})", state, reason);
    }
    return "";
}

} // namespace clusterctl::cli
