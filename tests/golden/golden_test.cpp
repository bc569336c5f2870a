// Golden tests: the dry-run and hosts output of the example configs, pinned byte for byte
// in tests/golden/expected/. After an intended change, regenerate with
//   CLUSTERCTL_UPDATE_GOLDEN=1 ctest -L golden
// and read the diff before committing it.

#include "test_support.hpp"

#include <cstdlib>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>

using namespace clusterctl;

namespace {

const std::string k_source = CLUSTERCTL_SOURCE_DIR;
const std::string k_hf_token = "hf_golden_SECRET_token_0123";
const std::string k_wandb_key = "wandb_golden_SECRET_key_4567";

struct GoldenCase {
    const char* file; // under tests/golden/expected/
    std::vector<std::string> args;
};

const std::string k_405b = k_source + "/configs/llama-3.1-405b/clusterctl.yaml";
const std::string k_tiny = k_source + "/configs/examples/tiny/clusterctl.yaml";
const std::string k_recovery = k_source + "/configs/examples/recovery/clusterctl.yaml";

const GoldenCase k_cases[] = {
    {"train-405b.txt", {"-c", k_405b, "train", "--dry-run", "--job-id", "golden"}},
    {"train-405b.json", {"-c", k_405b, "--json", "train", "--dry-run", "--job-id", "golden"}},
    {"setup-405b.txt", {"-c", k_405b, "setup", "--dry-run", "--job-id", "golden"}},
    {"download-405b.txt", {"-c", k_405b, "download", "--dry-run", "--job-id", "golden"}},
    {"hosts-405b.txt", {"-c", k_405b, "hosts"}},
    {"hosts-405b.json", {"-c", k_405b, "hosts", "--json"}},
    {"train-tiny.txt", {"-c", k_tiny, "train", "--dry-run", "--job-id", "golden"}},
    {"train-recovery.txt", {"-c", k_recovery, "train", "--dry-run", "--job-id", "golden"}},
    {"check-recovery.txt", {"-c", k_recovery, "check", "--dry-run", "--job-id", "golden"}},
    {"hosts-recovery.txt", {"-c", k_recovery, "hosts"}},
    {"setup-tiny.json", {"-c", k_tiny, "setup", "--dry-run", "--json", "--job-id", "golden"}},
    {"exec-tiny.txt",
     {"-c", k_tiny, "--dry-run", "--job-id", "golden", "exec", "--", "nvidia-smi", "-L"}},
    {"push-tiny.txt",
     {"-c", k_tiny, "--dry-run", "--job-id", "golden", "push",
      k_source + "/configs/examples/tiny/train_tiny.py", "/tmp/run/train_tiny.py"}},
};

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string normalise(std::string text) {
    for (std::size_t pos; (pos = text.find(k_source)) != std::string::npos;)
        text.replace(pos, k_source.size(), "{src}");
    return text;
}

class GoldenTest : public ::testing::TestWithParam<GoldenCase> {};

util::Environment golden_environment() {
    return test_support::test_environment(
        {{"HF_TOKEN", k_hf_token}, {"WANDB_API_KEY", k_wandb_key}, {"PATH_STORAGE", "/shared"}});
}

} // namespace

TEST_P(GoldenTest, OutputMatchesTheExpectedFile) {
    const GoldenCase& c = GetParam();
    std::vector<std::string> args = c.args;
    auto r = test_support::run_cli(args, golden_environment());
    ASSERT_EQ(r.code, 0) << r.err;
    std::string actual = normalise(r.out);
    EXPECT_EQ(actual.find(k_hf_token), std::string::npos) << "secret leaked";
    EXPECT_EQ(actual.find(k_wandb_key), std::string::npos) << "secret leaked";
    std::string path = k_source + "/tests/golden/expected/" + c.file;
    if (std::getenv("CLUSTERCTL_UPDATE_GOLDEN")) {
        std::ofstream(path, std::ios::binary) << actual;
        GTEST_SKIP() << "rewrote " << path;
    }
    EXPECT_EQ(actual, read_file(path)) << "regenerate with CLUSTERCTL_UPDATE_GOLDEN=1";
}

INSTANTIATE_TEST_SUITE_P(Examples, GoldenTest, ::testing::ValuesIn(k_cases),
                         [](const auto& test_info) {
                             std::string name = test_info.param.file;
                             for (auto& ch : name)
                                 if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                             return name;
                         });

TEST(DryRun, SecretCopiedIntoAPlainVariableIsStillMasked) {
    test_support::TempDir dir;
    dir.write("c.yaml", "cluster: {hosts: [a]}\nenv:\n  COPY: prefix-${HF_TOKEN}\n"
                        "secrets:\n  HF_TOKEN: {env: HF_TOKEN}\n");
    for (const char* format : {"--dry-run", "--json"}) {
        auto r = test_support::run_cli(
            {"-c", dir.file("c.yaml"), "exec", "--dry-run", format, "--", "echo", "$HF_TOKEN"},
            golden_environment());
        ASSERT_EQ(r.code, 0) << r.err;
        EXPECT_EQ(r.out.find(k_hf_token), std::string::npos) << r.out;
        EXPECT_NE(r.out.find("prefix-***"), std::string::npos) << r.out;
    }
}

