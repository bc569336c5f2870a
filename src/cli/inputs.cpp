#include "inputs.hpp"

#include "clusterctl/util/strings.hpp"
#include "clusterctl/util/text_file.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fmt/format.h>
#include <random>

namespace clusterctl::cli {
namespace {

using util::error_at;
using util::fail;

util::Result<std::optional<int>> int_flag(const Context& ctx, const std::string& value,
                                          std::initializer_list<std::string_view> names,
                                          long long min, long long max, std::string_view what) {
    if (value.empty()) return std::optional<int>{};
    auto n = util::parse_int(value, min, max);
    if (!n)
        return fail(error_at(ctx.line.at_value(names),
                             fmt::format("bad {} '{}'", *names.begin(), value),
                             fmt::format("{} is a whole number from {} to {}", what, min, max)));
    return std::optional<int>(static_cast<int>(*n));
}

util::Result<config::Overrides> overrides_from_flags(const Context& ctx) {
    const GlobalOptions& o = ctx.options;
    config::Overrides flags;
    auto located = [&](const std::string& v, std::initializer_list<std::string_view> names)
        -> std::optional<config::Located<std::string>> {
        if (v.empty()) return std::nullopt;
        return config::Located<std::string>{v, ctx.line.at_value(names)};
    };
    flags.hostfile = located(o.hostfile, {"--hostfile"});
    flags.hosts = located(o.hosts, {"-w", "--hosts"});
    flags.exclude = located(o.exclude, {"-x", "--exclude"});
    if (!o.ssh_config.empty())
        flags.ssh_config = config::Located<std::string>{util::expand_tilde(o.ssh_config, ctx.env),
                                                        ctx.line.at_value({"--ssh-config"})};
    auto fanout = int_flag(ctx, o.fanout, {"--fanout"}, 1, 65536, "fan-out");
    if (!fanout) return fail(fanout.error());
    flags.fanout = *fanout;
    auto connect = int_flag(ctx, o.connect_timeout, {"--connect-timeout"}, 1, 3600, "seconds");
    if (!connect) return fail(connect.error());
    flags.connect_timeout = *connect;
    auto timeout = int_flag(ctx, o.timeout, {"--timeout"}, 0, 31536000, "seconds");
    if (!timeout) return fail(timeout.error());
    flags.command_timeout = *timeout;
    return flags;
}

// --set and --env, each where it was typed (or, restored from a job's record, the record).
std::vector<config::ConfigOverride> config_overrides(const Context& ctx) {
    std::vector<config::ConfigOverride> overrides;
    auto add = [&](config::ConfigOverride::Kind kind, const std::vector<std::string>& values,
                   std::string_view flag) {
        auto typed = ctx.line.values_of({flag});
        for (std::size_t i = 0; i < values.size(); ++i) {
            bool here = i < typed.size() && typed[i].first == values[i];
            overrides.push_back(
                {kind, values[i],
                 here ? typed[i].second : util::SourceLocation{"the job's record", 1, 1}});
        }
    };
    add(config::ConfigOverride::Kind::set, ctx.options.sets, "--set");
    add(config::ConfigOverride::Kind::env, ctx.options.envs, "--env");
    return overrides;
}

util::Result<std::optional<config::TrainingConfig>> load_config(const Context& ctx) {
    const GlobalOptions& o = ctx.options;
    bool hosts_from_flags = !o.hostfile.empty() || !o.hosts.empty();
    if (!ctx.config_given) {
        if (!util::file_exists(o.config_path)) {
            if (hosts_from_flags && o.sets.empty() && o.envs.empty())
                return std::optional<config::TrainingConfig>{};
            if (hosts_from_flags) { // no file: a config of the flags alone (--env for exec)
                auto flags_only = config::parse_training_config("", o.config_path, ctx.env,
                                                                config_overrides(ctx));
                if (!flags_only) return fail(flags_only.error());
                return std::optional<config::TrainingConfig>(std::move(*flags_only));
            }
            return fail(error_at(ctx.line.at_arg(0),
                                 fmt::format("no config: ./{} not found", o.config_path),
                                 "give -c FILE, --hostfile FILE or -w HOSTS"));
        }
    }
    auto loaded = config::load_training_config(
        o.config_path, ctx.env, ctx.line.at_value({"-c", "--config"}), config_overrides(ctx));
    if (!loaded) return fail(loaded.error());
    return std::optional<config::TrainingConfig>(std::move(*loaded));
}

// backend: slurm: the allocation clusterctl runs in, or (not allocated yet) placeholder
// nodes for a dry run, hosts or validate.
SlurmJob slurm_job(const Context& ctx, const config::TrainingConfig& config) {
    auto id = ctx.env.get("SLURM_JOB_ID");
    auto nodes = ctx.env.get("SLURM_JOB_NODELIST");
    if (id && nodes && !id->empty() && !nodes->empty()) return {*id, *nodes, false};
    return {"", fmt::format("slurm-node-[1-{}]", nodes_wanted(config)), false};
}

std::vector<std::string> srun_environment(const Context& ctx,
                                          const config::TrainingConfig& config) {
    std::vector<std::string> env;
    for (const auto& [name, value] : ctx.env.vars()) {
        bool secret = std::any_of(config.secrets.begin(), config.secrets.end(), [&](const auto& s) {
            return s.name == name ||
                   (s.source == config::SecretSpec::Source::env && s.reference == name);
        });
        if (!secret) env.push_back(name + "=" + value);
    }
    return env;
}

} // namespace

int nodes_wanted(const config::TrainingConfig& config) {
    if (config.slurm.nodes) return *config.slurm.nodes;
    if (config.train && config.train->nnodes) return *config.train->nnodes;
    return 1;
}

util::Result<Inputs> load_inputs(const Context& ctx) {
    Inputs inputs;
    auto flags = overrides_from_flags(ctx);
    if (!flags) return fail(flags.error());
    auto retries = int_flag(ctx, ctx.options.retries, {"--retries"}, 0, 100, "retries");
    if (!retries) return fail(retries.error());
    inputs.retries = retries->value_or(0);
    auto config = load_config(ctx);
    if (!config) return fail(config.error());
    inputs.config = std::move(*config);
    if (inputs.config && inputs.config->cluster.backend == config::Backend::slurm) {
        inputs.slurm = slurm_job(ctx, *inputs.config);
        flags->allocation_nodes = config::Located<std::string>{
            inputs.slurm->nodes,
            {inputs.slurm->job_id.empty() ? "slurm.nodes" : "SLURM_JOB_NODELIST", 1, 1}};
        inputs.srun_environment = srun_environment(ctx, *inputs.config);
    }
    auto inventory = config::resolve_inventory(inputs.config_ptr(), *flags, ctx.env);
    if (!inventory) return fail(inventory.error());
    inputs.inventory = std::move(*inventory);
    if (inputs.config)
        if (auto s = config::settle_processes_per_node(*inputs.config, inputs.inventory); !s)
            return fail(s.error());
    for (const auto& warning : inputs.inventory.warnings)
        if (ctx.warned->insert(warning.str("warning")).second)
            ctx.err << warning.str("warning") << "\n";
    if (inputs.config) {
        // A dry run shows each secret as *** where it goes: it needs no value.
        bool needed = ctx.secrets_needed && !ctx.options.dry_run;
        auto secrets = config::load_secrets(inputs.config->secrets, ctx.env, needed);
        if (!secrets) return fail(secrets.error());
        inputs.secrets = std::move(*secrets);
    }
    return inputs;
}

std::string new_job_id(const Inputs& inputs) {
    std::string stem = "job";
    if (inputs.config) {
        std::string file = inputs.config->path.substr(inputs.config->path.rfind('/') + 1);
        stem = file.substr(0, file.find('.'));
        for (auto& c : stem)
            if (!std::isalnum(static_cast<unsigned char>(c))) c = '-';
        if (stem.empty()) stem = "job";
    }
    std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm utc{};
    gmtime_r(&now, &utc);
    std::random_device random;
    return fmt::format("{}-{:04}{:02}{:02}-{:02}{:02}{:02}-{:04x}", stem, utc.tm_year + 1900,
                       utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                       random() & 0xffff);
}

} // namespace clusterctl::cli
