// A newcomer's workflow without a cluster: overrides on the command line (--set, --env),
// rendered templates, after: steps and per-step activate in the dry run, and the config
// schema's two other outputs (docs/CONFIG.md's key tables, the JSON Schema) kept to it.

#include "clusterctl/config/schema.hpp"
#include "clusterctl/output/config_json_schema.hpp"
#include "clusterctl/util/strings.hpp"
#include "test_support.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

using namespace clusterctl;

namespace {

const std::string k_source = CLUSTERCTL_SOURCE_DIR;
const std::string k_405b = k_source + "/configs/llama-3.1-405b/clusterctl.yaml";
const std::string k_tiny = k_source + "/configs/examples/tiny/clusterctl.yaml";

util::Environment environment() {
    return test_support::test_environment({{"PATH_STORAGE", "/shared"}});
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

TEST(Overrides, SetReplacesAnyKeyWithAYamlValueAndEnvAddsAVariable) {
    auto r = test_support::run_cli({"-c", k_tiny, "train", "--dry-run", "--set",
                                    "train.nproc_per_node=3", "--set", "train.args=[--steps, 100]",
                                    "--env", "NCCL_DEBUG=INFO", "--env", "OMP_NUM_THREADS=4"},
                                   environment());
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(has(r.out, "--nproc_per_node=3")) << r.out;
    EXPECT_TRUE(has(r.out, "train_tiny.py --steps 100")) << r.out;
    EXPECT_TRUE(has(r.out, "export NCCL_DEBUG=INFO")) << r.out;
    EXPECT_TRUE(has(r.out, "export OMP_NUM_THREADS=4")) << "--env replaces env:'s value";
    EXPECT_FALSE(has(r.out, "export OMP_NUM_THREADS=1")) << r.out;
    // A whole section as a flow mapping; a key the file lacks is added.
    auto rdzv = test_support::run_cli(
        {"-c", k_tiny, "train", "--dry-run", "--set", "train.rdzv={backend: static, port: 29999}"},
        environment());
    ASSERT_EQ(rdzv.code, 0) << rdzv.err;
    EXPECT_TRUE(has(rdzv.out, "--rdzv_backend=static")) << rdzv.out;
    EXPECT_TRUE(has(rdzv.out, "--master_port=29999")) << rdzv.out;
}

TEST(Overrides, EnvWorksWithoutAConfigFile) {
    test_support::TempDir dir;
    auto r = test_support::run_cli({"-w", "a,b", "-c", dir.file("none.yaml"), "--dry-run", "exec",
                                    "--env", "X=1", "--", "true"},
                                   environment());
    EXPECT_EQ(r.code, 2) << "a config named with -c must exist";
    auto bare = test_support::run_cli(
        {"-w", "a,b", "--dry-run", "exec", "--env", "X=1", "--", "env"}, environment());
    ASSERT_EQ(bare.code, 0) << bare.err;
    EXPECT_TRUE(has(bare.out, "export X=1")) << bare.out;
}

TEST(Render, PrintsEveryTemplateAsTrainShipsItOrWritesThemToAFolder) {
    auto r = test_support::run_cli({"-c", k_405b, "render"}, environment());
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(has(r.out, "# " + k_source +
                               "/configs/llama-3.1-405b/llama-3_1-405b-fft.yaml.in -> "
                               "/shared/axolotl-cookbook/lambda/configs/llama-3_1-405b-fft.yaml ("))
        << r.out;
    EXPECT_TRUE(has(r.out, "\nbase_model: meta-llama/Meta-Llama-3.1-405B  #")) << r.out;
    EXPECT_TRUE(has(r.out, "\noutput_dir: /shared/axolotl-artifacts/outputs/")) << r.out;
    EXPECT_FALSE(has(r.out, "${")) << "every variable expanded";
    // --set reaches the templates' variables too.
    auto other = test_support::run_cli(
        {"-c", k_405b, "render", "--set", "env.MODEL=meta-llama/Meta-Llama-3.1-8B"}, environment());
    EXPECT_TRUE(has(other.out, "\nbase_model: meta-llama/Meta-Llama-3.1-8B  #")) << other.out;

    test_support::TempDir dir;
    auto written =
        test_support::run_cli({"-c", k_405b, "render", "-o", dir.file("out")}, environment());
    ASSERT_EQ(written.code, 0) << written.err;
    std::string file =
        dir.file("out/shared/axolotl-cookbook/lambda/configs/llama-3_1-405b-fft.yaml");
    EXPECT_TRUE(has(written.err, "wrote " + file)) << written.err;
    EXPECT_EQ(read_file(file), r.out.substr(r.out.find('\n') + 1));

    auto none = test_support::run_cli({"-w", "a", "render"}, environment());
    EXPECT_EQ(none.code, 2);
}

TEST(AfterSteps, TheDryRunShowsThemAfterTheLaunchOnTheNodesTheyName) {
    auto r = test_support::run_cli({"-c", k_405b, "train", "--dry-run", "--job-id", "golden"},
                                   environment());
    ASSERT_EQ(r.code, 0) << r.err;
    std::size_t launch = r.out.find("launch");
    std::size_t merge = r.out.find("after: merge");
    ASSERT_NE(merge, std::string::npos) << r.out;
    EXPECT_LT(launch, merge);
    EXPECT_TRUE(has(r.out.substr(merge), "python -m axolotl.cli.merge_sharded_fsdp_weights "
                                         "configs/llama-3_1-405b-fft.yaml"))
        << r.out;
    EXPECT_TRUE(has(r.out, "note: after: steps run once training has succeeded")) << r.out;
    // on: first is node rank 0 alone.
    auto json = test_support::run_cli(
        {"-c", k_405b, "--json", "train", "--dry-run", "--job-id", "golden"}, environment());
    ASSERT_EQ(json.code, 0);
    auto doc = nlohmann::json::parse(json.out);
    const auto& last = doc["stages"].back();
    EXPECT_EQ(last["name"], "after: merge");
    ASSERT_EQ(last["tasks"].size(), 1u) << last.dump();
}

TEST(AfterSteps, NeedATrainSection) {
    test_support::TempDir dir;
    dir.write("c.yaml", "cluster: {hosts: [a]}\nafter:\n  - {name: m, run: 'true'}\n");
    auto r = test_support::run_cli({"-c", dir.file("c.yaml"), "validate"}, environment());
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.err, dir.file("c.yaml") +
                         ":3:5: error: after: steps run once training has succeeded, but the "
                         "config has no train: section (add train:, or make these setup: "
                         "steps)\n");
}

TEST(Activate, AStepCanRunWithoutIt) {
    auto r = test_support::run_cli({"-c", k_405b, "setup", "--dry-run"}, environment());
    ASSERT_EQ(r.code, 0) << r.err;
    // The 405B setup: neither step sources conda's activate (setup.sh installs it).
    EXPECT_FALSE(has(r.out, "miniconda3/bin/activate")) << r.out;
    auto train = test_support::run_cli({"-c", k_405b, "train", "--dry-run"}, environment());
    EXPECT_TRUE(has(train.out, "source /home/ubuntu/miniconda3/bin/activate pytorch")) << train.out;
    auto back =
        test_support::run_cli({"-c", k_405b, "setup", "--dry-run", "--set",
                               "setup=[{name: a, run: x}, {name: b, run: y, activate: false}]"},
                              environment());
    ASSERT_EQ(back.code, 0) << back.err;
    std::size_t a = back.out.find("a ");
    std::size_t b = back.out.find("activate pytorch", a);
    std::size_t second = back.out.find("\n  b");
    ASSERT_NE(b, std::string::npos) << back.out;
    EXPECT_LT(b, second == std::string::npos ? back.out.size() : second) << back.out;
    EXPECT_EQ(back.out.find("activate pytorch", b + 1), std::string::npos) << back.out;
}

// The `code` spans of a line of markdown.
std::vector<std::string> code_spans(const std::string& text) {
    std::vector<std::string> spans;
    for (std::size_t open = text.find('`'); open != std::string::npos;) {
        std::size_t close = text.find('`', open + 1);
        if (close == std::string::npos) break;
        spans.push_back(text.substr(open + 1, close - open - 1));
        open = text.find('`', close + 1);
    }
    return spans;
}

// Every key of the schema has a row (or its section a heading) in docs/CONFIG.md, and every
// row names a key of the schema.
TEST(Schema, DocsConfigTablesNameExactlyTheSchemasKeys) {
    std::string doc = read_file(k_source + "/docs/CONFIG.md");
    std::set<std::string> documented;
    std::istringstream lines(doc);
    std::string line, section;
    std::set<std::string> lists;
    for (const auto& key : config::config_schema()) {
        std::string path(key.path);
        if (auto at = path.find("[]"); at != std::string::npos) lists.insert(path.substr(0, at));
    }
    while (std::getline(lines, line)) {
        if (line.rfind("## ", 0) == 0) { // "## `train`"; any other heading ends a section
            auto words = code_spans(line);
            section = line.rfind("## `", 0) == 0 && !words.empty() ? words.front() : "";
            if (!section.empty()) documented.insert(section);
            continue;
        }
        if (section.empty() || line.rfind("| `", 0) != 0) continue;
        for (const auto& key : code_spans(line.substr(1, line.find('|', 1) - 1)))
            documented.insert(section + (lists.count(section) ? "[]." : ".") + key);
    }
    std::set<std::string> schema;
    for (const auto& key : config::config_schema()) {
        std::string path(key.path);
        if (path.find('*') != std::string::npos) continue; // a name the user picks: its section
        bool nested = path.find('.') != std::string::npos;
        if (key.type == config::ValueType::section && nested) continue; // train.rdzv: its rows
        // train.templates[].src: the row of train.templates says what an item holds
        if (auto at = path.find("[]."); at != std::string::npos && path.find('.') < at)
            path = path.substr(0, at);
        schema.insert(path);
    }
    for (const auto& key : schema)
        EXPECT_TRUE(documented.count(key)) << key << " is not in docs/CONFIG.md";
    for (const auto& key : documented)
        EXPECT_TRUE(schema.count(key)) << key << " is in docs/CONFIG.md but not a config key";
}

TEST(Schema, TheCommittedJsonSchemaIsTheOneTheCodeMakes) {
    std::string path = k_source + "/docs/clusterctl.schema.json";
    std::string made = output::config_json_schema().dump(2) + "\n";
    if (std::getenv("CLUSTERCTL_UPDATE_GOLDEN")) {
        std::ofstream(path, std::ios::binary) << made;
        GTEST_SKIP() << "rewrote " << path;
    }
    EXPECT_EQ(read_file(path), made) << "regenerate: CLUSTERCTL_UPDATE_GOLDEN=1 ctest -L golden";
    auto r = test_support::run_cli({"schema"}, environment());
    EXPECT_EQ(r.code, 0);
    EXPECT_EQ(r.out, made);
}

TEST(Schema, TheJsonSchemaDescribesEveryKeyAndRefusesAnUnknownOne) {
    auto schema = output::config_json_schema();
    EXPECT_EQ(schema["additionalProperties"], false);
    const auto& train = schema["properties"]["train"];
    EXPECT_EQ(train["additionalProperties"], false);
    EXPECT_TRUE(train["properties"].contains("nproc_per_node"));
    EXPECT_EQ(schema["properties"]["setup"]["type"], "array");
    EXPECT_TRUE(schema["properties"]["setup"]["items"]["properties"].contains("activate"));
    EXPECT_TRUE(schema["properties"]["after"]["items"]["properties"].contains("run"));
    // node_env: {HOSTS: {NAME: value}}
    const auto& node_env = schema["properties"]["node_env"];
    EXPECT_EQ(node_env["additionalProperties"]["type"], "object") << node_env.dump();
    std::string backend = schema["properties"]["cluster"]["properties"]["backend"].dump();
    EXPECT_TRUE(has(backend, "\"slurm\"")) << backend;
}

// The schema's choices are the parser's: each is accepted, a word that is none refused.
TEST(Schema, EveryChoiceIsAcceptedByTheParser) {
    for (const auto& key : config::config_schema()) {
        if (key.type != config::ValueType::choice) continue;
        std::string path(key.path);
        std::string words(key.choices);
        ASSERT_FALSE(words.empty()) << path;
        for (const auto& word : util::split(words, '|')) {
            // backend: slurm takes no host list: its nodes are the allocation's.
            std::string set = path == "cluster.backend" && word == "slurm"
                                  ? "cluster={backend: slurm}"
                                  : path + "=" + word;
            auto r = test_support::run_cli({"-c", k_tiny, "validate", "--set", set}, environment());
            EXPECT_EQ(r.code, 0) << path << "=" << word << ": " << r.err;
        }
        auto bad = test_support::run_cli({"-c", k_tiny, "validate", "--set", path + "=nonsense"},
                                         environment());
        EXPECT_EQ(bad.code, 2) << path;
        EXPECT_TRUE(has(bad.err, "<command line>:1:")) << path << ": " << bad.err;
    }
}

} // namespace

