#include "clusterctl/plan/preflight.hpp"

#include "clusterctl/plan/planner.hpp"
#include "clusterctl/util/shell_quote.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace clusterctl::plan {
namespace {

using util::shell_quote;

// Shared by every check script: `bad WHAT FIX` records a failure; the script ends with
// `finish`, which exits 1 when any check failed.
constexpr std::string_view k_prelude = R"SH(fail=0
ok() { printf 'ok: %s\n' "$*"; }
bad() { printf 'FAILED: %s\n  fix: %s\n' "$1" "$2"; fail=1; }
)SH";
constexpr std::string_view k_finish = "exit \"$fail\"\n";

bool has_flag(const std::vector<std::string>& args, std::string_view flag) {
    return std::any_of(args.begin(), args.end(), [&](const std::string& a) {
        return a == flag || a.rfind(std::string(flag) + "=", 0) == 0;
    });
}

std::string torch_checks(const config::TrainSettings& t) {
    bool redirects = has_flag(t.torchrun_args, "--redirects") || has_flag(t.torchrun_args, "-r");
    std::string s = fmt::format(R"SH(tr={torchrun}
if ! trp=$(command -v "$tr"); then
  bad "torchrun not found: $tr (PATH=$PATH)" "install torch on the node, or set train.torchrun to its full path"
else
  ok "torchrun $trp"
  py=$(sed -n '1s/^#![[:space:]]*//p' "$trp" 2>/dev/null)
  case $py in */env\ *) py=${{py#*/env }} ;; '') py=python3 ;; esac
  if v=$($py -c 'import sys, torch; print(torch.__version__, "%d.%d" % sys.version_info[:2])' 2>&1); then
    v=${{v##*$'\n'}}
    ok "torch ${{v% *}} on Python ${{v#* }} ($py)"
    case "${{v% *}} ${{v#* }}" in
    1.13*" 3.11")
      if [ {redirects} = 0 ]; then
        bad "torch 1.13 on Python 3.11 crashes at worker start with torchrun's default --redirects 0" "add torchrun_args: [--redirects, \"1\", --tee, \"1\"] to train:"
      fi ;;
    esac
  else
    v=${{v##*$'\n'}}
    bad "$py cannot import torch: $v" "install torch for $py (the python torchrun runs with)"
  fi
fi
)SH",
                                fmt::arg("torchrun", shell_quote(t.torchrun)),
                                fmt::arg("redirects", redirects ? 1 : 0));
    if (!t.gpus) {
        s += fmt::format("ok \"device cpu: $(getconf _NPROCESSORS_ONLN) cores, {} processes\"\n",
                         t.nproc_per_node ? std::to_string(*t.nproc_per_node) : "auto");
    } else {
        // nvidia-smi lists every GPU; CUDA_VISIBLE_DEVICES (node_env) is what the ranks see.
        s += R"SH(if command -v nvidia-smi >/dev/null 2>&1; then
  gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU')
else
  gpus=0
fi
if [ -n "${CUDA_VISIBLE_DEVICES+x}" ] && [ "$gpus" -gt 0 ]; then
  all=$gpus
  gpus=$(printf '%s\n' "$CUDA_VISIBLE_DEVICES" | tr ',' '\n' | grep -c '[^[:space:]]')
  ok "CUDA_VISIBLE_DEVICES=$CUDA_VISIBLE_DEVICES: $gpus of the $all GPUs"
fi
)SH";
        if (t.nproc_per_node)
            s += fmt::format(R"SH(if [ "$gpus" -ge {n} ]; then
  ok "$gpus GPUs (nproc_per_node {n})"
else
  bad "$gpus GPUs found by nvidia-smi -L, nproc_per_node is {n}" "lower train.nproc_per_node, or use nodes with {n} GPUs (train.device: cpu for CPU-only nodes)"
fi
)SH",
                             fmt::arg("n", *t.nproc_per_node));
        else
            s += R"SH(if [ "$gpus" -gt 0 ]; then
  ok "nproc_per_node auto = $gpus GPUs"
else
  bad "no GPU found by nvidia-smi -L, and nproc_per_node is auto" "install the NVIDIA driver, or set train.device: cpu and a number for nproc_per_node"
fi
)SH";
    }
    if (t.workdir)
        s += fmt::format(R"SH(if [ -d {wd} ]; then ok "workdir {raw}"; else
  bad "workdir {raw} does not exist" "create it in a setup step (mkdir -p), then run clusterctl setup"
fi
)SH",
                         fmt::arg("wd", shell_quote(*t.workdir)), fmt::arg("raw", *t.workdir));
    return s;
}

