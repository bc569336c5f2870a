#include "clusterctl/config/secrets.hpp"
#include "clusterctl/config/training_config.hpp"
#include "clusterctl/plan/planner.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

using namespace clusterctl;

namespace {

const char* k_train_yaml = R"(
cluster:
  hosts: ["node-[1-3]"]
env:
  HF_HOME: /shared/hf
secrets:
  HF_TOKEN: {env: HF_TOKEN}
train:
  workdir: /shared/run
  torchrun: /opt/bin/torchrun
  nproc_per_node: 8
  module: axolotl.cli.train
  args: [cfg.yaml]
)";

struct Fixture {
    config::TrainingConfig config;
    config::Inventory inventory;
};

Fixture load(const std::string& yaml, const config::Overrides& flags = {}) {
    auto env = test_support::test_environment({{"HF_TOKEN", "hf_xyz"}});
    auto c = config::parse_training_config(yaml, "cfg.yaml", env);
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().str());
    auto inv = config::resolve_inventory(&*c, flags, env);
    EXPECT_TRUE(inv.ok()) << (inv.ok() ? "" : inv.error().str());
    return {*c, *inv};
}

std::string script_of(const plan::Task& task) {
    return plan::render_script(task.command,
                               [](std::string_view n) { return "<" + std::string(n) + ">"; });
}

} // namespace

TEST(PlanTrain, EveryNodeGetsADistinctNodeRankAndTheSameRendezvous) {
    Fixture f = load(k_train_yaml);
    auto plan = plan::plan_train({f.inventory, &f.config, "job-1"});
    ASSERT_TRUE(plan.ok()) << plan.error().str();
    const plan::Stage& launch = plan->stages.back();
    ASSERT_EQ(launch.tasks.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
        std::string s = script_of(launch.tasks[i]);
        EXPECT_NE(s.find("--node_rank=" + std::to_string(i) + " "), std::string::npos) << s;
        EXPECT_NE(s.find("--nnodes=3 --nproc_per_node=8"), std::string::npos);
        EXPECT_NE(s.find("--rdzv_endpoint=node-1:29500 --rdzv_id=job-1"), std::string::npos);
        EXPECT_NE(s.find("export MASTER_ADDR=node-1\n"), std::string::npos);
        EXPECT_NE(s.find("cd -- /shared/run || exit 1\n"), std::string::npos);
        EXPECT_NE(s.find("exec /opt/bin/torchrun "), std::string::npos);
        EXPECT_EQ(s.find("--node-rank"), std::string::npos) << "dashed spellings break torch 1.13";
    }
}

TEST(PlanTrain, SecretsAreNamedNeverValued) {
    Fixture f = load(k_train_yaml);
    auto plan = plan::plan_train({f.inventory, &f.config, "job-1"});
    ASSERT_TRUE(plan.ok());
    const auto& command = plan->stages.back().tasks[0].command;
    EXPECT_EQ(command.secrets, (std::vector<std::string>{"HF_TOKEN"}));
    for (const auto& var : command.env)
        EXPECT_NE(var.value, "hf_xyz");
    EXPECT_NE(script_of(plan->stages.back().tasks[0]).find("export HF_TOKEN='<HF_TOKEN>'"),
              std::string::npos);
}

TEST(PlanTrain, StaticBackendUsesMasterAddressForAFixedRankMap) {
    Fixture f = load(std::string(k_train_yaml) + "  rdzv: {backend: static, port: 29400}\n");
    auto plan = plan::plan_train({f.inventory, &f.config, "job-1"});
    ASSERT_TRUE(plan.ok());
    std::string s = script_of(plan->stages.back().tasks[2]);
    EXPECT_NE(s.find("--node_rank=2 --rdzv_backend=static --master_addr=node-1 "
                     "--master_port=29400"),
              std::string::npos)
        << s;
    EXPECT_NE(plan->notes.front().find("static rendezvous, fixed"), std::string::npos);
}

TEST(PlanTrain, NnodesBelowHostCountUsesTheFirstHosts) {
    Fixture f = load(std::string(k_train_yaml) + "  nnodes: 2\n");
    auto plan = plan::plan_train({f.inventory, &f.config, "j"});
    ASSERT_TRUE(plan.ok());
    EXPECT_EQ(plan->hosts.size(), 2u);
    EXPECT_EQ(plan->stages.back().tasks.size(), 2u);
}

