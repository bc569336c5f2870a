#include "clusterctl/output/dry_run.hpp"

#include "clusterctl/config/host_list.hpp"
#include "clusterctl/output/host_table.hpp"
#include "clusterctl/plan/slurm.hpp"
#include "clusterctl/util/shell_quote.hpp"
#include "json_plan.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <map>

namespace clusterctl::output {
namespace {

std::string script_for_display(const plan::RemoteCommand& command) {
    return plan::render_script(command,
                               [](std::string_view) { return std::string(config::k_secret_mask); });
}

std::string indent(const std::string& text, std::string_view prefix) {
    std::string out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string::npos) end = text.size();
        out += fmt::format("{}{}\n", prefix, std::string_view(text).substr(pos, end - pos));
        pos = end + 1;
    }
    return out;
}

std::string describe_file(const plan::FileTransfer& f) {
    if (f.content)
        return fmt::format("(template, {} bytes) -> {}  mode {:04o}", f.content->size(),
                           f.destination, f.mode);
    return fmt::format("{}{} -> {}", f.source, f.recursive ? " (recursive)" : "", f.destination);
}

// Tasks whose rendered text is the same are shown once, under their folded host list.
std::string render_stage_body(const plan::LaunchPlan& plan, const plan::Stage& stage) {
    std::vector<std::pair<std::string, std::vector<std::string>>> groups;
    std::map<std::string, std::size_t> index;
    for (const auto& task : stage.tasks) {
        std::string text;
        if (stage.kind == plan::StageKind::run) {
            text = indent(script_for_display(task.command), "    | ");
        } else {
            for (const auto& f : task.files)
                text += "    " + describe_file(f) + "\n";
        }
        auto [it, inserted] = index.emplace(text, groups.size());
        if (inserted) groups.push_back({text, {}});
        groups[it->second].second.push_back(plan.hosts[task.host].name);
    }
    std::string out;
    for (const auto& [text, hosts] : groups) {
        std::string label = config::fold_host_list(hosts);
        if (hosts.size() == 1) {
            const auto& h = *std::find_if(plan.hosts.begin(), plan.hosts.end(),
                                          [&](const auto& x) { return x.name == hosts.front(); });
            label += fmt::format(" ({}@{})", h.ssh.user, config::endpoint(h.address, h.ssh.port));
        } else {
            label += fmt::format(" ({} hosts)", hosts.size());
        }
        out += fmt::format("  {}:\n{}", label, text);
    }
    return out;
}

} // namespace

std::string render_dry_run_text(const plan::LaunchPlan& plan, const config::SecretStore& secrets) {
    std::string out = fmt::format(
        "clusterctl {} (dry run): {} host{}, job {}, fanout {}{}\n", plan::to_string(plan.action),
        plan.hosts.size(), plan.hosts.size() == 1 ? "" : "s", plan.job_id, plan.fanout,
        plan.command_timeout_s ? fmt::format(", timeout {}s", plan.command_timeout_s) : "");
    out += '\n';
    out += render_host_table(plan.hosts);
    for (const auto& note : plan.notes)
        out += "\nnote: " + note + "\n";
    std::size_t n = 1;
    for (const auto& stage : plan.stages) {
        out += fmt::format("\nstage {}/{}: {} ({} on {} host{}{})\n", n++, plan.stages.size(),
                           stage.name, plan::to_string(stage.kind), stage.tasks.size(),
                           stage.tasks.size() == 1 ? "" : "s",
                           stage.retries ? fmt::format(", {} retries", stage.retries) : "");
        if (const auto& h = stage.hang)
            out += fmt::format("  watched for a hang: no line for {} s ({} s before the ranks' "
                               "first), then their stacks are taken and the job is {}\n",
                               h->timeout_s, h->startup_timeout_s,
                               h->stop ? "torn down" : "left running");
        out += render_stage_body(plan, stage);
    }
    return secrets.mask_words(out);
}