// The rendezvous (c10d's TCPStore, or the static master) listens here on the first node.
std::string port_check(const config::TrainSettings& t) {
    int port = t.rdzv.port;
    if (t.rdzv.endpoint) {
        auto colon = t.rdzv.endpoint->rfind(':');
        if (colon != std::string::npos && t.rdzv.endpoint->back() != ']')
            port = std::atoi(t.rdzv.endpoint->c_str() + colon + 1);
    }
    return fmt::format(R"SH(if command -v ss >/dev/null 2>&1; then
  busy=$(ss -Hltn 'sport = :{port}' | head -n 1)
elif (exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null; then
  busy=yes
else
  busy=
fi
if [ -n "$busy" ]; then
  bad "rendezvous port {port} is in use on this node (an earlier job still running?)" "stop it (clusterctl status; clusterctl stop), or set train.rdzv.port"
else
  ok "rendezvous port {port} free"
fi
)SH",
                       fmt::arg("port", port));
}

constexpr std::string_view k_shared_token = ".clusterctl-shared-check";

} // namespace

std::vector<Stage> preflight_stages(const LaunchPlan& plan, const config::TrainingConfig* config) {
    std::vector<Stage> stages;
    Stage check;
    check.name = "check";
    check.kind = StageKind::run;
    check.all_must_pass = true;
    const config::TrainSettings* train = config && config->train ? &*config->train : nullptr;
    const std::optional<std::string>& shared = config ? config->cluster.shared_dir : std::nullopt;
    for (std::size_t i = 0; i < plan.hosts.size(); ++i) {
        RemoteCommand command = base_command(config);
        std::string body(k_prelude);
        body += "ok \"reachable as $(id -un)@$(hostname)\"\n";
        if (train) body += torch_checks(*train);
        if (train && i == 0) body += port_check(*train);
        if (shared && i == 0)
            body += fmt::format(
                R"SH(if printf '%s\n' {job} >{file} 2>/dev/null; then ok "wrote a token in {raw}"; else
  bad "cannot write in the shared directory {raw}" "create it on the shared filesystem, or fix cluster.shared_dir"
fi
)SH",
                fmt::arg("job", shell_quote(plan.job_id)),
                fmt::arg("file", shell_quote(*shared + "/" + std::string(k_shared_token))),
                fmt::arg("raw", *shared));
        body += k_finish;
        command.body = std::move(body);
        check.tasks.push_back({i, std::move(command), {}});
    }
    stages.push_back(std::move(check));
    if (shared && plan.hosts.size() > 1) {
        Stage read;
        read.name = "shared filesystem";
        read.kind = StageKind::run;
        read.all_must_pass = true;
        RemoteCommand command = base_command(config);
        command.body =
            std::string(k_prelude) +
            fmt::format(
                R"SH(if [ "$(cat {file} 2>/dev/null)" = {job} ]; then ok "{raw} is shared with {first}"; else
  bad "{raw} is not shared: the token {first} wrote there is not here" "mount the shared filesystem at {raw} on every node, or remove cluster.shared_dir (and download with distribute: true)"
fi
)SH",
                fmt::arg("job", shell_quote(plan.job_id)),
                fmt::arg("file", shell_quote(*shared + "/" + std::string(k_shared_token))),
                fmt::arg("raw", *shared), fmt::arg("first", plan.hosts.front().name)) +
            std::string(k_finish);
        for (std::size_t i = 1; i < plan.hosts.size(); ++i)
            read.tasks.push_back({i, command, {}});
        stages.push_back(std::move(read));
    }
    return stages;
}

} // namespace clusterctl::plan