TEST(PlanTrain, AutoNprocIsPassedForTorchrunToResolve) {
    std::string yaml = k_train_yaml;
    yaml.replace(yaml.find("nproc_per_node: 8"), 17, "nproc_per_node: auto");
    Fixture f = load(yaml);
    auto plan = plan::plan_train({f.inventory, &f.config, "j"});
    ASSERT_TRUE(plan.ok());
    EXPECT_NE(script_of(plan->stages.back().tasks[0]).find("--nproc_per_node=auto"),
              std::string::npos);
    EXPECT_EQ(f.inventory.hosts[0].slots, 1);
}

TEST(PlanSetup, StepsRunInOrderOnTheirHostsWithCreates) {
    Fixture f = load(std::string(k_train_yaml) +
                     "setup:\n  - {name: a, run: echo a, on: first}\n"
                     "  - {name: b, run: echo b, creates: /done, on: 'node-[2-3]'}\n");
    auto plan = plan::plan_setup({f.inventory, &f.config, "j"});
    ASSERT_TRUE(plan.ok()) << plan.error().str();
    ASSERT_EQ(plan->stages.size(), 2u);
    EXPECT_EQ(plan->stages[0].tasks.size(), 1u);
    EXPECT_EQ(plan->stages[1].tasks[0].host, 1u);
    EXPECT_NE(script_of(plan->stages[1].tasks[0]).find("if [ -e /done ]; then"), std::string::npos);
}

TEST(PlanDownload, QuotesEveryArgumentAndRunsOnTheFirstHost) {
    Fixture f = load(std::string(k_train_yaml) +
                     "download:\n  - {repo: meta/x, revision: v1, include: ['*.json'], to: /m}\n");
    auto plan = plan::plan_download({f.inventory, &f.config, "j"});
    ASSERT_TRUE(plan.ok());
    ASSERT_EQ(plan->stages[0].tasks.size(), 1u);
    EXPECT_EQ(plan->stages[0].tasks[0].command.body.text(),
              "huggingface-cli download meta/x --revision v1 --include '*.json' --local-dir /m\n");
    EXPECT_EQ(plan->stages[0].retries, 3);
}

TEST(Inventory, PrecedenceIsSshConfigThenYamlThenFlagsThenHostfileLine) {
    test_support::TempDir dir;
    dir.write("ssh_config", "Host *\n  User from-ssh\n  Port 2201\n  ConnectTimeout 7\n"
                            "  HostName 10.9.%h\n");
    dir.write("hostfile", "a\nb\nroot@c:2299\n");
    auto env = test_support::test_environment();
    auto c = config::parse_training_config("cluster: {hostfile: hostfile, ssh_config: ssh_config, "
                                           "user: from-yaml, connect_timeout: 9}",
                                           dir.file("cfg.yaml"), env);
    ASSERT_TRUE(c.ok()) << c.error().str();
    config::Overrides flags;
    flags.connect_timeout = 3;
    auto inv = config::resolve_inventory(&*c, flags, env);
    ASSERT_TRUE(inv.ok()) << inv.error().str();
    const auto& h = inv->hosts;
    EXPECT_EQ(h[0].ssh.user, "from-yaml");
    EXPECT_EQ(h[0].ssh.port, 2201);
    EXPECT_EQ(h[0].address, "10.9.a");
    EXPECT_EQ(h[0].connect_timeout_s, 3);
    EXPECT_EQ(h[2].ssh.user, "root");
    EXPECT_EQ(h[2].ssh.port, 2299);
    EXPECT_EQ(h[2].rank, 2);
}

