#include "clusterctl/config/training_config.hpp"

#include "clusterctl/config/hostfile.hpp"
#include "clusterctl/config/schema.hpp"
#include "clusterctl/util/strings.hpp"
#include "clusterctl/util/text_file.hpp"
#include "yaml_reader.hpp"

#include <fmt/format.h>
#include <map>

namespace clusterctl::config {
namespace {

using util::error_at;
using util::fail;
using util::Status;

// Runs `parse` and returns its failure from the enclosing function.
#define CLUSTERCTL_TRY(var, expr)                                                                  \
    auto var = (expr);                                                                             \
    if (!var) return fail(var.error())

class ConfigParser {
public:
    ConfigParser(std::string path, const util::Environment& env,
                 const std::vector<ConfigOverride>& overrides)
        : m_env(env), m_overrides(overrides), m_yaml(std::move(path), {}) {
        m_yaml.set_lookup([this](std::string_view name) { return lookup(name); });
    }

    util::Result<TrainingConfig> parse(std::string_view text) {
        YAML::Node root;
        m_yaml.set_text(text);
        try {
            root = YAML::Load(std::string(text));
        } catch (const YAML::Exception& e) {
            return fail(error_at(mark_in(text, e.mark), "YAML syntax: " + e.msg,
                                 "check indentation and quoting"));
        }
        m_config.path = m_yaml.file();
        m_config.dir = util::parent_directory(m_config.path);
        if (auto s = apply_overrides(root); !s) return fail(s.error());
        if (root.IsNull()) return m_config; // an empty file is an empty config
        if (auto s = m_yaml.expect_map(root, "the config"); !s) return fail(s.error());
        if (auto s = m_yaml.check_keys(root, "", keys_under("")); !s) return fail(s.error());
        // env first: every other value may refer to it.
        if (root["env"]) {
            if (auto s = parse_env(root["env"]); !s) return fail(s.error());
        }
        using SectionParser = Status (ConfigParser::*)(const YAML::Node&);
        const std::pair<const char*, SectionParser> sections[] = {
            {"cluster", &ConfigParser::parse_cluster},   {"secrets", &ConfigParser::parse_secrets},
            {"activate", &ConfigParser::parse_activate}, {"setup", &ConfigParser::parse_setup},
            {"download", &ConfigParser::parse_download}, {"train", &ConfigParser::parse_train},
            {"node_env", &ConfigParser::parse_node_env}, {"slurm", &ConfigParser::parse_slurm},
            {"after", &ConfigParser::parse_after},
        };
        for (auto [key, parser] : sections) {
            if (!root[key]) continue;
            if (auto s = (this->*parser)(root[key]); !s) return fail(s.error());
        }
        if (!m_config.after.empty() && !m_config.train)
            return fail(error_at(m_config.after.front().where,
                                 "after: steps run once training has succeeded, but the config "
                                 "has no train: section",
                                 "add train:, or make these setup: steps"));
        return m_config;
    }

private:
    // --set and --env, over the file's values: each names a key of the schema (env.NAME
    // for --env) and replaces its value there, or adds it; its errors point at the flag.
    Status apply_overrides(YAML::Node& root) {
        if (m_overrides.empty()) return util::Ok{};
        if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
        if (!root.IsMap()) return util::Ok{}; // the file's own error comes first
        for (const auto& o : m_overrides) {
            bool env = o.kind == ConfigOverride::Kind::env;
            std::size_t eq = o.text.find('=');
            if (eq == std::string::npos || eq == 0)
                return fail(error_at(
                    o.where,
                    fmt::format("{} {} is not {}", env ? "--env" : "--set", util::quoted(o.text),
                                env ? "NAME=VALUE" : "KEY=VALUE"),
                    env ? "e.g. --env NCCL_DEBUG=INFO" : "e.g. --set train.nproc_per_node=4"));
            std::string key = o.text.substr(0, eq), text = o.text.substr(eq + 1);
            util::SourceLocation value_at = o.where.advanced(static_cast<int>(eq) + 1);
            std::vector<std::string> path;
            if (env) {
                if (!is_variable_name(key))
                    return fail(error_at(
                        o.where, fmt::format("--env: bad variable name {}", util::quoted(key)),
                        "names hold letters, digits and '_'"));
                path = {"env", key};
            } else {
                path = util::split(key, '.');
                if (auto s = known_key(path, key, o.where); !s) return s;
            }
            YAML::Node value;
            if (env) {
                value = YAML::Node(text);
            } else {
                try {
                    value = YAML::Load(text);
                } catch (const YAML::Exception& e) {
                    return fail(error_at(value_at.advanced(e.mark.is_null() ? 0 : e.mark.column),
                                         "--set value: YAML syntax: " + e.msg,
                                         "quote the value for the shell: --set "
                                         "'train.args=[--steps, 100]'"));
                }
            }
            m_yaml.add_origin(value, value_at);
            YAML::Node map = root;
            for (std::size_t i = 0; i + 1 < path.size(); ++i) {
                if (!map[path[i]].IsMap()) map[path[i]] = YAML::Node(YAML::NodeType::Map);
                YAML::Node next = map[path[i]];
                map.reset(next);
            }
            map[path.back()] = value;
            for (auto it = map.begin(); it != map.end(); ++it)
                if (it->first.Scalar() == path.back()) m_yaml.add_origin(it->first, o.where);
        }
        return util::Ok{};
    }

