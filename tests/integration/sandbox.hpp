#pragma once
// A sandbox cluster for the training tests (scripts/sandbox-cluster): nodes node-001..N,
// each a network namespace with its own hostname and sshd, and Debian's real torchrun.
// What runs inside a node is found through /proc: a process belongs to node I when its
// network namespace is that node's.

#include "farm.hpp"

#include <csignal>
#include <map>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

namespace clusterctl::test_support {

class Sandbox {
public:
    explicit Sandbox(int nodes, const std::string& options = "") : m_dir("/tmp"), m_nodes(nodes) {
        std::string command = owner_env() + std::string(CLUSTERCTL_SOURCE_DIR) +
                              "/scripts/sandbox-cluster up " + std::to_string(nodes) + " " +
                              m_dir.path() + " " + options + " >/dev/null";
        if (std::system(command.c_str()) != 0)
            throw std::runtime_error("sandbox-cluster up failed");
        m_up = true;
        std::istringstream env(read_file(file("sandbox.env")));
        std::string line;
        while (std::getline(env, line))
            if (line.rfind("K=", 0) == 0) m_k = line.substr(2);
    }
    ~Sandbox() {
        for (pid_t pid : supervisors()) // a test that failed may leave one
            ::kill(pid, SIGKILL);
        if (m_up)
            std::system((std::string(CLUSTERCTL_SOURCE_DIR) + "/scripts/sandbox-cluster down " +
                         m_dir.path())
                            .c_str());
    }
    Sandbox(const Sandbox&) = delete;
    Sandbox& operator=(const Sandbox&) = delete;

    std::string file(const std::string& name) const { return m_dir.file(name); }
    int nodes() const { return m_nodes; }

    // The config with `from` replaced by `to` (a test's variant of the tiny job).
    void edit_config(const std::string& from, const std::string& to) {
        replace_in_file(file("clusterctl.yaml"), from, to);
    }

    std::vector<std::string> env(const std::vector<std::string>& extra = {}) const {
        std::vector<std::string> e{"WANDB_API_KEY=" + std::string(k_wandb_key)};
        e.insert(e.end(), extra.begin(), extra.end());
        return clusterctl_env(m_dir.path(), e);
    }

    std::unique_ptr<Process> start(std::vector<std::string> args,
                                   const std::vector<std::string>& extra_env = {}) {
        std::vector<std::string> argv{CLUSTERCTL_BINARY, "-c", file("clusterctl.yaml"), "--log-dir",
                                      file("logs")};
        argv.insert(argv.end(), args.begin(), args.end());
        ++m_runs;
        return std::make_unique<Process>(argv, file("out." + std::to_string(m_runs)),
                                         file("err." + std::to_string(m_runs)), env(extra_env));
    }

    Farm::Run run(std::vector<std::string> args, const std::vector<std::string>& extra_env = {},
                  std::chrono::seconds limit = std::chrono::seconds(180)) {
        auto p = start(std::move(args), extra_env);
        int code = p->wait(limit);
        return {code, p->out(), p->err()};
    }

    // The processes of node `i` (from 1) whose command line holds `needle`.
    std::vector<pid_t> on_node(int i, const std::string& needle) const {
        return processes_in_netns("/run/netns/ccsb" + m_k + "-n" + std::to_string(i), needle);
    }

    // The detached jobs' supervisors of this sandbox: clusterctl processes on this machine
    // (not in a node) running `supervise` with the sandbox as their HOME.
    std::vector<pid_t> supervisors() const {
        std::vector<pid_t> found;
        for (pid_t pid : processes_holding(" supervise ")) {
            std::string environ = read_file("/proc/" + std::to_string(pid) + "/environ");
            if (environ.find("HOME=" + m_dir.path() + std::string(1, '\0')) != std::string::npos)
                found.push_back(pid);
        }
        return found;
    }

    // The record of a detached job, as clusterctl keeps it in the sandbox's HOME.
    nlohmann::json job_record(const std::string& job) const {
        std::string text = read_file(file(".clusterctl/jobs/" + job + ".json"));
        return nlohmann::json::parse(text, nullptr, false);
    }

    // Every node: no python and no torchrun left. Counts each node looked at.
    std::string leftovers() {
        std::string found;
        for (int i = 1; i <= m_nodes; ++i) {
            ++orphan_checks;
            for (const char* what : {"python", "torchrun", "train_tiny"})
                for (pid_t pid : on_node(i, what))
                    found += "node " + std::to_string(i) + ": pid " + std::to_string(pid) + " " +
                             what + "\n";
        }
        return found;
    }

    static constexpr const char* k_wandb_key = "wandb-sandbox-secret-7f3a";
    static inline int orphan_checks = 0;

private:
    TempDir m_dir;
    int m_nodes;
    std::string m_k;
    bool m_up = false;
    int m_runs = 0;
};

} // namespace clusterctl::test_support