TEST(Inventory, ExcludeAndJumpThroughSshConfig) {
    test_support::TempDir dir;
    dir.write("ssh_config", "Host head\n  HostName 192.0.2.1\n  User admin\nHost node-*\n"
                            "  ProxyJump head\n");
    auto env = test_support::test_environment();
    config::Overrides flags;
    flags.hosts = config::Located<std::string>{"node-[1-4]", {"<command line>", 1, 1}};
    flags.exclude = config::Located<std::string>{"node-3", {"<command line>", 1, 1}};
    flags.ssh_config = config::Located<std::string>{dir.file("ssh_config"), {"x", 1, 1}};
    auto inv = config::resolve_inventory(nullptr, flags, env);
    ASSERT_TRUE(inv.ok()) << inv.error().str();
    ASSERT_EQ(inv->hosts.size(), 3u);
    EXPECT_EQ(inv->hosts[2].name, "node-4");
    ASSERT_EQ(inv->hosts[0].ssh.jumps.size(), 1u);
    EXPECT_EQ(inv->hosts[0].ssh.jumps[0].address, "192.0.2.1");
    EXPECT_EQ(inv->hosts[0].ssh.jumps[0].user, "admin");
}

namespace {
util::Result<config::Inventory> inventory_with_ssh_config(const std::string& ssh_config,
                                                          const std::string& hosts) {
    static test_support::TempDir dir;
    dir.write("ssh_config", ssh_config);
    config::Overrides flags;
    flags.hosts = config::Located<std::string>{hosts, {"<command line>", 1, 1}};
    flags.ssh_config = config::Located<std::string>{dir.file("ssh_config"), {"x", 1, 1}};
    return config::resolve_inventory(nullptr, flags, test_support::test_environment());
}
} // namespace

TEST(Inventory, ProxyJumpLoopIsAnErrorAtTheProxyJump) {
    auto inv = inventory_with_ssh_config("Host *\n  ProxyJump bastion\n", "node-1");
    ASSERT_FALSE(inv.ok());
    EXPECT_NE(inv.error().str().find(":2:13: error: ProxyJump loop: tester@bastion:22 is reached "
                                     "through itself (leave the jump host out of the block that "
                                     "sets ProxyJump, e.g. 'Host * !bastion')"),
              std::string::npos)
        << inv.error().str();
    EXPECT_TRUE(inventory_with_ssh_config("Host * !bastion\n  ProxyJump bastion\n", "node-1").ok());
}

TEST(Inventory, JumpChainsTakeEachHopsOwnWayIn) {
    // node -> ProxyJump b1,b2; b1 is itself behind gate (its own ProxyJump); b2's own
    // ProxyJump is not used (the chain says how b2 is reached), as with ssh -J.
    auto inv = inventory_with_ssh_config("Host node-*\n  ProxyJump b1,admin@b2:2202\n"
                                         "Host b1\n  ProxyJump gate\n  HostName 10.0.0.1\n"
                                         "Host b2\n  ProxyJump elsewhere\n"
                                         "Host gate\n  ProxyCommand nc %h %p\n  Port 2022\n",
                                         "node-[1-2]");
    ASSERT_TRUE(inv.ok()) << inv.error().str();
    const auto& ssh = inv->hosts[0].ssh;
    ASSERT_EQ(ssh.jumps.size(), 3u);
    EXPECT_EQ(ssh.jumps[0].address, "gate");
    EXPECT_EQ(ssh.jumps[1].address, "10.0.0.1");
    EXPECT_EQ(ssh.jumps[2].address, "b2");
    EXPECT_EQ(ssh.jumps[2].port, 2202);
    EXPECT_EQ(ssh.jumps[2].user, "admin");
    EXPECT_EQ(ssh.proxy_command, "nc gate 2022");
}

TEST(Inventory, ProxyCommandIsExpandedForTheHostAndWarningsAreNamedOnce) {
    auto inv = inventory_with_ssh_config("Host *\n  ProxyCommand ssh -W [%h]:%p %r@gw # via gw\n"
                                         "  User ops\n  ForwardAgent yes\n  SetEnv A=1\n",
                                         "node-[1-3]");
    ASSERT_TRUE(inv.ok()) << inv.error().str();
    EXPECT_EQ(inv->hosts[1].ssh.proxy_command, "ssh -W [node-2]:22 ops@gw # via gw");
    ASSERT_EQ(inv->warnings.size(), 2u); // once for the run, not once per host
    std::string all = inv->warnings[0].str("warning") + "\n" + inv->warnings[1].str("warning");
    EXPECT_NE(all.find(":4:3: warning: ForwardAgent is not applied"), std::string::npos) << all;
    EXPECT_NE(all.find(":5:3: warning: SetEnv is not applied"), std::string::npos) << all;
}