    // A --set key names a key of the schema ("train.args", "env.NCCL_DEBUG", "setup"):
    // not inside a list's items (set the whole list).
    static Status known_key(const std::vector<std::string>& path, const std::string& key,
                            const util::SourceLocation& where) {
        std::vector<std::string> keys;
        for (const auto& entry : config_schema()) {
            std::vector<std::string> parts = util::split(std::string(entry.path), '.');
            if (entry.path.find("[]") != std::string_view::npos) continue;
            keys.emplace_back(entry.path);
            if (parts.size() != path.size()) continue;
            bool same = true;
            for (std::size_t i = 0; i < parts.size() && same; ++i)
                same = parts[i] == "*" ? !path[i].empty() : parts[i] == path[i];
            if (same) return util::Ok{};
        }
        std::string hint = util::did_you_mean(key, keys);
        return fail(error_at(where, fmt::format("--set: unknown config key {}", util::quoted(key)),
                             hint.empty() ? "keys as in docs/CONFIG.md, joined by '.': "
                                            "train.nproc_per_node; a list as a whole: "
                                            "--set 'train.args=[--steps, 100]'"
                                          : hint));
    }

    // Where yaml-cpp's mark points, kept inside the text: a mark past the end of its line
    // (after a control byte, or at the end of the file) is shown at the line's end.
    util::SourceLocation mark_in(std::string_view text, const YAML::Mark& mark) const {
        if (mark.is_null()) return {m_yaml.file(), 1, 1};
        int line = 0;
        std::size_t start = 0;
        while (line < mark.line) {
            std::size_t nl = text.find('\n', start);
            if (nl == std::string_view::npos) break;
            start = nl + 1;
            ++line;
        }
        std::size_t end = std::min(text.find('\n', start), text.size());
        int length = static_cast<int>(end - start);
        return {m_yaml.file(), line + 1, std::min(mark.column, length) + 1};
    }

    std::optional<std::string> lookup(std::string_view name) const {
        for (const auto& var : m_config.env)
            if (var.name == name) return var.value;
        return m_env.get(name);
    }

    util::Result<std::string> path_value(const YAML::Node& node, std::string_view what) const {
        CLUSTERCTL_TRY(text, m_yaml.string(node, what));
        return util::expand_tilde(*text, m_env);
    }

    Status parse_env(const YAML::Node& node) { return parse_env_map(node, "env", m_config.env); }

    Status parse_env_map(const YAML::Node& node, const std::string& what,
                         std::vector<EnvVar>& into) {
        if (node.IsNull()) return util::Ok{};
        if (auto s = m_yaml.expect_map(node, what); !s) return s;
        for (auto it = node.begin(); it != node.end(); ++it) {
            std::string name = it->first.Scalar();
            if (!is_variable_name(name))
                return fail(error_at(m_yaml.at(it->first),
                                     fmt::format("bad variable name '{}' in {}", name, what),
                                     "names hold letters, digits and '_'"));
            for (const auto& var : into)
                if (var.name == name)
                    return fail(error_at(m_yaml.at(it->first),
                                         fmt::format("{} variable '{}' given twice", what, name),
                                         "keep one"));
            CLUSTERCTL_TRY(value, m_yaml.string(it->second, what + "." + name));
            into.push_back({name, std::move(*value)});
        }
        return util::Ok{};
    }