TEST(DryRun, ReadOnlyCommandsNeedNoSecretValuesAndARunNamesEveryMissingOne) {
    auto no_secrets = test_support::test_environment({{"PATH_STORAGE", "/shared"}});
    for (std::vector<std::string> args : {std::vector<std::string>{"hosts"},
                                          {"validate"},
                                          {"train", "--dry-run"},
                                          {"setup", "--dry-run"},
                                          {"--json", "train", "--dry-run"}}) {
        args.insert(args.begin(), {"-c", k_405b});
        auto r = test_support::run_cli(args, no_secrets);
        EXPECT_EQ(r.code, 0) << args.back() << ": " << r.err;
    }
    auto run = test_support::run_cli({"-c", k_405b, "exec", "--", "true"}, no_secrets);
    EXPECT_EQ(run.code, 2);
    EXPECT_NE(run.err.find("error: 2 secrets have no value: secret HF_TOKEN: environment "
                           "variable HF_TOKEN is not set (line "),
              std::string::npos)
        << run.err;
    EXPECT_NE(run.err.find("; secret WANDB_API_KEY: environment variable WANDB_API_KEY is not "
                           "set (line "),
              std::string::npos)
        << run.err;
}

TEST(DryRun, AShortSecretValueMasksItselfNotTheWordsAroundIt) {
    test_support::TempDir dir;
    dir.write("c.yaml", "cluster: {hosts: [a]}\nactivate: source activate pytorch\n"
                        "env:\n  COPY: ${HF_TOKEN}\nsecrets:\n  HF_TOKEN: {env: HF_TOKEN}\n");
    auto r = test_support::run_cli({"-c", dir.file("c.yaml"), "exec", "--dry-run", "--", "true"},
                                   test_support::test_environment({{"HF_TOKEN", "y"}}));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("source activate pytorch"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("export HF_TOKEN='***'"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("export COPY=***"), std::string::npos) << "a copy is still masked";
}

TEST(DryRun, HostfileSlotsAreTheProcessesPerNodeUnlessTheConfigSaysOtherwise) {
    test_support::TempDir dir;
    dir.write("hosts", "node-[1-2] slots=2 max_slots=2\r\n"); // as saved on Windows
    dir.write("c.yaml", "cluster: {hostfile: hosts}\ntrain: {module: m}\n");
    dir.write("n.yaml", "cluster: {hostfile: hosts}\ntrain: {module: m, nproc_per_node: 4}\n");
    auto by_slots = test_support::run_cli({"-c", dir.file("c.yaml"), "train", "--dry-run"},
                                          golden_environment());
    ASSERT_EQ(by_slots.code, 0) << by_slots.err;
    EXPECT_NE(by_slots.out.find("--nnodes=2 --nproc_per_node=2"), std::string::npos)
        << by_slots.out;
    EXPECT_EQ(by_slots.err, "");
    auto by_config = test_support::run_cli({"-c", dir.file("n.yaml"), "train", "--dry-run"},
                                           golden_environment());
    ASSERT_EQ(by_config.code, 0) << by_config.err;
    EXPECT_NE(by_config.out.find("--nproc_per_node=4"), std::string::npos) << by_config.out;
    EXPECT_EQ(by_config.err, dir.file("hosts") +
                                 ":1:1: warning: node-1 has slots=2 but train.nproc_per_node is "
                                 "4: 4 processes start on each node (train.nproc_per_node is at " +
                                 dir.file("n.yaml") + ":2:36; make the two agree)\n");
}

TEST(DryRun, EveryCommandThatPlansHasADryRun) {
    for (const char* command : {"setup", "download", "check", "train"}) {
        auto r = test_support::run_cli({"-c", k_405b, command, "--dry-run"}, golden_environment());
        EXPECT_EQ(r.code, 0) << command << ": " << r.err;
        EXPECT_NE(r.out.find("(dry run)"), std::string::npos) << command;
    }
}

TEST(Cli, HelpOfEveryCommandShowsAnExample) {
    for (const char* command : {"hosts", "validate", "exec", "push", "setup", "download", "check",
                                "train", "status", "logs", "stop"}) {
        auto r = test_support::run_cli({command, "--help"}, golden_environment());
        EXPECT_EQ(r.code, 0) << command;
        EXPECT_NE(r.out.find("Examples:\n  clusterctl"), std::string::npos) << command << r.out;
    }
    auto top = test_support::run_cli({"--help"}, golden_environment());
    EXPECT_NE(top.out.find("Exit codes:"), std::string::npos);
}

TEST(Cli, HelpCommandAndVersion) {
    auto help = test_support::run_cli({"help", "train"}, golden_environment());
    EXPECT_EQ(help.code, 0) << help.err;
    EXPECT_NE(help.out.find("--detach"), std::string::npos) << help.out;
    auto all = test_support::run_cli({"help"}, golden_environment());
    EXPECT_EQ(all.code, 0);
    EXPECT_NE(all.out.find("Exit codes:"), std::string::npos) << all.out;
    auto version = test_support::run_cli({"-V"}, golden_environment());
    EXPECT_EQ(version.code, 0);
    EXPECT_EQ(version.out.rfind("clusterctl ", 0), 0u) << version.out;
}

TEST(Cli, OptionsAreAcceptedBeforeOrAfterTheCommand) {
    auto before = test_support::run_cli({"-c", k_tiny, "--json", "hosts"}, golden_environment());
    auto after = test_support::run_cli({"hosts", "--json", "-c", k_tiny}, golden_environment());
    EXPECT_EQ(before.code, 0) << before.err;
    EXPECT_EQ(before.out, after.out);
}

TEST(Cli, ValidateExitsZeroOnTheExamples) {
    for (const auto& config : {k_405b, k_tiny}) {
        auto r = test_support::run_cli({"-c", config, "validate"}, golden_environment());
        EXPECT_EQ(r.code, 0) << r.err;
    }
}
