// The Slurm backend's commands as data (plan/slurm.hpp): srun's and sbatch's argv, and the
// scripts a step's tasks run, run here through a real bash as a task would.
#include "clusterctl/plan/control_line.hpp"
#include "clusterctl/plan/slurm.hpp"
#include "temp_dir.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sys/stat.h>

namespace clusterctl {
namespace {

bool has(const std::vector<std::string>& argv, const std::string& word) {
    return std::find(argv.begin(), argv.end(), word) != argv.end();
}

// Runs `script` with bash as node `node` (SLURMD_NODENAME), in `dir`: stdout and stderr.
std::string run_as(const std::string& node, const std::string& script, const std::string& dir) {
    std::string path = dir + "/script.sh";
    std::ofstream(path) << script;
    std::string command = "cd '" + dir + "' && SLURMD_NODENAME='" + node + "' bash " + path +
                          " 2>&1; echo \"status $?\"";
    std::string out;
    if (FILE* p = ::popen(command.c_str(), "r")) {
        char buffer[4096];
        while (std::size_t n = std::fread(buffer, 1, sizeof buffer, p))
            out.append(buffer, n);
        ::pclose(p);
    }
    return out;
}

TEST(SlurmCommands, AStepIsOneTaskPerNodeWithItsNodesFoldedAndTheLaunchFailingFast) {
    plan::StepOptions step;
    step.job_id = "4711";
    step.nodes = {"node-001", "node-002", "node-003", "node-007"};
    auto argv = plan::srun_argv(step, "TASK");
    EXPECT_EQ(argv.front(), "srun");
    EXPECT_TRUE(has(argv, "--jobid=4711"));
    EXPECT_TRUE(has(argv, "--nodes=4"));
    EXPECT_TRUE(has(argv, "--ntasks=4"));
    EXPECT_TRUE(has(argv, "--ntasks-per-node=1"));
    EXPECT_TRUE(has(argv, "--nodelist=node-[001-003,007]"));
    EXPECT_TRUE(has(argv, "--input=all"));
    EXPECT_TRUE(has(argv, "--label"));
    EXPECT_TRUE(has(argv, "--kill-on-bad-exit=0"));
    EXPECT_FALSE(std::any_of(argv.begin(), argv.end(),
                             [](const auto& a) { return a.rfind("--gpus", 0) == 0; }));
    EXPECT_EQ(std::vector<std::string>(argv.end() - 3, argv.end()),
              (std::vector<std::string>{"bash", "-c", "TASK"}));
    step.kill_on_bad_exit = true;
    step.gpus_per_node = 8;
    argv = plan::srun_argv(step, "TASK");
    EXPECT_TRUE(has(argv, "--kill-on-bad-exit=1"));
    EXPECT_TRUE(has(argv, "--gpus-per-node=8"));
}

TEST(SlurmCommands, EachNodeRunsItsOwnScriptAndSaysItsStatusOnBothStreams) {
    test_support::TempDir dir;
    // A hostile script text stays data until its own node runs it.
    std::string script = plan::step_script({{"node-001", "echo one; exit 3"},
                                            {"node-002", "echo \"it's $((1+1))\" '$(x)'"},
                                            {"node-003", "echo one; exit 3"}});
    // node-001 and node-003 share one branch.
    EXPECT_NE(script.find("node-001|node-003)"), std::string::npos) << script;
    std::string exit3 = std::string(plan::k_control_prefix) + "exit 3";
    std::string one = run_as("node-003", script, dir.path());
    EXPECT_NE(one.find("one\n"), std::string::npos) << one;
    EXPECT_EQ(std::count(one.begin(), one.end(), '\x1e'), 2) << "exit on stdout and stderr";
    EXPECT_NE(one.find(exit3), std::string::npos) << one;
    EXPECT_NE(one.find("status 3"), std::string::npos) << one;
    std::string two = run_as("node-002", script, dir.path());
    EXPECT_NE(two.find("it's 2 $(x)\n"), std::string::npos) << two;
    EXPECT_NE(two.find("status 0"), std::string::npos) << two;
    std::string stranger = run_as("node-009", script, dir.path());
    EXPECT_NE(stranger.find("no script for node node-009"), std::string::npos) << stranger;
    EXPECT_NE(stranger.find("status 127"), std::string::npos) << stranger;
}

TEST(SlurmCommands, PushedFilesArriveWithTheirBytesAndModes) {
    test_support::TempDir dir;
    std::string bytes("bin\0ary\n\xff", 9);
    std::string script = plan::files_script(
        {{"sub", "", 0755, true}, {"sub/it's a file", bytes, 0600, false}}, "node-001");
    std::string out = run_as("node-001", script, dir.path());
    EXPECT_NE(out.find("status 0"), std::string::npos) << out;
    std::string path = dir.path() + "/sub/it's a file";
    std::ifstream in(path, std::ios::binary);
    std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(got, bytes);
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_FALSE(std::filesystem::exists(path + ".clusterctl-partial.node-001"));
}

TEST(SlurmCommands, SbatchTakesTheSettingsAsArgumentsAndTheBatchScriptQuotesEveryValue) {
    config::SlurmSettings slurm;
    slurm.partition = "gpu";
    slurm.time = "2-00:00:00";
    slurm.gpus_per_node = 8;
    slurm.sbatch_options = {"--exclusive", "--mem=0"};
    auto argv = plan::allocation_argv(slurm, 8, "clusterctl-llama");
    EXPECT_TRUE(has(argv, "--nodes=8"));
    EXPECT_TRUE(has(argv, "--partition=gpu"));
    EXPECT_TRUE(has(argv, "--time=2-00:00:00"));
    EXPECT_TRUE(has(argv, "--gpus-per-node=8"));
    EXPECT_TRUE(has(argv, "--exclusive"));
    EXPECT_TRUE(has(argv, "--mem=0"));
    slurm.nodes = 2;
    EXPECT_TRUE(has(plan::allocation_argv(slurm, 8, "x"), "--nodes=2"));

    plan::BatchTrain batch{"/opt/clusterctl",
                           "/home/u/a b/$(touch x).yaml",
                           "job-1",
                           "/home/u/.clusterctl/jobs/job-1.secrets",
                           "",
                           true,
                           {"--set", "train.args=[--steps, $(reboot)]"}};
    std::string script = plan::batch_train_script(batch);
    EXPECT_NE(script.find(" --set 'train.args=[--steps, $(reboot)]' train"), std::string::npos)
        << script;
    EXPECT_NE(script.find("'/home/u/a b/$(touch x).yaml'"), std::string::npos) << script;
    EXPECT_NE(script.find("train --no-check"), std::string::npos) << script;
    EXPECT_NE(script.find("rm -f -- \"$s\""), std::string::npos) << script;
}

TEST(SlurmCommands, OnlyAJobIdIsAJobId) {
    EXPECT_TRUE(plan::is_slurm_job_id("4711"));
    EXPECT_TRUE(plan::is_slurm_job_id("4711;cluster"));
    EXPECT_FALSE(plan::is_slurm_job_id(""));
    EXPECT_FALSE(plan::is_slurm_job_id("Submitted batch job 4711"));
}

} // namespace
} // namespace clusterctl