    // node_env: {HOSTS: {NAME: value}}, HOSTS a host list expression, "first" or "last".
    Status parse_node_env(const YAML::Node& node) {
        if (auto s = m_yaml.expect_map(node, "node_env"); !s) return s;
        for (auto it = node.begin(); it != node.end(); ++it) {
            NodeEnv entry;
            entry.on = {it->first.Scalar(), m_yaml.at(it->first)};
            if (auto s = parse_env_map(it->second, "node_env." + entry.on.expression, entry.env);
                !s)
                return s;
            m_config.node_env.push_back(std::move(entry));
        }
        return util::Ok{};
    }

    // A host list expression, or a list of them (cluster.hosts, cluster.spares).
    Status host_expressions(const YAML::Node& n, std::string_view key,
                            std::vector<std::pair<std::string, util::SourceLocation>>& out) {
        std::vector<YAML::Node> items;
        if (n.IsScalar()) {
            items.push_back(n);
        } else {
            if (auto s = m_yaml.expect_list(n, key); !s) return s;
            for (const auto& item : n)
                items.push_back(item);
        }
        for (const auto& item : items) {
            CLUSTERCTL_TRY(v, m_yaml.string(item, key));
            util::SourceLocation where = m_yaml.at(item);
            if (item.Tag() == "!") ++where.column;
            out.emplace_back(*v, where);
        }
        return util::Ok{};
    }

    Status parse_cluster(const YAML::Node& node) {
        if (auto s = m_yaml.expect_map(node, "cluster"); !s) return s;
        if (auto s = m_yaml.check_keys(node, "cluster", keys_under("cluster")); !s) return s;
        auto& c = m_config.cluster;
        if (node["hostfile"] && node["hosts"])
            return fail(error_at(m_yaml.at(node["hosts"]),
                                 "cluster.hostfile and cluster.hosts are both given",
                                 "keep one of them"));
        if (const auto& n = node["hostfile"]) {
            CLUSTERCTL_TRY(v, path_value(n, "cluster.hostfile"));
            c.hostfile = util::resolve_path(m_config.dir, *v);
            c.hostfile_at = m_yaml.at(n);
        }
        if (const auto& n = node["hosts"]) {
            if (auto s = host_expressions(n, "cluster.hosts", c.hosts); !s) return s;
            if (c.hosts.empty())
                return fail(
                    error_at(m_yaml.at(n), "cluster.hosts is empty", "list at least one host"));
        }
        if (const auto& n = node["spares"]) {
            if (auto s = host_expressions(n, "cluster.spares", c.spares); !s) return s;
        }
        if (const auto& n = node["backend"]) {
            CLUSTERCTL_TRY(v, m_yaml.string(n, "cluster.backend"));
            if (*v != "ssh" && *v != "local" && *v != "slurm")
                return fail(
                    error_at(m_yaml.at(n),
                             fmt::format("cluster.backend must be ssh, local or slurm, got {}",
                                         util::quoted(*v)),
                             util::did_you_mean(*v, {"ssh", "local", "slurm"})));
            c.backend = *v == "local"   ? Backend::local
                        : *v == "slurm" ? Backend::slurm
                                        : Backend::ssh;
        }
        if (const auto& n = node["user"]) {
            CLUSTERCTL_TRY(v, m_yaml.string(n, "cluster.user"));
            c.user = *v;
        }
        if (const auto& n = node["port"]) {
            CLUSTERCTL_TRY(v, m_yaml.integer(n, "cluster.port", 1, 65535));
            c.port = *v;
        }
        if (const auto& n = node["identity_file"]) {
            CLUSTERCTL_TRY(v, path_value(n, "cluster.identity_file"));
            c.identity_file = util::resolve_path(m_config.dir, *v);
        }
        if (const auto& n = node["ssh_config"]) {
            CLUSTERCTL_TRY(v, path_value(n, "cluster.ssh_config"));
            c.ssh_config = util::resolve_path(m_config.dir, *v);
            c.ssh_config_at = m_yaml.at(n);
        }
        if (const auto& n = node["shared_dir"]) {
            CLUSTERCTL_TRY(v, path_value(n, "cluster.shared_dir"));
            c.shared_dir = *v;
        }
        if (const auto& n = node["jump"]) {
            CLUSTERCTL_TRY(v, m_yaml.string(n, "cluster.jump"));
            c.jump = *v;
            c.jump_at = m_yaml.at(n);
        }
        if (const auto& n = node["fanout"]) {
            CLUSTERCTL_TRY(v, m_yaml.integer(n, "cluster.fanout", 1, 65536));
            c.fanout = *v;
        }
        if (const auto& n = node["connect_timeout"]) {
            CLUSTERCTL_TRY(v, m_yaml.integer(n, "cluster.connect_timeout", 1, 3600));
            c.connect_timeout = *v;
        }
        if (const auto& n = node["command_timeout"]) {
            CLUSTERCTL_TRY(v, m_yaml.integer(n, "cluster.command_timeout", 0, 31536000));
            c.command_timeout = *v;
        }
        if (const auto& n = node["known_hosts"]) {
            CLUSTERCTL_TRY(v, m_yaml.string(n, "cluster.known_hosts"));
            if (*v == "strict")
                c.known_hosts = KnownHostsPolicy::strict;
            else if (*v == "accept-new")
                c.known_hosts = KnownHostsPolicy::accept_new;
            else if (*v == "off")
                c.known_hosts = KnownHostsPolicy::off;
            else
                return fail(error_at(m_yaml.at(n),
                                     fmt::format("cluster.known_hosts must be strict, accept-new "
                                                 "or off, got '{}'",
                                                 *v),
                                     util::did_you_mean(*v, {"strict", "accept-new", "off"})));
        }
        return util::Ok{};
    }

