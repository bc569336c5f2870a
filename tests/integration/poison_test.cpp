// No config value and no flag runs as a command. A poison value, made of every way text
// becomes a command in a shell ($(...), backticks, ';', a newline, both quotes), is
// poured into each text-typed key of the config schema (config::config_schema(), so a
// key added there is covered here without anyone remembering to) and into each option
// that takes a value (cli::describe_options()); then check, setup, download, train and
// train --detach (and stop) run on a real 2-node sandbox. Each piece of the poison, run,
// would create a file in a mark folder that every node sees: none may appear, on any
// node or here. The shell-typed keys (setup and after run:, activate:) are commands by design:
// for them the marks MUST appear, which proves the poison would be caught.

#include "clusterctl/cli/app.hpp"
#include "clusterctl/config/schema.hpp"
#include "sandbox.hpp"

#include <fcntl.h>
#include <filesystem>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <yaml-cpp/yaml.h>

namespace clusterctl::test_support {
namespace {

namespace fs = std::filesystem;

struct Target {
    std::string key;     // "train.workdir", or an option: "--job-id", "push DST"
    bool flag = false;   // an option rather than a config key
    bool shell = false;  // a command by design: the marks must appear
    std::string command; // for a subcommand's own option: that command
    bool positional = false;
};

void PrintTo(const Target& t, std::ostream* os) {
    *os << (t.command.empty() ? "" : t.command + " ") << t.key;
}

std::string test_name(const Target& t) {
    std::string name =
        (t.flag ? "flag_" : "key_") + t.command + (t.command.empty() ? "" : "_") + t.key;
    for (char& c : name)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    return name;
}

bool poisonable(config::ValueType type) {
    using T = config::ValueType;
    switch (type) {
    case T::text:
    case T::local_path:
    case T::remote_path:
    case T::shell:
    case T::choice:
    case T::host_list:
    case T::text_list:
    case T::variable:
        return true;
    case T::section:
    case T::integer:
    case T::boolean:
        return false;
    }
    return false;
}

std::vector<Target> targets() {
    std::vector<Target> all;
    for (const auto& key : config::config_schema())
        if (poisonable(key.type))
            all.push_back(
                {std::string(key.path), false, key.type == config::ValueType::shell, "", false});
    for (const auto& option : cli::describe_options()) {
        if (!option.takes_value) continue;
        // exec's command is shell by design.
        bool shell = option.command == "exec" && option.positional;
        all.push_back({option.name, true, shell, option.command, option.positional});
    }
    return all;
}

// Each piece, were it run by a shell, creates MARKS/<piece>.
std::string poison(const std::string& marks) {
    return "p$(touch " + marks + "/dollar)`touch " + marks + "/backtick`;touch " + marks +
           "/semicolon;\ntouch " + marks + "/newline\n';touch " + marks + "/single;'\";touch " +
           marks + "/double;\"";
}

// The node for `path` ("setup[].run", "env.*", "node_env.*.*"), created on the way: a list
// item is the list's first (a new one when empty), a map's "*" entry its first entry (or
// `fresh` when it has none). yaml-cpp's Node::operator= writes through to the node it
// refers to, so moving along the path is reset(), never assignment.
YAML::Node walk(YAML::Node node, std::string_view path, const std::string& fresh) {
    while (!path.empty()) {
        std::size_t dot = path.find('.');
        std::string part(path.substr(0, dot));
        path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
        bool list = part.size() > 2 && part.ends_with("[]");
        if (list) part.resize(part.size() - 2);
        YAML::Node next;
        if (part == "*") {
            if (!node.IsMap() || node.size() == 0) node[fresh] = YAML::Node(YAML::NodeType::Map);
            next.reset(node.begin()->second);
        } else {
            if (!node[part]) node[part] = YAML::Node();
            next.reset(node[part]);
        }
        if (list) {
            if (!next.IsSequence() || next.size() == 0) {
                YAML::Node item(YAML::NodeType::Map);
                if (part == "setup" || part == "after") item["run"] = "true";
                if (part == "download") item["repo"] = "org/model";
                if (part == "templates") {
                    item["src"] = "train_tiny.py";
                    item["dst"] = "copy.py";
                }
                next.push_back(item);
            }
            YAML::Node first = next[0];
            next.reset(first);
        }
        node.reset(next);
    }
    return node;
}

// The sandbox's tiny job, with every section a key can be in, made cheap: its ranks run a
// script that prints its arguments (torch is imported by torchrun and the pre-flight check
// only, not by 2 ranks a node and a setup step besides: 16 imports a key became 6, most of
// this test's time). torchrun, sshd and every remote script are as real as ever.
YAML::Node base_config(const std::string& yaml, Sandbox& sb) {
    YAML::Node root = YAML::Load(yaml);
    write_file(sb.file("poison_job.py"), "import sys\nprint('args', sys.argv[1:])\n");
    root["train"]["script"] = "poison_job.py";
    root["train"]["templates"][0]["src"] = "poison_job.py";
    root["train"]["templates"][0]["dst"] = "poison_job.py";
    root["train"]["nproc_per_node"] = 1;
    root["train"]["args"] = YAML::Load("[--steps, \"2\"]");
    for (auto step : root["setup"])
        if (step["name"].as<std::string>() == "marker")
            step["run"] = "touch \"$RUN_DIR/.setup-done\"";
    root["cluster"]["shared_dir"] = "${RUN_DIR}";
    root["cluster"]["connect_timeout"] = 5;
    root["node_env"]["all"]["NODE_VAR"] = "x";
    root["secrets"]["POISON_SECRET"]["env"] = "POISON_SECRET";
    YAML::Node download = YAML::Load("{repo: org/model, to: /tmp/no-model, retries: 0}");
    root["download"].push_back(download);
    return root;
}

// The config with `key` poisoned, written where the sandbox reads it.
void write_poisoned(Sandbox& sb, const YAML::Node& base, const Target& t, const std::string& p) {
    YAML::Node root = YAML::Clone(base);
    const std::string& key = t.key;
    if (key.ends_with(".*") && key != "node_env.*") {
        // A map's entry: its value is the poison.
        walk(root, key.substr(0, key.size() - 2), "")["CLUSTERCTL_POISON"] = p;
    } else if (key == "node_env.*") {
        root["node_env"][p]["NODE_VAR"] = "x"; // the key is the host list
    } else if (key.ends_with("args") || key.ends_with("include") || key.ends_with("exclude")) {
        walk(root, key, "all").push_back(p);
    } else {
        YAML::Node node = walk(root, key, "all");
        node = p;
    }
    YAML::Emitter out;
    out << root;
    write_file(sb.file("clusterctl.yaml"), out.c_str());
}

// The argument lists of the runs; a poisoned option is added to each (or, for a
// subcommand's own option, only to that subcommand's run).
std::vector<std::vector<std::string>> runs_for(const Target& t, const std::string& p,
                                               const std::string& src) {
    std::vector<std::vector<std::string>> runs = {
        {"check"}, {"setup"}, {"download"}, {"train", "--no-check"}, {"exec", "--", "true"}};
    if (!t.flag) {
        runs.push_back({"train", "--detach", "--no-check"});
        runs.push_back({"stop"});
        return runs;
    }
    if (t.command.empty()) {
        for (auto& run : runs)
            run.insert(run.begin(), {t.key, p});
        return runs;
    }
    std::vector<std::string> run;
    if (t.command == "push")
        run = {"push", t.key == "SRC" ? p : src, t.key == "DST" ? p : "/tmp/poison-dst"};
    else if (t.command == "exec")
        run = {"exec", "--", p};
    else if (t.positional)
        run = {t.command, p};
    else
        run = {t.command, t.key, p};
    return {run};
}

class Poison : public ::testing::TestWithParam<Target> {};

TEST_P(Poison, NoValueRunsAsACommandOnAnyNode) {
    const Target& t = GetParam();
    Sandbox sb(2);
    std::string marks = sb.file("marks");
    fs::create_directories(marks);
    std::string p = poison(marks);
    YAML::Node base = base_config(read_file(sb.file("clusterctl.yaml")), sb);
    if (t.flag) {
        YAML::Emitter out;
        out << base;
        write_file(sb.file("clusterctl.yaml"), out.c_str());
    } else {
        write_poisoned(sb, base, t, p);
    }
    std::string said;
    for (const auto& args : runs_for(t, p, sb.file("train_tiny.py"))) {
        auto start = std::chrono::steady_clock::now();
        auto r = sb.run(args, {"POISON_SECRET=" + p}, std::chrono::seconds(120));
        std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
        said += "$ clusterctl " + args.front() + " -> " + std::to_string(r.code) + " (" +
                std::to_string(took.count()) + " s)\n" + r.err;
    }
    std::vector<std::string> found;
    for (const auto& e : fs::directory_iterator(marks))
        found.push_back(e.path().filename().string());
    if (t.shell)
        EXPECT_FALSE(found.empty()) << t.key << " is shell by design: the poison must run\n"
                                    << said;
    else
        EXPECT_TRUE(found.empty())
            << t.key << " ran as a command: " << ::testing::PrintToString(found) << "\n"
            << said;
    EXPECT_EQ(sb.leftovers(), "");
}

INSTANTIATE_TEST_SUITE_P(EveryKeyAndFlag, Poison, ::testing::ValuesIn(targets()),
                         [](const ::testing::TestParamInfo<Target>& param) {
                             return test_name(param.param);
                         });

} // namespace
} // namespace clusterctl::test_support

