#include "slurm_jobs.hpp"

#include "clusterctl/plan/slurm.hpp"
#include "clusterctl/util/shell_quote.hpp"
#include "clusterctl/util/strings.hpp"
#include "detached.hpp"
#include "slurm_allocation.hpp"

#include <chrono>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <sys/stat.h>
#include <thread>

namespace clusterctl::cli {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string absolute(const std::string& path) {
    std::error_code ec;
    auto p = fs::absolute(path, ec);
    return ec ? path : p.lexically_normal().string();
}

// The config's secrets that come from this machine's environment, as the batch script
// reads them back: "export NAME='value'" lines, in a file only its owner reads. A secret
// from a file is read from that file by the clusterctl inside the job.
std::string secrets_file_text(const Inputs& inputs, const util::Environment& env) {
    std::string text;
    for (const auto& spec : inputs.config->secrets) {
        if (spec.source != config::SecretSpec::Source::env) continue;
        if (auto value = env.get(spec.reference))
            text += "export " + spec.reference + "=" + util::shell_quote(*value) + "\n";
    }
    return text;
}

bool write_private(const std::string& path, const std::string& text) {
    mode_t old = ::umask(077);
    std::ofstream out(path, std::ios::trunc);
    out << text;
    out.close();
    ::umask(old);
    return static_cast<bool>(out);
}

bool in_queue(const std::string& slurm_job) {
    return !slurm_queue_state(slurm_job).empty();
}

// The file from byte `from` on, onto `out`; where it ends now.
std::size_t copy_from(const std::string& path, std::size_t from, std::ostream& out) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return from;
    in.seekg(static_cast<std::streamoff>(from));
    std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    out << chunk << std::flush;
    return from + chunk.size();
}

std::string last_lines(const std::string& text, int n) {
    if (n < 0) return text;
    std::size_t at = text.size();
    if (at > 0 && text[at - 1] == '\n') --at;
    for (int i = 0; i < n && at != std::string::npos && at > 0; ++i)
        at = text.rfind('\n', at - 1);
    if (at == std::string::npos || n == 0) return n == 0 ? "" : text;
    return text.substr(at == 0 ? 0 : at + 1);
}

int slurm_status(Context& ctx, const report::JobRecord& record) {
    std::string queue = slurm_queue_state(record.slurm_job);
    std::string ended = queue.empty() ? slurm_job_end(record.slurm_job) : "";
    // FAILED or CANCELLED is the clusterctl inside ending as its record says; Slurm's own
    // reasons (TIMEOUT, NODE_FAIL, PREEMPTED, ...) are news.
    if (record.outcome != report::JobOutcome::none &&
        (ended.rfind("FAILED", 0) == 0 || ended.rfind("CANCELLED", 0) == 0))
        ended.clear();
    std::string state = slurm_batch_state(record);
    if (ctx.options.json) {
        nlohmann::json j = job_json(record, std::nullopt);
        j["state"] = state;
        j["slurm"] = {{"job", record.slurm_job},
                      {"queue", queue.empty() ? nlohmann::json() : nlohmann::json(queue)},
                      {"end", ended.empty() ? nlohmann::json() : nlohmann::json(ended)}};
        ctx.out << j.dump() << "\n";
    } else {
        if (!queue.empty())
            ctx.out << fmt::format("job {}: Slurm job {} {}\n", record.job_id, record.slurm_job,
                                   queue);
        else if (record.outcome == report::JobOutcome::none)
            ctx.out << fmt::format("job {}: Slurm job {} has ended{}; the clusterctl in it "
                                   "recorded no end (see clusterctl logs {})\n",
                                   record.job_id, record.slurm_job,
                                   ended.empty() ? "" : ": " + ended, record.job_id);
        if (record.outcome != report::JobOutcome::none)
            ctx.out << describe_job(record, std::nullopt);
        else
            for (std::size_t i = 0; i < record.attempts.size(); ++i)
                ctx.out << "  " << report::describe_attempt(i, record.attempts[i]) << "\n";
        if (!ended.empty() && record.outcome != report::JobOutcome::none)
            ctx.out << fmt::format("  Slurm job {}: {}\n", record.slurm_job, ended);
    }
    return state == "failed" || state == "lost" ? 1 : 0;
}

int slurm_logs(Context& ctx, const report::JobRecord& record, bool follow, int tail) {
    std::string path =
        report::slurm_output_path(report::job_record_dir(ctx.env.home()), record.job_id);
    std::string text;
    {
        std::ifstream in(path, std::ios::binary);
        text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    ctx.out << last_lines(text, tail) << std::flush;
    if (!follow) return 0;
    std::size_t at = text.size();
    // Until Slurm has let the job go; then what it wrote last.
    while (in_queue(record.slurm_job)) {
        at = copy_from(path, at, ctx.out);
        std::this_thread::sleep_for(500ms);
    }
    copy_from(path, at, ctx.out);
    auto ended = report::read_job_record(report::job_record_dir(ctx.env.home()), record.job_id, {});
    return !ended || ended->outcome == report::JobOutcome::none ||
                   report::went_wrong(ended->outcome)
               ? 1
               : 0;
}

int slurm_stop(Context& ctx, const report::JobRecord& record) {
    std::string dir = report::job_record_dir(ctx.env.home());
    if (!in_queue(record.slurm_job)) {
        ctx.err << fmt::format("clusterctl: job {} is not running ({})\n", record.job_id,
                               slurm_batch_state(record));
        return 0;
    }
    report::JobRecord stopping = record;
    stopping.stop_requested = utc_timestamp();
    if (std::string error = report::write_job_record(dir, stopping); !error.empty())
        ctx.err << "clusterctl: warning: " << error << "\n";
    // The clusterctl inside the job stops it as Ctrl-C would (every node's process group,
    // TERM then KILL, its record written); a pending job is simply cancelled.
    run_command({"scancel", "--batch", "--signal=INT", record.slurm_job});
    for (int i = 0; i < 600 && in_queue(record.slurm_job); ++i)
        std::this_thread::sleep_for(100ms);
    if (in_queue(record.slurm_job)) {
        run_command({"scancel", record.slurm_job});
        for (int i = 0; i < 300 && in_queue(record.slurm_job); ++i)
            std::this_thread::sleep_for(100ms);
    }
    if (in_queue(record.slurm_job)) {
        ctx.err << fmt::format("clusterctl: job {}: Slurm job {} is still in the queue after "
                               "scancel\n",
                               record.job_id, record.slurm_job);
        return 1;
    }
    ctx.err << fmt::format("clusterctl: job {} stopped (Slurm job {})\n", record.job_id,
                           record.slurm_job);
    return 0;
}

} // namespace