    Status parse_slurm(const YAML::Node& node) {
        if (auto s = m_yaml.expect_map(node, "slurm"); !s) return s;
        if (auto s = m_yaml.check_keys(node, "slurm", keys_under("slurm")); !s) return s;
        auto& sl = m_config.slurm;
        sl.where = m_yaml.at(node);
        const std::pair<const char*, std::optional<std::string>*> words[] = {
            {"partition", &sl.partition},
            {"account", &sl.account},
            {"qos", &sl.qos},
            {"time", &sl.time},
            {"constraint", &sl.constraint},
            {"reservation", &sl.reservation},
        };
        for (auto [key, into] : words) {
            if (!node[key]) continue;
            std::string what = std::string("slurm.") + key;
            CLUSTERCTL_TRY(v, m_yaml.string(node[key], what));
            if (v->empty() || v->front() == '-')
                return fail(
                    error_at(m_yaml.at(node[key]),
                             fmt::format("{} must be a value, got {}", what, util::quoted(*v)),
                             "options go in slurm.sbatch_options"));
            *into = *v;
            sl.at[key] = m_yaml.at(node[key]);
        }
        if (const auto& n = node["nodes"]) {
            CLUSTERCTL_TRY(v, m_yaml.integer(n, "slurm.nodes", 1, 100000));
            sl.nodes = *v;
        }
        if (const auto& n = node["gpus_per_node"]) {
            CLUSTERCTL_TRY(v, m_yaml.integer(n, "slurm.gpus_per_node", 0, 1024));
            sl.gpus_per_node = *v;
        }
        if (const auto& n = node["sbatch_options"]) {
            CLUSTERCTL_TRY(v, m_yaml.string_list(n, "slurm.sbatch_options"));
            for (const auto& option : *v) {
                // Options only: sbatch runs no command of the config's (--wrap would).
                std::string name = option.substr(0, option.find('='));
                if (option.size() < 3 || option.rfind("--", 0) != 0)
                    return fail(
                        error_at(m_yaml.at(n),
                                 fmt::format("slurm.sbatch_options: {} is not a long option",
                                             util::quoted(option)),
                                 "write each as --name=value, e.g. --mem=0"));
                if (name == "--wrap" || name.find("prolog") != std::string::npos ||
                    name.find("epilog") != std::string::npos)
                    return fail(
                        error_at(m_yaml.at(n),
                                 fmt::format("slurm.sbatch_options: {} would run a command", name),
                                 "commands go in setup: or train:, which clusterctl runs"));
            }
            sl.sbatch_options = *v;
        }
        return util::Ok{};
    }

