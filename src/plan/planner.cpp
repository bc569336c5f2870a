#include "clusterctl/plan/planner.hpp"

#include "clusterctl/config/host_list.hpp"
#include "clusterctl/plan/detached_job.hpp"
#include "clusterctl/plan/preflight.hpp"
#include "clusterctl/plan/torchrun.hpp"
#include "clusterctl/util/shell_script.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <fmt/ranges.h>

namespace clusterctl::plan {
namespace {

using util::error_at;
using util::fail;

LaunchPlan empty_plan(const PlanInputs& in, Action action) {
    LaunchPlan plan;
    plan.action = action;
    plan.job_id = in.job_id;
    plan.hosts = in.inventory.hosts;
    plan.fanout = in.inventory.fanout;
    plan.command_timeout_s = in.inventory.command_timeout_s;
    return plan;
}

Stage stage_on_all(const LaunchPlan& plan, std::string name, const RemoteCommand& command) {
    Stage stage;
    stage.name = std::move(name);
    stage.kind = StageKind::run;
    for (std::size_t i = 0; i < plan.hosts.size(); ++i)
        stage.tasks.push_back({i, command, {}});
    return stage;
}

util::Result<Stage> stage_on(const LaunchPlan& plan, const config::HostSelector& on,
                             std::string name, const RemoteCommand& command, int retries) {
    auto targets = config::select_hosts(on, plan.hosts);
    if (!targets) return fail(targets.error());
    Stage stage;
    stage.name = std::move(name);
    stage.kind = StageKind::run;
    stage.retries = retries;
    for (std::size_t host : *targets)
        stage.tasks.push_back({host, command, {}});
    return stage;
}

util::Result<const config::TrainingConfig*> need_config(const PlanInputs& in,
                                                        std::string_view what) {
    if (in.config) return in.config;
    return fail(error_at(in.command_at, fmt::format("{} needs a config file", what),
                         "give -c clusterctl.yaml"));
}

std::vector<std::string> download_argv(const config::DownloadSpec& d) {
    std::vector<std::string> argv{d.tool, "download", d.repo};
    if (d.revision) {
        argv.push_back("--revision");
        argv.push_back(*d.revision);
    }
    for (const auto& p : d.include) {
        argv.push_back("--include");
        argv.push_back(p);
    }
    for (const auto& p : d.exclude) {
        argv.push_back("--exclude");
        argv.push_back(p);
    }
    if (d.to) {
        argv.push_back("--local-dir");
        argv.push_back(*d.to);
    }
    return argv;
}

// host[:port] of the rendezvous; the first host's resolved address by default.
std::string rendezvous_endpoint(const config::TrainSettings& train, const config::HostSpec& first) {
    if (!train.rdzv.endpoint) return config::endpoint(first.address, train.rdzv.port);
    const std::string& e = *train.rdzv.endpoint;
    bool has_port = e.find(':') != std::string::npos && e.back() != ']';
    return has_port ? e : config::endpoint(e, train.rdzv.port);
}

bool has_env(const std::vector<config::EnvVar>& env, std::string_view name) {
    return std::any_of(env.begin(), env.end(), [&](const auto& v) { return v.name == name; });
}

std::string rank_map_note(const LaunchPlan& plan, const config::TrainSettings& train,
                          std::size_t nnodes) {
    std::string map;
    for (std::size_t i = 0; i < nnodes; ++i)
        map += fmt::format("{}{}={}", i ? ", " : "", i, plan.hosts[i].name);
    if (train.rdzv.backend == "static")
        return fmt::format("node ranks (static rendezvous, fixed): {}", map);
    return fmt::format("node ranks passed: {} ({} rendezvous numbers nodes in arrival order; "
                       "rdzv.backend: static fixes the map)",
                       map, train.rdzv.backend);
}

// node_env: each entry's variables go after env on the hosts it names. A host it names
// that this run does not reach (-w, -x) is no error.
util::Result<LaunchPlan> with_node_env(LaunchPlan plan, const config::TrainingConfig* config) {
    if (!config) return plan;
    for (const auto& entry : config->node_env) {
        auto picked = config::select_hosts(entry.on, plan.hosts, true);
        if (!picked) return fail(picked.error());
        std::vector<bool> chosen(plan.hosts.size(), false);
        for (std::size_t i : *picked)
            chosen[i] = true;
        for (auto& stage : plan.stages) {
            if (stage.kind != StageKind::run) continue;
            for (auto& task : stage.tasks) {
                if (!chosen[task.host]) continue;
                for (const auto& var : entry.env) {
                    auto& env = task.command.env;
                    auto same = std::find_if(env.begin(), env.end(),
                                             [&](const auto& v) { return v.name == var.name; });
                    if (same != env.end())
                        same->value = var.value;
                    else
                        env.push_back(var);
                }
            }
        }
    }
    return plan;
}

RemoteCommand step_command(const config::TrainingConfig* config, const config::SetupStep& step) {
    RemoteCommand command = base_command(config);
    if (!step.activate) command.activate.reset();
    command.creates = step.creates;
    command.body.add_command(step.run);
    return command;
}

// The hosts of the job `in` plans, node rank 0 first: the attempt's, else the first launch's.
util::Result<std::vector<config::HostSpec>> job_hosts(const PlanInputs& in,
                                                      const config::TrainSettings& train) {
    if (in.nodes.empty()) return launch_hosts(in.inventory, train);
    std::vector<config::HostSpec> hosts;
    for (const auto& name : in.nodes) {
        auto it = std::find_if(in.inventory.hosts.begin(), in.inventory.hosts.end(),
                               [&](const auto& h) { return h.name == name; });
        if (it == in.inventory.hosts.end())
            return fail(error_at(
                in.command_at,
                fmt::format("job {} ran on {}, which is not among the hosts now", in.job_id, name),
                "give the hostfile and config the job was started with"));
        hosts.push_back(*it);
    }
    return hosts;
}

// after: steps on the job's nodes (plan.hosts), in train.workdir, knowing the job.
util::Status add_after_stages(LaunchPlan& plan, const config::TrainingConfig& config,
                              const std::string& job_id) {
    const config::TrainSettings& train = *config.train;
    for (const auto& step : config.after) {
        RemoteCommand command = step_command(&config, step);
        command.workdir = train.workdir.value_or("");
        command.env.push_back({"CLUSTERCTL_JOB_ID", job_id});
        command.env.push_back({"CLUSTERCTL_CHECKPOINT_DIR", checkpoint_dir(train, job_id)});
        auto stage = stage_on(plan, step.on, "after: " + step.name, command, 0);
        if (!stage) return fail(stage.error());
        stage->all_must_pass = true; // a merge on the first node feeds what follows
        plan.stages.push_back(std::move(*stage));
    }
    return util::Ok{};
}

// As scp: a destination ending in '/' is a folder to copy into.
FileTransfer into_folder(FileTransfer transfer) {
    if (transfer.destination.empty() || transfer.destination.back() != '/') return transfer;
    std::string source = transfer.source;
    while (source.size() > 1 && source.back() == '/')
        source.pop_back();
    std::string name = source.substr(source.find_last_of('/') + 1);
    if (name.empty() || name == "." || name == ".." || name == "/") return transfer;
    transfer.destination += name;
    return transfer;
}

} // namespace

std::vector<config::HostSpec> launch_hosts(const config::Inventory& inventory,
                                           const config::TrainSettings& train) {
    std::vector<config::HostSpec> hosts;
    for (const auto& h : inventory.hosts)
        if (!h.spare && (!train.nnodes || hosts.size() < static_cast<std::size_t>(*train.nnodes)))
            hosts.push_back(h);
    return hosts;
}

std::string remote_path(const config::TrainSettings& train, const std::string& path) {
    if (path.empty() || path.front() == '/' || !train.workdir) return path;
    return *train.workdir + "/" + path;
}

std::string checkpoint_dir(const config::TrainSettings& train, const std::string& job_id) {
    return remote_path(train, train.checkpoint_dir.value_or("checkpoints/" + job_id));
}

std::string staging_dir(const std::string& local_dir, const std::string& job_id) {
    return fmt::format("{}/staging/{}", local_dir, job_id);
}

RemoteCommand base_command(const config::TrainingConfig* config) {
    RemoteCommand command;
    if (!config) return command;
    command.env = config->env;
    for (const auto& s : config->secrets)
        command.secrets.push_back(s.name);
    command.activate = config->activate;
    return command;
}

util::Result<LaunchPlan> plan_exec(const PlanInputs& in, const std::string& command) {
    LaunchPlan plan = empty_plan(in, Action::exec);
    RemoteCommand remote = base_command(in.config);
    remote.body.add_command(command);
    plan.stages.push_back(stage_on_all(plan, "exec", remote));
    return with_node_env(std::move(plan), in.config);
}

util::Result<LaunchPlan> plan_push(const PlanInputs& in, const FileTransfer& requested) {
    FileTransfer transfer = into_folder(requested);
    LaunchPlan plan = empty_plan(in, Action::push);
    Stage stage;
    stage.name = "push";
    stage.kind = StageKind::push;
    stage.role = StageRole::files;
    for (std::size_t i = 0; i < plan.hosts.size(); ++i)
        stage.tasks.push_back({i, {}, {transfer}});
    plan.stages.push_back(std::move(stage));
    return plan;
}

util::Result<LaunchPlan> plan_setup(const PlanInputs& in) {
    auto config = need_config(in, "setup");
    if (!config) return fail(config.error());
    const auto& steps = (*config)->setup;
    if (steps.empty())
        return fail(error_at({(*config)->path, 1, 1}, "the config has no setup: steps",
                             "add a list of {name, run} steps under setup:"));
    LaunchPlan plan = empty_plan(in, Action::setup);
    for (const auto& step : steps) {
        auto stage = stage_on(plan, step.on, step.name, step_command(*config, step), 0);
        if (!stage) return fail(stage.error());
        plan.stages.push_back(std::move(*stage));
    }
    return with_node_env(std::move(plan), *config);
}

util::Result<LaunchPlan> plan_download(const PlanInputs& in) {
    auto config = need_config(in, "download");
    if (!config) return fail(config.error());
    if ((*config)->download.empty())
        return fail(error_at({(*config)->path, 1, 1}, "the config has no download: entries",
                             "add e.g. '- repo: meta-llama/Meta-Llama-3.1-8B' under download:"));
    LaunchPlan plan = empty_plan(in, Action::download);
    for (const auto& d : (*config)->download) {
        RemoteCommand command = base_command(*config);
        command.body.add("{}\n", util::ShellWords{download_argv(d)});
        auto stage = stage_on(plan, d.on, "download " + d.repo, command, d.retries);
        if (!stage) return fail(stage.error());
        stage->not_found_hint = fmt::format(
            "{} is not installed there: pip install -U 'huggingface_hub[cli]' in the "
            "environment activate: enters (a setup: step), or name it with download[].tool",
            d.tool);
        plan.stages.push_back(std::move(*stage));
        if (d.distribute && plan.hosts.size() > 1) {
            // No shared filesystem: the first node's folder comes here, then goes to the others.
            std::string staging =
                fmt::format("{}/{}", staging_dir(in.local_dir, in.job_id), plan.stages.size());
            Stage fetch;
            fetch.name = "fetch " + d.repo;
            fetch.kind = StageKind::fetch;
            fetch.role = StageRole::files;
            fetch.all_must_pass = true;
            fetch.tasks.push_back({0, {}, {{*d.to, std::nullopt, staging, 0755, true}}});
            plan.stages.push_back(std::move(fetch));
            Stage copy;
            copy.name = "distribute " + d.repo;
            copy.kind = StageKind::push;
            copy.role = StageRole::files;
            for (std::size_t i = 1; i < plan.hosts.size(); ++i)
                copy.tasks.push_back({i, {}, {{staging, std::nullopt, *d.to, 0755, true}}});
            plan.stages.push_back(std::move(copy));
        }
    }
    return with_node_env(std::move(plan), *config);
}

util::Result<LaunchPlan> plan_check(const PlanInputs& in) {
    LaunchPlan plan = empty_plan(in, Action::check);
    const config::TrainingConfig* config = in.config;
    if (!in.nodes.empty()) { // recovery: the hosts the next attempt may take
        plan.hosts.clear();
        for (const auto& name : in.nodes) {
            auto it = std::find_if(in.inventory.hosts.begin(), in.inventory.hosts.end(),
                                   [&](const auto& h) { return h.name == name; });
            if (it != in.inventory.hosts.end()) plan.hosts.push_back(*it);
        }
    } else if (config && config->train) {
        // The hosts a launch takes, then the spares: each must be ready to step in.
        plan.hosts = launch_hosts(in.inventory, *config->train);
        std::vector<std::string> spares;
        for (const auto& h : in.inventory.hosts)
            if (h.spare) {
                plan.hosts.push_back(h);
                spares.push_back(h.name);
            }
        if (!spares.empty())
            plan.notes.push_back(fmt::format("spares checked too: {}", fmt::join(spares, ", ")));
    }
    plan.stages = preflight_stages(plan, config);
    return with_node_env(std::move(plan), in.config);
}

util::Result<LaunchPlan> plan_train(const PlanInputs& in) {
    auto config = need_config(in, "train");
    if (!config) return fail(config.error());
    if (!(*config)->train)
        return fail(error_at({(*config)->path, 1, 1}, "the config has no train: section",
                             "add train: with torchrun, nproc_per_node and module or script"));
    const config::TrainSettings& train = *(*config)->train;
    LaunchPlan plan = empty_plan(in, Action::train);
    std::vector<std::string> spares;
    for (const auto& h : in.inventory.hosts)
        if (h.spare) spares.push_back(h.name);
    std::size_t active = plan.hosts.size() - spares.size();
    if (in.nodes.empty()) {
        std::size_t want = train.nnodes ? static_cast<std::size_t>(*train.nnodes) : active;
        if (want > active)
            return fail(error_at(
                train.nnodes_at,
                fmt::format("train.nnodes is {} but there are only {} hosts{}", want, active,
                            spares.empty() ? ""
                                           : fmt::format(" besides {} spare{}", spares.size(),
                                                         spares.size() == 1 ? "" : "s")),
                "lower nnodes or add hosts"));
    }
    auto hosts = job_hosts(in, train);
    if (!hosts) return fail(hosts.error());
    plan.hosts = std::move(*hosts);
    std::size_t nnodes = plan.hosts.size();
    if (in.attempt > 0)
        plan.notes.push_back(fmt::format("attempt {} (train.restarts {}): a fresh rendezvous "
                                         "on {} node{}",
                                         in.attempt, train.restarts, nnodes,
                                         nnodes == 1 ? "" : "s"));
    plan.notes.push_back(rank_map_note(plan, train, nnodes));
    if (in.attempt == 0 && train.restarts > 0) {
        std::string then =
            spares.empty() ? "" : fmt::format("; spares: {}", fmt::join(spares, ", "));
        if (train.min_nnodes && static_cast<std::size_t>(*train.min_nnodes) < nnodes)
            then += fmt::format("; as few as {} nodes", *train.min_nnodes);
        plan.notes.push_back(fmt::format(
            "a lost or failed node: up to {} relaunch{} with a fresh rendezvous, the ranks "
            "resuming from {} (train.restarts){}",
            train.restarts, train.restarts == 1 ? "" : "es", checkpoint_dir(train, in.job_id),
            then));
    } else if (in.attempt == 0 && !spares.empty()) {
        plan.notes.push_back(
            fmt::format("spares: {}, unused: train.restarts is 0", fmt::join(spares, ", ")));
    }
    if (in.preflight) plan.stages = preflight_stages(plan, *config);

    if (!train.templates.empty()) {
        Stage ship;
        ship.name = "templates";
        ship.kind = StageKind::push;
        ship.role = StageRole::files;
        ship.all_must_pass = true;
        std::vector<FileTransfer> files;
        for (const auto& t : train.templates)
            files.push_back({"", t.rendered, remote_path(train, t.dst), 0644, false});
        for (std::size_t i = 0; i < nnodes; ++i)
            ship.tasks.push_back({i, {}, files});
        plan.stages.push_back(std::move(ship));
    }

    const config::HostSpec& first = plan.hosts.front();
    NodePlacement node;
    node.nnodes = static_cast<int>(nnodes);
    node.nproc_per_node = train.nproc_per_node ? std::to_string(*train.nproc_per_node) : "auto";
    node.master_address = first.address;
    node.master_port = train.rdzv.port;
    node.rdzv_endpoint = rendezvous_endpoint(train, first);
    node.rdzv_id = train.rdzv.id.value_or(in.job_id);
    if (in.attempt > 0) node.rdzv_id += fmt::format("-{}", in.attempt); // the old one is closed
    Stage launch;
    launch.name = "launch";
    launch.kind = StageKind::run;
    launch.role = StageRole::launch;
    launch.quiet_teardown = true;
    if (!in.detach) {
        launch.fail_fast = true; // one node's torchrun failing leaves the others hanging
        launch.failure_line = std::string(k_worker_failed);
        launch.hang = hang_limits(train, in.job_id); // detached: its supervisor's watch
    }
    for (std::size_t i = 0; i < nnodes; ++i) {
        node.node_rank = static_cast<int>(i);
        RemoteCommand command = base_command(*config);
        command.env.push_back({"MASTER_ADDR", node.master_address});
        command.env.push_back({"MASTER_PORT", std::to_string(node.master_port)});
        command.env.push_back({"CLUSTERCTL_JOB_ID", in.job_id});
        command.env.push_back({"CLUSTERCTL_NODE_RANK", std::to_string(i)});
        command.env.push_back({"CLUSTERCTL_ATTEMPT", std::to_string(in.attempt)});
        command.env.push_back({"CLUSTERCTL_CHECKPOINT_DIR", checkpoint_dir(train, in.job_id)});
        // torchrun's --tee copies the ranks' lines through Python's stdout, which a pipe
        // block-buffers: without this the logs arrive 8 KB at a time, not live.
        if (!has_env(command.env, "PYTHONUNBUFFERED"))
            command.env.push_back({"PYTHONUNBUFFERED", "1"});
        command.workdir = train.workdir.value_or("");
        auto argv = torchrun_argv(train, node);
        if (in.detach) {
            command.body = detached_launch_body(in.job_id, plan.hosts[i].name, argv);
        } else {
            add_stack_hook(command.body, in.job_id, plan.hosts[i].name);
            command.body.add("exec {}\n", util::ShellWords{argv});
        }
        launch.tasks.push_back({i, std::move(command), {}});
    }
    plan.stages.push_back(std::move(launch));
    if (in.after_steps && !(*config)->after.empty()) {
        plan.notes.push_back("after: steps run once training has succeeded (on a detached job, "
                             "by its supervisor)");
        if (auto s = add_after_stages(plan, **config, in.job_id); !s) return fail(s.error());
    }
    return with_node_env(std::move(plan), *config);
}

util::Result<LaunchPlan> plan_after(const PlanInputs& in) {
    auto config = need_config(in, "after");
    if (!config) return fail(config.error());
    LaunchPlan plan = empty_plan(in, Action::after);
    if (!(*config)->train || (*config)->after.empty()) return plan;
    auto hosts = job_hosts(in, *(*config)->train);
    if (!hosts) return fail(hosts.error());
    plan.hosts = std::move(*hosts);
    if (auto s = add_after_stages(plan, **config, in.job_id); !s) return fail(s.error());
    return with_node_env(std::move(plan), *config);
}

} // namespace clusterctl::plan
