// Plan benchmark: a hostfile of 4,096 hosts written with ranges, an ssh_config with
// patterns, and the example training config -> the resolved `train` plan. Prints the
// median and the best of several runs. Not a test: speed is measured, not asserted.
//   build/bench/plan_bench [RUNS]

#include "clusterctl/config/inventory.hpp"
#include "clusterctl/plan/planner.hpp"
#include "test_support.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

using namespace clusterctl;

int main(int argc, char** argv) {
    int runs = argc > 1 ? std::atoi(argv[1]) : 20;
    test_support::TempDir dir;
    std::string hostfile;
    for (int rack = 1; rack <= 64; ++rack)
        hostfile += "rack" + std::to_string(rack) + "-node[001-064] slots=8\n";
    dir.write("hostfile", hostfile);
    dir.write("ssh_config", "Host rack1-*\n  User admin\nHost rack*-node0*\n  Port 2222\n"
                            "Host *\n  IdentityFile ~/.ssh/id_ed25519\n  ServerAliveInterval 30\n");
    dir.write("train.py", "print('hello')\n");
    dir.write("c.yaml", "cluster: {hostfile: hostfile, ssh_config: ssh_config, user: ubuntu}\n"
                        "env: {HF_HOME: /shared/hf}\n"
                        "train:\n  workdir: /shared/run\n  nproc_per_node: 8\n"
                        "  script: train.py\n  templates: [{src: train.py, dst: train.py}]\n");
    auto env = test_support::test_environment();
    std::vector<double> ms;
    std::size_t hosts = 0;
    for (int i = 0; i < runs; ++i) {
        auto start = std::chrono::steady_clock::now();
        auto config = config::load_training_config(dir.file("c.yaml"), env, {"bench", 1, 1});
        auto inventory = config::resolve_inventory(&*config, {}, env);
        if (!inventory) {
            std::fprintf(stderr, "%s\n", inventory.error().str().c_str());
            return 1;
        }
        auto plan = plan::plan_train({*inventory, &*config, "bench"});
        if (!plan) return 1;
        auto end = std::chrono::steady_clock::now();
        ms.push_back(std::chrono::duration<double, std::milli>(end - start).count());
        hosts = plan->hosts.size();
    }
    std::sort(ms.begin(), ms.end());
    std::printf("plan train: %zu hosts, %d runs: median %.1f ms, best %.1f ms\n", hosts, runs,
                ms[ms.size() / 2], ms.front());
    return 0;
}