    Status parse_secrets(const YAML::Node& node) {
        if (node.IsNull()) return util::Ok{};
        if (auto s = m_yaml.expect_map(node, "secrets"); !s) return s;
        for (auto it = node.begin(); it != node.end(); ++it) {
            std::string name = it->first.Scalar();
            std::string what = "secrets." + name;
            if (!is_variable_name(name))
                return fail(error_at(m_yaml.at(it->first),
                                     fmt::format("bad secret name '{}'", name),
                                     "a secret becomes an environment variable: letters, digits "
                                     "and '_'"));
            YAML::Node spec = it->second; // a copy: it->second lives in a temporary proxy
            if (!spec.IsMap() || spec.size() != 1 || !(spec["env"] || spec["file"]))
                return fail(error_at(m_yaml.at(spec),
                                     fmt::format("{} must be {{env: VAR}} or {{file: PATH}}", what),
                                     "secret values are never written in the config"));
            SecretSpec secret{name, SecretSpec::Source::env, "", m_yaml.at(spec)};
            if (spec["file"]) {
                secret.source = SecretSpec::Source::file;
                CLUSTERCTL_TRY(v, path_value(spec["file"], what + ".file"));
                secret.reference = util::resolve_path(m_config.dir, *v);
                secret.where = m_yaml.at(spec["file"]);
            } else {
                CLUSTERCTL_TRY(v, m_yaml.string(spec["env"], what + ".env"));
                secret.reference = *v;
                secret.where = m_yaml.at(spec["env"]);
            }
            m_config.secrets.push_back(std::move(secret));
        }
        return util::Ok{};
    }

    Status parse_activate(const YAML::Node& node) {
        CLUSTERCTL_TRY(v, m_yaml.string(node, "activate"));
        m_config.activate = *v;
        return util::Ok{};
    }

    util::Result<HostSelector> selector(const YAML::Node& node, std::string_view what) const {
        CLUSTERCTL_TRY(v, m_yaml.string(node, what));
        return HostSelector{*v, m_yaml.at(node)};
    }

    Status parse_setup(const YAML::Node& node) {
        return parse_steps(node, "setup", m_config.setup);
    }
    Status parse_after(const YAML::Node& node) {
        return parse_steps(node, "after", m_config.after);
    }

    // setup: and after: (same shape): steps run in order on the hosts each names.
    Status parse_steps(const YAML::Node& node, const std::string& list,
                       std::vector<SetupStep>& into) {
        if (auto s = m_yaml.expect_list(node, list); !s) return s;
        std::size_t index = 0;
        for (const auto& item : node) {
            std::string what = fmt::format("{}[{}]", list, index++);
            if (auto s = m_yaml.expect_map(item, what); !s) return s;
            if (auto s = m_yaml.check_keys(item, what, keys_under(list + "[]")); !s) return s;
            SetupStep step;
            step.where = m_yaml.at(item);
            if (!item["run"])
                return fail(error_at(m_yaml.at(item), fmt::format("{} has no 'run:'", what),
                                     "give the shell command the step runs"));
            CLUSTERCTL_TRY(run, m_yaml.raw_string(item["run"], what + ".run"));
            step.run = *run;
            if (item["name"]) {
                CLUSTERCTL_TRY(name, m_yaml.string(item["name"], what + ".name"));
                step.name = *name;
            } else {
                step.name = fmt::format("{}-{}", list == "setup" ? "step" : list, index);
            }
            if (item["creates"]) {
                CLUSTERCTL_TRY(creates, path_value(item["creates"], what + ".creates"));
                step.creates = *creates;
            }
            if (item["on"]) {
                CLUSTERCTL_TRY(on, selector(item["on"], what + ".on"));
                step.on = *on;
            }
            if (item["activate"]) {
                CLUSTERCTL_TRY(activate, m_yaml.boolean(item["activate"], what + ".activate"));
                step.activate = *activate;
            }
            for (const auto& other : into)
                if (other.name == step.name)
                    return fail(error_at(
                        step.where, fmt::format("two {} steps are named '{}'", list, step.name),
                        "give each step its own name"));
            into.push_back(std::move(step));
        }
        return util::Ok{};
    }