// The hostfile's slots= as the processes per node: the default, and a warning when the
// config says otherwise.
TEST(Inventory, SlotsAreTheDefaultProcessesPerNode) {
    test_support::TempDir dir;
    auto env = test_support::test_environment();
    auto run = [&](const std::string& hostfile, const std::string& nproc) {
        dir.write("hosts", hostfile);
        std::string yaml =
            "cluster:\n  hostfile: " + dir.file("hosts") + "\ntrain:\n  module: m\n" + nproc;
        auto c = config::parse_training_config(yaml, "cfg.yaml", env);
        EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().str());
        auto inv = config::resolve_inventory(&*c, {}, env);
        EXPECT_TRUE(inv.ok()) << (inv.ok() ? "" : inv.error().str());
        auto s = config::settle_processes_per_node(*c, *inv);
        return std::make_tuple(s.ok() ? "" : s.error().str(), c->train->nproc_per_node,
                               inv->warnings);
    };
    auto [error, nproc, warnings] = run("node-[1-2] slots=4\n", "");
    EXPECT_EQ(error, "");
    EXPECT_EQ(nproc, 4);
    EXPECT_TRUE(warnings.empty());

    std::tie(error, nproc, warnings) = run("node-1 slots=4\nnode-2 slots=2\n", "");
    EXPECT_NE(error.find("hosts:2:1: error: node-2 has slots=2 but node-1 has slots=4"),
              std::string::npos)
        << error;

    std::tie(error, nproc, warnings) = run("node-[1-2] slots=1\n", "  nproc_per_node: 2\n");
    EXPECT_EQ(nproc, 2);
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_EQ(warnings[0].str("warning"),
              dir.file("hosts") + ":1:1: warning: node-1 has slots=1 but train.nproc_per_node is "
                                  "2: 2 processes start on each node (train.nproc_per_node is at "
                                  "cfg.yaml:5:19; make the two agree)");
}

TEST(Secrets, MaskReplacesEveryValueLongestFirst) {
    config::SecretStore s;
    s.add("A", "abc");
    s.add("B", "abcdef");
    EXPECT_EQ(s.mask("x abcdef y abc z"), "x *** y *** z");
}

TEST(PlanTrain, NodeEnvGoesToTheHostsItNamesInEveryStage) {
    std::string yaml = std::string(k_train_yaml) + R"(node_env:
  node-1: {CUDA_VISIBLE_DEVICES: "0,1"}
  "node-[2-3]": {CUDA_VISIBLE_DEVICES: "2,3", NCCL_DEBUG: WARN}
  node-9: {CUDA_VISIBLE_DEVICES: "7"}
  last: {HF_HOME: /local/hf}
)";
    Fixture f = load(yaml);
    auto plan = plan::plan_train({f.inventory, &f.config, "job-1"});
    ASSERT_TRUE(plan.ok()) << plan.error().str();
    ASSERT_EQ(plan->stages.size(), 2u); // check, launch
    for (const auto& stage : plan->stages) {
        std::string first = script_of(stage.tasks[0]), second = script_of(stage.tasks[1]),
                    third = script_of(stage.tasks[2]);
        EXPECT_NE(first.find("export CUDA_VISIBLE_DEVICES=0,1\n"), std::string::npos) << first;
        EXPECT_EQ(first.find("NCCL_DEBUG"), std::string::npos);
        EXPECT_NE(second.find("export CUDA_VISIBLE_DEVICES=2,3\nexport NCCL_DEBUG=WARN\n"),
                  std::string::npos)
            << second;
        // A node_env value replaces env's; node-9 is not in this run, which is fine.
        EXPECT_NE(third.find("export HF_HOME=/local/hf\n"), std::string::npos) << third;
        EXPECT_EQ(third.find("/shared/hf"), std::string::npos) << third;
        EXPECT_EQ(third.find("=7\n"), std::string::npos);
    }
}