std::string render_dry_run_json(const plan::LaunchPlan& plan, const config::SecretStore& secrets) {
    nlohmann::ordered_json j;
    j["action"] = plan::to_string(plan.action);
    j["job_id"] = plan.job_id;
    j["fanout"] = plan.fanout;
    j["command_timeout_s"] = plan.command_timeout_s;
    j["notes"] = nlohmann::ordered_json::array();
    for (const auto& note : plan.notes)
        j["notes"].push_back(secrets.mask_words(note));
    j["hosts"] = nlohmann::ordered_json::array();
    for (const auto& h : plan.hosts)
        j["hosts"].push_back(host_to_json(h));
    j["stages"] = nlohmann::ordered_json::array();
    for (const auto& stage : plan.stages) {
        nlohmann::ordered_json s;
        s["name"] = stage.name;
        s["kind"] = plan::to_string(stage.kind);
        s["retries"] = stage.retries;
        if (const auto& h = stage.hang)
            s["hang"] = {{"timeout_s", h->timeout_s},
                         {"startup_timeout_s", h->startup_timeout_s},
                         {"on_hang", h->stop ? "stop" : "wait"}};
        s["tasks"] = nlohmann::ordered_json::array();
        for (const auto& task : stage.tasks) {
            nlohmann::ordered_json t;
            t["host"] = plan.hosts[task.host].name;
            if (stage.kind == plan::StageKind::run) {
                t["script"] = secrets.mask_words(script_for_display(task.command));
            } else {
                t["files"] = nlohmann::ordered_json::array();
                for (const auto& f : task.files) {
                    nlohmann::ordered_json file;
                    file["source"] =
                        f.content ? nlohmann::ordered_json() : nlohmann::ordered_json(f.source);
                    file["destination"] = f.destination;
                    file["mode"] = fmt::format("{:04o}", f.mode);
                    file["recursive"] = f.recursive;
                    if (f.content) file["template_bytes"] = f.content->size();
                    t["files"].push_back(file);
                }
            }
            s["tasks"].push_back(t);
        }
        j["stages"].push_back(s);
    }
    return secrets.mask_words(j.dump(2)) + "\n";
}

namespace {

std::vector<std::string> step_argv(const plan::Stage& stage, const plan::LaunchPlan& plan,
                                   const SlurmDryRun& slurm) {
    plan::StepOptions step;
    step.job_id = slurm.job_id;
    for (const auto& task : stage.tasks)
        step.nodes.push_back(plan.hosts[task.host].name);
    step.kill_on_bad_exit = stage.fail_fast;
    if (stage.fail_fast) step.gpus_per_node = slurm.gpus_per_node;
    step.chdir = "$HOME";
    return plan::srun_argv(step, "<the remote wrapper>");
}

} // namespace

std::string render_slurm_text(const plan::LaunchPlan& plan, const SlurmDryRun& slurm) {
    std::string out = "\nSlurm:\n";
    if (!slurm.allocation.empty())
        out += "  not inside an allocation (SLURM_JOB_ID is unset): clusterctl asks for one,\n"
               "  waits for it, and cancels it when the command ends; the hosts above stand\n"
               "  for the nodes Slurm will name:\n    " +
               util::shell_join(slurm.allocation) + "\n";
    out += "  each stage is one step; every task reads the stage's scripts above on its\n"
           "  stdin and runs its own node's:\n";
    for (std::size_t i = 0; i < plan.stages.size(); ++i)
        out += fmt::format("    stage {} {}: {}\n", i + 1, plan.stages[i].name,
                           util::shell_join(step_argv(plan.stages[i], plan, slurm)));
    return out;
}

std::string render_slurm_json(const plan::LaunchPlan& plan, const SlurmDryRun& slurm,
                              const std::string& dry_run_json) {
    auto json = nlohmann::json::parse(dry_run_json, nullptr, false);
    if (json.is_discarded()) return dry_run_json;
    nlohmann::json steps = nlohmann::json::array();
    for (const auto& stage : plan.stages)
        steps.push_back({{"stage", stage.name}, {"argv", step_argv(stage, plan, slurm)}});
    json["slurm"] = {{"allocation", slurm.allocation}, {"steps", steps}};
    return json.dump() + "\n";
}

} // namespace clusterctl::output