    Status parse_download(const YAML::Node& node) {
        if (auto s = m_yaml.expect_list(node, "download"); !s) return s;
        std::size_t index = 0;
        for (const auto& item : node) {
            std::string what = fmt::format("download[{}]", index++);
            if (auto s = m_yaml.expect_map(item, what); !s) return s;
            if (auto s = m_yaml.check_keys(item, what, keys_under("download[]")); !s) return s;
            DownloadSpec d;
            d.where = m_yaml.at(item);
            if (!item["repo"])
                return fail(error_at(d.where, fmt::format("{} has no 'repo:'", what),
                                     "e.g. repo: meta-llama/Meta-Llama-3.1-405B"));
            CLUSTERCTL_TRY(repo, m_yaml.string(item["repo"], what + ".repo"));
            d.repo = *repo;
            if (item["revision"]) {
                CLUSTERCTL_TRY(v, m_yaml.string(item["revision"], what + ".revision"));
                d.revision = *v;
            }
            if (item["include"]) {
                CLUSTERCTL_TRY(v, m_yaml.string_list(item["include"], what + ".include"));
                d.include = *v;
            }
            if (item["exclude"]) {
                CLUSTERCTL_TRY(v, m_yaml.string_list(item["exclude"], what + ".exclude"));
                d.exclude = *v;
            }
            if (item["to"]) {
                CLUSTERCTL_TRY(v, path_value(item["to"], what + ".to"));
                d.to = *v;
            }
            if (item["tool"]) {
                CLUSTERCTL_TRY(v, m_yaml.string(item["tool"], what + ".tool"));
                // A path is fine (a venv's hf): both take the same arguments.
                std::string_view name = *v;
                name.remove_prefix(std::min(name.size(), name.rfind('/') + 1));
                if (name != "hf" && name != "huggingface-cli")
                    return fail(error_at(m_yaml.at(item["tool"]),
                                         fmt::format("{}.tool must be hf or huggingface-cli "
                                                     "(or a path to one), got '{}'",
                                                     what, *v)));
                d.tool = *v;
            }
            d.on.where = d.where;
            if (item["on"]) {
                CLUSTERCTL_TRY(on, selector(item["on"], what + ".on"));
                d.on = *on;
            }
            if (item["distribute"]) {
                CLUSTERCTL_TRY(v, m_yaml.boolean(item["distribute"], what + ".distribute"));
                d.distribute = *v;
                // The first node downloads into `to`; clusterctl copies that folder.
                if (*v && !d.to)
                    return fail(error_at(m_yaml.at(item["distribute"]),
                                         fmt::format("{}.distribute needs {}.to", what, what),
                                         "give the folder the first node downloads into"));
                if (*v && d.on.expression != "first")
                    return fail(error_at(m_yaml.at(item["distribute"]),
                                         fmt::format("{}.distribute downloads on the first node "
                                                     "only, but on: is '{}'",
                                                     what, d.on.expression),
                                         "remove on:, or distribute:"));
            }
            if (item["retries"]) {
                CLUSTERCTL_TRY(v, m_yaml.integer(item["retries"], what + ".retries", 0, 100));
                d.retries = *v;
            }
            m_config.download.push_back(std::move(d));
        }
        return util::Ok{};
    }

    // nnodes: N, or "MIN:MAX" (torchrun's elastic form): MAX nodes are launched, and a
    // restart may go on with as few as MIN.
    Status parse_nnodes(const YAML::Node& n, TrainSettings& t) {
        t.nnodes_at = m_yaml.at(n);
        CLUSTERCTL_TRY(text, m_yaml.string(n, "train.nnodes"));
        auto colon = text->find(':');
        if (colon == std::string::npos) {
            CLUSTERCTL_TRY(v, m_yaml.integer(n, "train.nnodes", 1, 100000));
            t.nnodes = *v;
            return util::Ok{};
        }
        auto low = util::parse_int(std::string_view(*text).substr(0, colon), 1, 100000);
        auto high = util::parse_int(std::string_view(*text).substr(colon + 1), 1, 100000);
        if (!low || !high || *low > *high)
            return fail(error_at(m_yaml.at(n),
                                 fmt::format("train.nnodes must be a number or MIN:MAX with "
                                             "1 <= MIN <= MAX, got '{}'",
                                             *text),
                                 "e.g. nnodes: 8, or nnodes: \"6:8\" (a restart may go on with "
                                 "6 of 8 nodes)"));
        t.nnodes = static_cast<int>(*high);
        t.min_nnodes = static_cast<int>(*low);
        return util::Ok{};
    }