namespace {

// `clusterctl ARGS` printed into a file of `dir`; its path.
std::string printed(const test_support::TempDir& dir, const std::vector<std::string>& args,
                    const std::string& name) {
    auto r = test_support::run_cli(args, environment());
    EXPECT_EQ(r.code, 0) << r.err;
    dir.write(name, r.out);
    return dir.file(name);
}

// What a shell command prints on stdout.
std::string shell_output(const std::string& command) {
    std::string out;
    FILE* pipe = ::popen(command.c_str(), "r");
    if (!pipe) return out;
    char buffer[4096];
    while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe))
        out.append(buffer, n);
    ::pclose(pipe);
    return out;
}

} // namespace

// The man page and both completions are made from the command definitions: every option
// and command of --help is in each; each is valid for its reader.
TEST(GeneratedDocs, ManPageAndCompletionsHoldEveryCommandAndOption) {
    test_support::TempDir dir;
    std::string man = read_file(printed(dir, {"manpage"}, "clusterctl.1"));
    std::string bash = read_file(printed(dir, {"completion", "bash"}, "clusterctl.bash"));
    std::string zsh = read_file(printed(dir, {"completion", "zsh"}, "_clusterctl"));
    for (const auto& option : cli::describe_options()) {
        if (option.positional) continue;
        std::string roff;
        for (char c : option.name)
            roff += c == '-' ? std::string("\\-") : std::string(1, c);
        EXPECT_TRUE(has(man, roff)) << option.name << " (" << option.command << ") not in man";
        EXPECT_TRUE(has(bash, option.name)) << option.name << " not in bash completion";
        EXPECT_TRUE(has(zsh, option.name)) << option.name << " not in zsh completion";
        if (!option.command.empty()) {
            EXPECT_TRUE(has(man, ".SS " + option.command)) << option.command;
        }
    }
    EXPECT_FALSE(has(man, ".SS manpage")) << "the hidden command stays hidden";
    // groff reads it without a warning.
    std::string warnings = shell_output("groff -man -ww -z " + dir.file("clusterctl.1") + " 2>&1");
    EXPECT_EQ(warnings, "");
    EXPECT_EQ(shell_output("zsh -n " + dir.file("_clusterctl") + " 2>&1 && echo ok"), "ok\n");
    // bash completes a command, a command's own option and a file after -c.
    std::string complete = "source " + dir.file("clusterctl.bash") +
                           "; COMP_WORDS=(clusterctl tr); COMP_CWORD=1; _clusterctl; "
                           "echo \"${COMPREPLY[*]}\"; "
                           "COMP_WORDS=(clusterctl train --de); COMP_CWORD=2; _clusterctl; "
                           "echo \"${COMPREPLY[*]}\"; "
                           "COMP_WORDS=(clusterctl -c " +
                           dir.file("clusterctl.b") +
                           "); COMP_CWORD=2; _clusterctl; echo \"${COMPREPLY[*]}\"";
    EXPECT_EQ(shell_output("bash -c '" + complete + "'"),
              "train\n--detach\n" + dir.file("clusterctl.bash") + "\n");
}