TEST(PlanTrain, DetachedLaunchStartsEachNodeInASessionOfItsOwn) {
    Fixture f = load(k_train_yaml);
    plan::PlanInputs in{f.inventory, &f.config, "job-1"};
    in.detach = true;
    auto plan = plan::plan_train(in);
    ASSERT_TRUE(plan.ok()) << plan.error().str();
    const plan::Stage& launch = plan->stages.back();
    EXPECT_FALSE(launch.fail_fast) << "a detached launch returns at once";
    std::string s = script_of(launch.tasks[1]);
    EXPECT_NE(s.find("d=\"$HOME/.clusterctl/jobs/\"job-1\nn=node-2\n"), std::string::npos) << s;
    EXPECT_NE(s.find("setsid bash -c "), std::string::npos) << s;
    EXPECT_NE(s.find(" /opt/bin/torchrun --nnodes=3 --nproc_per_node=8 --node_rank=1 "),
              std::string::npos)
        << s;
    EXPECT_EQ(s.find("exec /opt/bin/torchrun"), std::string::npos) << s;
}

TEST(PlanDownload, DistributeFetchesFromTheFirstHostAndPushesToTheOthers) {
    std::string yaml = std::string(k_train_yaml) + R"(download:
  - {repo: meta-llama/Tiny, to: /local/model, distribute: true}
)";
    Fixture f = load(yaml);
    plan::PlanInputs in{f.inventory, &f.config, "job-1"};
    in.local_dir = "/home/me/.clusterctl";
    auto plan = plan::plan_download(in);
    ASSERT_TRUE(plan.ok()) << plan.error().str();
    ASSERT_EQ(plan->stages.size(), 3u);
    const auto& download = plan->stages[0];
    const auto& fetch = plan->stages[1];
    const auto& copy = plan->stages[2];
    ASSERT_EQ(download.tasks.size(), 1u);
    EXPECT_EQ(download.tasks[0].host, 0u);
    EXPECT_EQ(fetch.kind, plan::StageKind::fetch);
    EXPECT_TRUE(fetch.all_must_pass) << "no push of a partial copy";
    ASSERT_EQ(fetch.tasks.size(), 1u);
    EXPECT_EQ(fetch.tasks[0].host, 0u);
    EXPECT_EQ(fetch.tasks[0].files[0].source, "/local/model");
    EXPECT_EQ(fetch.tasks[0].files[0].destination, "/home/me/.clusterctl/staging/job-1/1");
    EXPECT_EQ(copy.kind, plan::StageKind::push);
    ASSERT_EQ(copy.tasks.size(), 2u);
    EXPECT_EQ(copy.tasks[0].host, 1u);
    EXPECT_EQ(copy.tasks[1].host, 2u);
    EXPECT_EQ(copy.tasks[1].files[0].source, "/home/me/.clusterctl/staging/job-1/1");
    EXPECT_EQ(copy.tasks[1].files[0].destination, "/local/model");
    EXPECT_TRUE(copy.tasks[1].files[0].recursive);
}

TEST(PlanTrain, SparesWaitOutsideTheLaunchAndAnAttemptNamesItsNodes) {
    Fixture f = load(std::string(k_train_yaml) + "  restarts: 2\n  nnodes: \"1:2\"\n");
    // node-[1-3] with node-2 a spare (as cluster.spares would mark it).
    f.inventory.hosts[1].spare = true;
    auto plan = plan::plan_train({f.inventory, &f.config, "job-1"});
    ASSERT_TRUE(plan.ok()) << plan.error().str();
    ASSERT_EQ(plan->hosts.size(), 2u);
    EXPECT_EQ(plan->hosts[1].name, "node-3") << "the spare takes no part";
    std::string s = script_of(plan->stages.back().tasks[0]);
    EXPECT_NE(s.find("export CLUSTERCTL_ATTEMPT=0\n"), std::string::npos) << s;
    EXPECT_NE(s.find("export CLUSTERCTL_CHECKPOINT_DIR=/shared/run/checkpoints/job-1\n"),
              std::string::npos)
        << s;

    plan::PlanInputs in{f.inventory, &f.config, "job-1"};
    in.attempt = 1;
    in.nodes = {"node-3", "node-2"};
    auto second = plan::plan_train(in);
    ASSERT_TRUE(second.ok()) << second.error().str();
    std::string t = script_of(second->stages.back().tasks[1]);
    EXPECT_NE(t.find("--nnodes=2 "), std::string::npos) << t;
    EXPECT_NE(t.find("--node_rank=1 "), std::string::npos) << t;
    EXPECT_NE(t.find("--rdzv_endpoint=node-3:29500 --rdzv_id=job-1-1"), std::string::npos) << t;
    EXPECT_NE(t.find("export CLUSTERCTL_ATTEMPT=1\n"), std::string::npos) << t;
    EXPECT_EQ(f.config.train->min_nnodes, 1);
}