    Status parse_rdzv(const YAML::Node& node, RendezvousSettings& r) {
        if (auto s = m_yaml.expect_map(node, "train.rdzv"); !s) return s;
        if (auto s = m_yaml.check_keys(node, "train.rdzv", keys_under("train.rdzv")); !s) return s;
        if (node["backend"]) {
            CLUSTERCTL_TRY(v, m_yaml.string(node["backend"], "train.rdzv.backend"));
            static const std::vector<std::string> k_backends = {"c10d", "static", "etcd",
                                                                "etcd-v2"};
            if (std::find(k_backends.begin(), k_backends.end(), *v) == k_backends.end())
                return fail(error_at(m_yaml.at(node["backend"]),
                                     fmt::format("unknown rendezvous backend '{}'", *v),
                                     "use c10d (default), static, etcd or etcd-v2"));
            r.backend = *v;
        }
        if (node["port"]) {
            CLUSTERCTL_TRY(v, m_yaml.integer(node["port"], "train.rdzv.port", 1, 65535));
            r.port = *v;
        }
        if (node["endpoint"]) {
            CLUSTERCTL_TRY(v, m_yaml.string(node["endpoint"], "train.rdzv.endpoint"));
            r.endpoint = *v;
        }
        if (node["id"]) {
            CLUSTERCTL_TRY(v, m_yaml.string(node["id"], "train.rdzv.id"));
            r.id = *v;
        }
        return util::Ok{};
    }

    Status parse_templates(const YAML::Node& node, TrainSettings& t) {
        if (auto s = m_yaml.expect_list(node, "train.templates"); !s) return s;
        std::size_t index = 0;
        for (const auto& item : node) {
            std::string what = fmt::format("train.templates[{}]", index++);
            if (auto s = m_yaml.expect_map(item, what); !s) return s;
            if (auto s = m_yaml.check_keys(item, what, keys_under("train.templates[]")); !s)
                return s;
            if (!item["src"] || !item["dst"])
                return fail(error_at(m_yaml.at(item), fmt::format("{} needs src: and dst:", what),
                                     "e.g. {src: configs/x.yaml.in, dst: configs/x.yaml}"));
            TemplateSpec spec;
            spec.where = m_yaml.at(item["src"]);
            CLUSTERCTL_TRY(src, path_value(item["src"], what + ".src"));
            CLUSTERCTL_TRY(dst, m_yaml.string(item["dst"], what + ".dst"));
            spec.src = util::resolve_path(m_config.dir, *src);
            spec.dst = *dst;
            CLUSTERCTL_TRY(text, util::read_text_file(spec.src, "template", spec.where));
            CLUSTERCTL_TRY(rendered,
                           expand_variables(
                               *text, [this](std::string_view name) { return lookup(name); },
                               {spec.src, 1, 1}, util::k_input_file_limit));
            spec.rendered = *rendered;
            t.templates.push_back(std::move(spec));
        }
        return util::Ok{};
    }