TEST(Init, WritesAStarterConfigAndHostfileThatValidateAccepts) {
    test_support::TempDir dir;
    std::string config = dir.file("clusterctl.yaml");
    auto r = test_support::run_cli({"-c", config, "init"}, environment());
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(has(r.err, "wrote " + config + " and " + dir.file("hostfile"))) << r.err;
    auto valid = test_support::run_cli({"-c", config, "validate"}, environment());
    EXPECT_EQ(valid.code, 0) << valid.err;
    EXPECT_EQ(valid.err, "clusterctl: ok: 2 hosts, config " + config + "\n");
    auto dry = test_support::run_cli({"-c", config, "train", "--dry-run"}, environment());
    EXPECT_EQ(dry.code, 0) << dry.err;
    EXPECT_TRUE(has(dry.out, "--nnodes=2")) << dry.out;
    EXPECT_TRUE(has(read_file(config), "# yaml-language-server: $schema=")) << read_file(config);

    auto again = test_support::run_cli({"-c", config, "init"}, environment());
    EXPECT_EQ(again.code, 2);
    EXPECT_TRUE(has(again.err, "error: " + config + " exists already (give --force")) << again.err;

    // A hostfile of one's own: named relative to the config, not rewritten.
    dir.write("hosts/mine", "gpu-[1-4] slots=4\n");
    std::string other = dir.file("other.yaml");
    auto own = test_support::run_cli({"-c", other, "--hostfile", dir.file("hosts/mine"), "init"},
                                     environment());
    ASSERT_EQ(own.code, 0) << own.err;
    EXPECT_TRUE(has(read_file(other), "hostfile: hosts/mine ")) << read_file(other);
    EXPECT_EQ(read_file(dir.file("hosts/mine")), "gpu-[1-4] slots=4\n");
    auto hosts = test_support::run_cli({"-c", other, "hosts"}, environment());
    EXPECT_EQ(hosts.code, 0) << hosts.err;
    EXPECT_TRUE(has(hosts.out, "gpu-4")) << hosts.out;
}
