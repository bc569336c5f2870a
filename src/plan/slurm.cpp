#include "clusterctl/plan/slurm.hpp"

#include "clusterctl/config/host_list.hpp"
#include "clusterctl/plan/control_line.hpp"
#include "clusterctl/util/base64.hpp"
#include "clusterctl/util/shell_quote.hpp"
#include "clusterctl/util/shell_script.hpp"

#include <fmt/format.h>
#include <map>

namespace clusterctl::plan {

std::vector<std::string> srun_argv(const StepOptions& step, const std::string& task_command) {
    // Slurm reads host lists as we write them: node-[001-008].
    std::string nodes = config::fold_host_list(step.nodes);
    std::size_t n = step.nodes.size();
    std::vector<std::string> argv = {
        "srun",
        "--jobid=" + step.job_id,
        fmt::format("--nodes={}", n),
        fmt::format("--ntasks={}", n),
        "--ntasks-per-node=1",
        "--nodelist=" + nodes,
        // Beside a running step (the stacks of a hang, a detached job's watch).
        "--overlap",
        "--input=all",
        "--label",
        "--job-name=" + step.name,
        fmt::format("--kill-on-bad-exit={}", step.kill_on_bad_exit ? 1 : 0),
    };
    if (step.gpus_per_node && *step.gpus_per_node > 0)
        argv.push_back(fmt::format("--gpus-per-node={}", *step.gpus_per_node));
    if (!step.chdir.empty()) argv.push_back("--chdir=" + step.chdir);
    argv.insert(argv.end(), {"bash", "-c", task_command});
    return argv;
}

std::string slurm_task_command(const std::string& wrapper) {
    return control_line_command(k_control_node, "\"${SLURMD_NODENAME-}\"", true) + "\n" +
           control_line_command(k_control_node, "\"${SLURMD_NODENAME-}\"") + "\n" + wrapper;
}

std::string step_script(const std::vector<std::pair<std::string, std::string>>& node_scripts) {
    // Nodes with the same script share a case branch: a stage's script is the same on most.
    std::vector<std::pair<std::vector<std::string>, std::string>> branches; // (nodes, script)
    std::map<std::string, std::size_t> by_script;
    for (const auto& [node, script] : node_scripts) {
        auto [it, fresh] = by_script.emplace(script, branches.size());
        if (fresh)
            branches.push_back({{node}, script});
        else
            branches[it->second].first.push_back(node);
    }
    util::ShellScript out;
    out.add("case ${SLURMD_NODENAME-} in\n");
    for (const auto& [nodes, script] : branches) {
        out.add("{}", nodes.front());
        for (std::size_t i = 1; i < nodes.size(); ++i)
            out.add("|{}", nodes[i]);
        out.add(") __clusterctl_script={} ;;\n", script);
    }
    out.add("*) __clusterctl_script='echo \"clusterctl: no script for node "
            "${SLURMD_NODENAME-?}\" >&2; exit 127' ;;\nesac\n");
    out.add("(eval \"$__clusterctl_script\")\n__clusterctl_exit=$?\n");
    out.add_command(control_line_command(k_control_exit, "\"$__clusterctl_exit\"", true));
    out.add_command(control_line_command(k_control_exit, "\"$__clusterctl_exit\""));
    out.add("exit \"$__clusterctl_exit\"\n");
    return std::move(out).str();
}

std::string files_script(const std::vector<ScriptFile>& files, const std::string& tag) {
    util::ShellScript out;
    out.add("set -e\n");
    for (const auto& f : files) {
        std::string mode = fmt::format("{:o}", f.mode);
        if (f.directory) {
            out.add("mkdir -p -- {}\nchmod {} -- {}\n", f.path, mode, f.path);
            continue;
        }
        // base64's alphabet is one shell word as it is; printf is bash's own: no argv limit.
        std::string partial = f.path + ".clusterctl-partial." + tag;
        out.add("printf '%s' {} | base64 -d > {}\n", util::base64_encode(f.bytes), partial);
        out.add("chmod {} -- {}\nmv -f -- {} {}\n", mode, partial, partial, f.path);
    }
    return std::move(out).str();
}

std::vector<std::string> sbatch_argv(const config::SlurmSettings& slurm, int nodes,
                                     const std::string& job_name, const std::string& output) {
    std::vector<std::string> argv = {"sbatch", "--parsable", "--job-name=" + job_name,
                                     fmt::format("--nodes={}", slurm.nodes.value_or(nodes)),
                                     "--output=" + output};
    const std::pair<const char*, const std::optional<std::string>*> words[] = {
        {"--partition", &slurm.partition},
        {"--account", &slurm.account},
        {"--qos", &slurm.qos},
        {"--time", &slurm.time},
        {"--constraint", &slurm.constraint},
        {"--reservation", &slurm.reservation},
    };
    for (auto [flag, value] : words)
        if (*value) argv.push_back(fmt::format("{}={}", flag, **value));
    if (slurm.gpus_per_node && *slurm.gpus_per_node > 0)
        argv.push_back(fmt::format("--gpus-per-node={}", *slurm.gpus_per_node));
    argv.insert(argv.end(), slurm.sbatch_options.begin(), slurm.sbatch_options.end());
    return argv;
}

std::vector<std::string> allocation_argv(const config::SlurmSettings& slurm, int nodes,
                                         const std::string& job_name) {
    auto argv = sbatch_argv(slurm, nodes, job_name, "/dev/null");
    // The job holds the nodes and runs nothing of its own: every stage is a step in it.
    argv.push_back("--wrap=exec sleep 2147483647");
    return argv;
}

std::string batch_train_script(const BatchTrain& batch) {
    util::ShellScript out;
    out.add("#!/bin/bash\n# Written by clusterctl train --detach: clusterctl runs the job "
            "inside this allocation.\n");
    if (!batch.secrets_file.empty())
        out.add("s={}\nif [ -f \"$s\" ]; then set -a; . \"$s\"; set +a; rm -f -- \"$s\"; fi\n",
                batch.secrets_file);
    out.add("export CLUSTERCTL_SLURM_BATCH={}\n", batch.job_id);
    std::vector<std::string> argv = {batch.clusterctl, "-c", batch.config, "--job-id",
                                     batch.job_id};
    if (!batch.log_dir.empty()) argv.insert(argv.end(), {"--log-dir", batch.log_dir});
    argv.insert(argv.end(), batch.overrides.begin(), batch.overrides.end());
    argv.push_back("train");
    if (batch.no_check) argv.push_back("--no-check");
    out.add("exec {}\n", util::ShellWords{argv});
    return std::move(out).str();
}

bool is_slurm_job_id(const std::string& text) {
    std::string id = text.substr(0, text.find(';'));
    return !id.empty() && id.size() < 20 && id.find_first_not_of("0123456789") == std::string::npos;
}

} // namespace clusterctl::plan