TEST(PlanPush, ADestinationEndingInASlashIsAFolderToCopyInto) {
    Fixture f = load(k_train_yaml);
    auto destination = [&](const std::string& source, const std::string& dst, bool recursive) {
        auto plan = plan::plan_push({f.inventory, &f.config, "job-1"},
                                    {source, std::nullopt, dst, 0644, recursive});
        EXPECT_TRUE(plan.ok());
        return plan->stages.front().tasks.front().files.front().destination;
    };
    EXPECT_EQ(destination("local/train.py", "/shared/run/", false), "/shared/run/train.py");
    EXPECT_EQ(destination("configs/", "/shared/run/", true), "/shared/run/configs");
    EXPECT_EQ(destination("train.py", "/shared/run/t.py", false), "/shared/run/t.py");
    EXPECT_EQ(destination("train.py", "~/", false), "~/train.py");
    EXPECT_EQ(destination(".", "/shared/run/", true), "/shared/run/") << "no name to add";
}

TEST(PlanAfter, StepsRunOnTheJobsNodesInItsWorkdirKnowingTheJob) {
    std::string yaml = std::string(k_train_yaml) +
                       "activate: source /opt/env/bin/activate\n"
                       "after:\n"
                       "  - {name: merge, run: python merge.py, on: first}\n"
                       "  - {name: upload, run: ./upload.sh, on: all, activate: false}\n";
    Fixture f = load(yaml);
    plan::PlanInputs in{f.inventory, &f.config, "job-1"};
    in.nodes = {"node-3", "node-1"}; // the last attempt's, node rank 0 first
    auto plan = plan::plan_after(in);
    ASSERT_TRUE(plan.ok()) << plan.error().str();
    EXPECT_EQ(plan->action, plan::Action::after);
    ASSERT_EQ(plan->stages.size(), 2u);
    const plan::Stage& merge = plan->stages[0];
    EXPECT_EQ(merge.name, "after: merge");
    ASSERT_EQ(merge.tasks.size(), 1u);
    EXPECT_EQ(plan->hosts[merge.tasks[0].host].name, "node-3") << "first: node rank 0";
    std::string s = script_of(merge.tasks[0]);
    EXPECT_NE(s.find("cd -- /shared/run || exit 1\n"), std::string::npos) << s;
    EXPECT_NE(s.find("export CLUSTERCTL_JOB_ID=job-1\n"), std::string::npos) << s;
    EXPECT_NE(s.find("export CLUSTERCTL_CHECKPOINT_DIR=/shared/run/checkpoints/job-1\n"),
              std::string::npos)
        << s;
    EXPECT_NE(s.find("source /opt/env/bin/activate"), std::string::npos) << s;
    EXPECT_TRUE(merge.all_must_pass);
    const plan::Stage& upload = plan->stages[1];
    EXPECT_EQ(upload.tasks.size(), 2u);
    EXPECT_EQ(script_of(upload.tasks[0]).find("activate"), std::string::npos);
    // A launch plan does not carry them unless asked (a dry run).
    auto train = plan::plan_train({f.inventory, &f.config, "job-1"});
    ASSERT_TRUE(train.ok());
    EXPECT_EQ(train->stages.back().role, plan::StageRole::launch);
    plan::PlanInputs shown{f.inventory, &f.config, "job-1"};
    shown.after_steps = true;
    auto dry = plan::plan_train(shown);
    ASSERT_TRUE(dry.ok());
    EXPECT_EQ(dry->stages.back().name, "after: upload");
}