std::string slurm_queue_state(const std::string& slurm_job) {
    auto seen = run_command({"squeue", "-h", "-j", slurm_job, "-o", "%T|%r|%N"});
    std::string line(util::trim(seen.out));
    if (seen.status != 0 || line.empty()) return "";
    std::string state = line.substr(0, line.find('|'));
    std::string rest = line.substr(line.find('|') + 1);
    std::string reason = rest.substr(0, rest.find('|'));
    std::string nodes = rest.substr(rest.find('|') + 1);
    if (state == "PENDING") return fmt::format("pending ({})", reason);
    if (state == "RUNNING") return fmt::format("running on {}", nodes);
    return util::to_lower(state);
}

std::string slurm_batch_state(const report::JobRecord& record) {
    if (record.outcome != report::JobOutcome::none)
        return std::string(report::to_string(record.outcome));
    std::string queue = slurm_queue_state(record.slurm_job);
    if (queue.rfind("pending", 0) == 0) return "pending";
    if (!queue.empty()) return "running";
    return "lost";
}

int submit_detached_train(Context& ctx, const Inputs& inputs, bool no_check) {
    std::string job = ctx.options.job_id.empty() ? new_job_id(inputs) : ctx.options.job_id;
    std::string dir = report::job_record_dir(ctx.env.home());
    std::error_code ec;
    fs::create_directories(dir, ec);
    plan::BatchTrain batch;
    batch.clusterctl = self_executable();
    batch.config = absolute(ctx.options.config_path);
    batch.job_id = job;
    batch.no_check = no_check;
    for (const auto& set : ctx.options.sets)
        batch.overrides.insert(batch.overrides.end(), {"--set", set});
    for (const auto& env : ctx.options.envs)
        batch.overrides.insert(batch.overrides.end(), {"--env", env});
    if (!ctx.options.log_dir.empty())
        batch.log_dir = absolute(util::expand_tilde(ctx.options.log_dir, ctx.env));
    std::string secrets = secrets_file_text(inputs, ctx.env);
    if (!secrets.empty()) {
        batch.secrets_file = dir + "/" + job + ".secrets";
        if (!write_private(batch.secrets_file, secrets)) {
            ctx.err << fmt::format("clusterctl: error: cannot write {}\n", batch.secrets_file);
            return 1;
        }
    }
    std::string script = dir + "/" + job + ".sbatch";
    if (!write_private(script, plan::batch_train_script(batch))) {
        ctx.err << fmt::format("clusterctl: error: cannot write {}\n", script);
        return 1;
    }
    auto argv = plan::sbatch_argv(inputs.config->slurm, nodes_wanted(*inputs.config),
                                  "clusterctl-" + job, report::slurm_output_path(dir, job));
    argv.push_back("--open-mode=append");
    argv.push_back(script);
    auto submitted = run_command(argv, &inputs.srun_environment);
    std::string id(util::trim(submitted.out));
    if (submitted.status != 0 || !plan::is_slurm_job_id(id)) {
        fs::remove(batch.secrets_file, ec);
        ctx.err << fmt::format("clusterctl: error: Slurm refused the job: {}\n",
                               submitted.status == 127 ? "sbatch is not on PATH"
                                                       : std::string(util::trim(submitted.err)));
        return submitted.status == 127 ? 2 : 1;
    }
    id = id.substr(0, id.find(';'));
    report::JobRecord record;
    record.job_id = job;
    record.started = utc_timestamp();
    record.config = batch.config;
    record.slurm_job = id;
    record.slurm_batch = true;
    if (std::string error = report::write_job_record(dir, record); !error.empty())
        ctx.err << "clusterctl: warning: " << error << "\n";
    if (!ctx.options.json) ctx.out << job << "\n" << std::flush;
    if (!ctx.options.quiet)
        ctx.err << fmt::format("clusterctl: job {} submitted as Slurm job {}; clusterctl runs it "
                               "inside the allocation:\n  clusterctl status {}\n  clusterctl "
                               "logs -f {}\n  clusterctl stop {}\n",
                               job, id, job, job, job);
    return 0;
}

int slurm_job_command(Context& ctx, const report::JobRecord& record, plan::JobAction action,
                      bool follow, int tail) {
    switch (action) {
    case plan::JobAction::status:
        return slurm_status(ctx, record);
    case plan::JobAction::logs:
        return slurm_logs(ctx, record, follow, tail);
    case plan::JobAction::stop:
        return slurm_stop(ctx, record);
    default:
        ctx.err << "clusterctl: not for a Slurm batch job\n";
        return 2;
    }
}

} // namespace clusterctl::cli