namespace clusterctl::test_support {
namespace {

struct Usage {
    int code = -1;
    double seconds = 0;
    long max_rss_kb = 0;
    std::string err;
};

// clusterctl ARGS as a process of its own, with what it cost (wait4's rusage).
Usage measure(const std::vector<std::string>& args, const std::string& dir) {
    std::vector<std::string> argv{CLUSTERCTL_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    std::string err_file = dir + "/measure.err";
    auto start = std::chrono::steady_clock::now();
    pid_t pid = ::fork();
    if (pid == 0) {
        int fd = ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(fd, 2);
        int null = ::open("/dev/null", O_RDWR);
        ::dup2(null, 0);
        ::dup2(null, 1);
        auto env = clusterctl_env(dir, {});
        auto cargv = c_strings(argv);
        auto cenv = c_strings(env);
        ::execve(cargv[0], cargv.data(), cenv.data());
        ::_exit(127);
    }
    int status = 0;
    struct rusage usage {};
    ::wait4(pid, &status, 0, &usage);
    Usage u;
    u.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    u.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    u.max_rss_kb = usage.ru_maxrss;
    u.err = read_file(err_file);
    return u;
}

// Each hostile input of the security review, as a file: refused with exit 2 and a
// diagnostic, quickly, and within 100 MB more than clusterctl's own footprint.
TEST(Limits, HostileInputsAreRefusedQuicklyAndInLittleMemory) {
    TempDir dir("/tmp");
    std::string d = dir.path();
    ASSERT_EQ(::mkfifo((d + "/fifo").c_str(), 0600), 0);
    std::string bomb = "cluster: {hosts: [a]}\nenv:\n  A0: xxxx\n";
    for (int i = 1; i <= 16; ++i) {
        std::string prev = "${A" + std::to_string(i - 1) + "}";
        bomb += "  A" + std::to_string(i) + ": \"" + prev + prev + prev + prev + "\"\n";
    }
    write_file(d + "/bomb.yaml", bomb);
    write_file(d + "/long-name", std::string((16 << 20) - 2, 'a') + "\n"); // one 16 MiB name
    write_file(d + "/big.yaml", "env:\n  A: " + std::string(100 << 20, 'x') + "\n"); // 100 MB
    write_file(d + "/scalar.yaml", "cluster: {hosts: [a]}\nenv:\n  A: " +
                                       std::string((1 << 20) - 64, 'x') + "\n"); // accepted
    const std::vector<std::vector<std::string>> cases = {
        {"--hostfile", "/dev/zero", "hosts"},
        {"-c", d + "/fifo", "hosts"},
        {"--hostfile", d + "/fifo", "hosts"},
        {"-c", d + "/bomb.yaml", "hosts"},
        {"--hostfile", d + "/long-name", "hosts"},
        {"-c", d + "/big.yaml", "hosts"},
        {"--ssh-config", "/dev/zero", "-w", "a", "hosts"},
    };
    // What clusterctl itself takes for a one-line hostfile: the cases are held to 100 MB on
    // top of it (a release build's is 9 MB; AddressSanitizer's own shadow is 160 MB).
    write_file(d + "/one", "node-1\n");
    long base_kb = measure({"--hostfile", d + "/one", "hosts"}, d).max_rss_kb;
    for (const auto& args : cases) {
        Usage u = measure(args, d);
        std::string what = args[0] + " " + args[1];
        EXPECT_EQ(u.code, 2) << what << ": " << u.err;
        EXPECT_NE(u.err.find(": error: "), std::string::npos) << what << ": " << u.err;
        EXPECT_LT(u.max_rss_kb - base_kb, 100 * 1024) << what;
        EXPECT_LT(u.seconds, 5) << what; // a bound on waiting, not a speed target
        std::printf("limits: %-40s %.3f s %ld KB (base %ld KB)\n", what.substr(0, 40).c_str(),
                    u.seconds, u.max_rss_kb, base_kb);
    }
    Usage ok = measure({"-c", d + "/scalar.yaml", "hosts"}, d);
    EXPECT_EQ(ok.code, 0) << ok.err;
    EXPECT_LT(ok.max_rss_kb - base_kb, 100 * 1024);
    std::printf("limits: 1 MiB YAML scalar accepted: %.3f s %ld KB\n", ok.seconds, ok.max_rss_kb);
}

} // namespace
} // namespace clusterctl::test_support