    Status parse_train(const YAML::Node& node) {
        if (auto s = m_yaml.expect_map(node, "train"); !s) return s;
        if (auto s = m_yaml.check_keys(node, "train", keys_under("train")); !s) return s;
        TrainSettings t;
        t.where = m_yaml.at(node);
        if (node["workdir"]) {
            CLUSTERCTL_TRY(v, path_value(node["workdir"], "train.workdir"));
            t.workdir = *v;
        }
        if (const auto& n = node["device"]) {
            CLUSTERCTL_TRY(v, m_yaml.string(n, "train.device"));
            if (*v != "gpu" && *v != "cpu")
                return fail(error_at(m_yaml.at(n),
                                     fmt::format("train.device must be gpu or cpu, not '{}'", *v),
                                     "gpu: check nvidia-smi against nproc_per_node; cpu: no GPUs"));
            t.gpus = *v == "gpu";
        }
        if (node["torchrun"]) {
            CLUSTERCTL_TRY(v, path_value(node["torchrun"], "train.torchrun"));
            t.torchrun = *v;
        }
        if (const auto& n = node["nproc_per_node"]) {
            t.nproc_per_node_given = true;
            t.nproc_per_node_at = m_yaml.at(n);
            if (n.IsScalar() && n.Scalar() == "auto") {
                t.nproc_per_node = std::nullopt;
            } else {
                auto v = m_yaml.integer(n, "train.nproc_per_node", 1, 1024);
                if (!v) {
                    util::Diagnostic d = v.error();
                    d.hint += ", or auto (the GPUs of each node)";
                    return fail(d);
                }
                t.nproc_per_node = *v;
            }
        } else {
            t.nproc_per_node = 1;
        }
        if (const auto& n = node["nnodes"]) {
            if (auto s = parse_nnodes(n, t); !s) return s;
        }
        if (node["rdzv"]) {
            if (auto s = parse_rdzv(node["rdzv"], t.rdzv); !s) return s;
        }
        if (node["module"] && node["script"])
            return fail(error_at(m_yaml.at(node["script"]),
                                 "train.module and train.script are both given",
                                 "keep one: module runs 'python -m MODULE', script runs a file"));
        if (node["module"]) {
            CLUSTERCTL_TRY(v, m_yaml.string(node["module"], "train.module"));
            t.module = *v;
        } else if (node["script"]) {
            CLUSTERCTL_TRY(v, m_yaml.string(node["script"], "train.script"));
            t.script = *v;
        } else {
            return fail(error_at(t.where, "train has neither module: nor script:",
                                 "e.g. module: axolotl.cli.train, or script: train.py"));
        }
        if (node["args"]) {
            CLUSTERCTL_TRY(v, m_yaml.string_list(node["args"], "train.args"));
            t.args = *v;
        }
        if (node["torchrun_args"]) {
            CLUSTERCTL_TRY(v, m_yaml.string_list(node["torchrun_args"], "train.torchrun_args"));
            t.torchrun_args = *v;
        }
        if (node["max_restarts"]) {
            CLUSTERCTL_TRY(v, m_yaml.integer(node["max_restarts"], "train.max_restarts", 0, 1000));
            t.max_restarts = *v;
        }
        if (node["restarts"]) {
            CLUSTERCTL_TRY(v, m_yaml.integer(node["restarts"], "train.restarts", 0, 1000));
            t.restarts = *v;
        }
        if (node["restart_backoff"]) {
            CLUSTERCTL_TRY(
                v, m_yaml.integer(node["restart_backoff"], "train.restart_backoff", 0, 86400));
            t.restart_backoff_s = *v;
        }
        if (node["early_failure"]) {
            CLUSTERCTL_TRY(v,
                           m_yaml.integer(node["early_failure"], "train.early_failure", 0, 86400));
            t.early_failure_s = *v;
        }
        if (node["checkpoint_dir"]) {
            CLUSTERCTL_TRY(v, path_value(node["checkpoint_dir"], "train.checkpoint_dir"));
            t.checkpoint_dir = *v;
        }
        if (node["hang_timeout"]) {
            CLUSTERCTL_TRY(
                v, m_yaml.integer(node["hang_timeout"], "train.hang_timeout", 0, 30 * 86400));
            t.hang_timeout_s = *v;
        }
        if (node["hang_startup_timeout"]) {
            CLUSTERCTL_TRY(v, m_yaml.integer(node["hang_startup_timeout"],
                                             "train.hang_startup_timeout", 0, 30 * 86400));
            t.hang_startup_timeout_s = *v;
        }
        if (const auto& n = node["on_hang"]) {
            CLUSTERCTL_TRY(v, m_yaml.string(n, "train.on_hang"));
            if (*v != "stop" && *v != "wait")
                return fail(error_at(
                    m_yaml.at(n), fmt::format("train.on_hang must be stop or wait, not '{}'", *v),
                    "stop: tear the job down once its stacks are taken; wait: "
                    "take the stacks and let it run"));
            t.stop_on_hang = *v == "stop";
        }
        if (node["templates"]) {
            if (auto s = parse_templates(node["templates"], t); !s) return s;
        }
        m_config.train = std::move(t);
        return util::Ok{};
    }

    const util::Environment& m_env;
    const std::vector<ConfigOverride>& m_overrides;
    YamlReader m_yaml;
    TrainingConfig m_config;
};

#undef CLUSTERCTL_TRY

} // namespace

std::string_view to_string(KnownHostsPolicy policy) {
    switch (policy) {
    case KnownHostsPolicy::strict:
        return "strict";
    case KnownHostsPolicy::accept_new:
        return "accept-new";
    case KnownHostsPolicy::off:
        return "off";
    }
    return "strict";
}

int TrainingConfig::default_slots() const {
    if (train && train->nproc_per_node) return *train->nproc_per_node;
    return 1;
}

util::Result<TrainingConfig> parse_training_config(std::string_view text, const std::string& path,
                                                   const util::Environment& env,
                                                   const std::vector<ConfigOverride>& overrides) {
    return ConfigParser(path, env, overrides).parse(text);
}

util::Result<TrainingConfig> load_training_config(const std::string& path,
                                                  const util::Environment& env,
                                                  const util::SourceLocation& origin,
                                                  const std::vector<ConfigOverride>& overrides) {
    auto text = util::read_text_file(path, "config", origin, k_config_file_limit);
    if (!text) return fail(text.error());
    return parse_training_config(*text, path, env, overrides);
}

} // namespace clusterctl::config
