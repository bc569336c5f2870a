#include "clusterctl/plan/preflight.hpp"

#include "clusterctl/plan/planner.hpp"
#include "clusterctl/util/shell_script.hpp"

#include <algorithm>

namespace clusterctl::plan {
namespace {

using util::shell_quote;
using util::ShellScript;

// Shared by every check script: `bad WHAT FIX` records a failure; the script ends with
// `finish`, which exits 1 when any check failed. Values reach the script only through
// ShellScript's holes; a message that shows one gets it shell-quoted (`shown`), so a
// path with a space or a quote reads unambiguously.
constexpr util::ScriptText<0> k_prelude = R"SH(fail=0
ok() { printf 'ok: %s\n' "$*"; }
bad() { printf 'FAILED: %s\n  fix: %s\n' "$1" "$2"; fail=1; }
)SH";
constexpr util::ScriptText<0> k_finish = "exit \"$fail\"\n";

std::string shown(std::string_view value) {
    return shell_quote(value);
}

bool has_flag(const std::vector<std::string>& args, std::string_view flag) {
    return std::any_of(args.begin(), args.end(), [&](const std::string& a) {
        return a == flag || a.rfind(std::string(flag) + "=", 0) == 0;
    });
}

void torch_checks(ShellScript& s, const config::TrainSettings& t) {
    bool redirects = has_flag(t.torchrun_args, "--redirects") || has_flag(t.torchrun_args, "-r");
    s.add("tr={}\nredirects={}\n", t.torchrun, redirects ? 1 : 0);
    s.add(R"SH(if ! trp=$(command -v "$tr"); then
  bad "torchrun not found: $tr (PATH=$PATH)" "install torch on the node, or set train.torchrun to its full path"
else
  ok "torchrun $trp"
  py=$(sed -n '1s/^#![[:space:]]*//p' "$trp" 2>/dev/null)
  case $py in */env\ *) py=${py#*/env } ;; '') py=python3 ;; esac
  if v=$($py -c 'import sys, torch; print(torch.__version__, "%d.%d" % sys.version_info[:2])' 2>&1); then
    v=${v##*$'\n'}
    ok "torch ${v% *} on Python ${v#* } ($py)"
    case "${v% *} ${v#* }" in
    1.13*" 3.11")
      if [ "$redirects" = 0 ]; then
        bad "torch 1.13 on Python 3.11 crashes at worker start with torchrun's default --redirects 0" "add torchrun_args: [--redirects, \"1\", --tee, \"1\"] to train:"
      fi ;;
    esac
  else
    v=${v##*$'\n'}
    bad "$py cannot import torch: $v" "install torch for $py (the python torchrun runs with)"
  fi
fi
)SH");
    if (!t.gpus) {
        s.add("procs={}\nok \"device cpu: $(getconf _NPROCESSORS_ONLN) cores, $procs processes\"\n",
              t.nproc_per_node ? std::to_string(*t.nproc_per_node) : std::string("auto"));
    } else {
        // nvidia-smi lists every GPU; CUDA_VISIBLE_DEVICES (node_env) is what the ranks see.
        s.add(R"SH(if command -v nvidia-smi >/dev/null 2>&1; then
  gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU')
else
  gpus=0
fi
if [ -n "${CUDA_VISIBLE_DEVICES+x}" ] && [ "$gpus" -gt 0 ]; then
  all=$gpus
  gpus=$(printf '%s\n' "$CUDA_VISIBLE_DEVICES" | tr ',' '\n' | grep -c '[^[:space:]]')
  ok "CUDA_VISIBLE_DEVICES=$CUDA_VISIBLE_DEVICES: $gpus of the $all GPUs"
fi
)SH");
        if (t.nproc_per_node)
            s.add(R"SH(n={}
if [ "$gpus" -ge "$n" ]; then
  ok "$gpus GPUs (nproc_per_node $n)"
else
  bad "$gpus GPUs found by nvidia-smi -L, nproc_per_node is $n" "lower train.nproc_per_node, or use nodes with $n GPUs (train.device: cpu for CPU-only nodes)"
fi
)SH",
                  *t.nproc_per_node);
        else
            s.add(R"SH(if [ "$gpus" -gt 0 ]; then
  ok "nproc_per_node auto = $gpus GPUs"
else
  bad "no GPU found by nvidia-smi -L, and nproc_per_node is auto" "install the NVIDIA driver, or set train.device: cpu and a number for nproc_per_node"
fi
)SH");
    }
    if (t.workdir)
        s.add(R"SH(wd={} shown={}
if [ -d "$wd" ]; then ok "workdir $shown"; else
  bad "workdir $shown does not exist" "create it in a setup step (mkdir -p), then run clusterctl setup"
fi
)SH",
              *t.workdir, shown(*t.workdir));
}

// The rendezvous (c10d's TCPStore, or the static master) listens here on the first node.
void port_check(ShellScript& s, const config::TrainSettings& t) {
    int port = t.rdzv.port;
    if (t.rdzv.endpoint) {
        auto colon = t.rdzv.endpoint->rfind(':');
        if (colon != std::string::npos && t.rdzv.endpoint->back() != ']')
            port = std::atoi(t.rdzv.endpoint->c_str() + colon + 1);
    }
    s.add(R"SH(port={}
if command -v ss >/dev/null 2>&1; then
  busy=$(ss -Hltn "sport = :$port" | head -n 1)
elif (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  busy=yes
else
  busy=
fi
if [ -n "$busy" ]; then
  bad "rendezvous port $port is in use on this node (an earlier job still running?)" "stop it (clusterctl status; clusterctl stop), or set train.rdzv.port"
else
  ok "rendezvous port $port free"
fi
)SH",
          port);
}

constexpr std::string_view k_shared_token = ".clusterctl-shared-check";

// Sets job, file and shown for the shared-directory checks.
void shared_vars(ShellScript& s, const LaunchPlan& plan, const std::string& shared) {
    s.add("job={} file={} shown={} first={}\n", plan.job_id,
          shared + "/" + std::string(k_shared_token), shown(shared), plan.hosts.front().name);
}

} // namespace

std::vector<Stage> preflight_stages(const LaunchPlan& plan, const config::TrainingConfig* config) {
    std::vector<Stage> stages;
    Stage check;
    check.name = "check";
    check.role = StageRole::check;
    check.kind = StageKind::run;
    check.all_must_pass = true;
    const config::TrainSettings* train = config && config->train ? &*config->train : nullptr;
    const std::optional<std::string>& shared = config ? config->cluster.shared_dir : std::nullopt;
    for (std::size_t i = 0; i < plan.hosts.size(); ++i) {
        RemoteCommand command = base_command(config);
        ShellScript body;
        body.add(k_prelude);
        body.add("ok \"reachable as $(id -un)@$(hostname)\"\n");
        if (train) torch_checks(body, *train);
        if (train && i == 0) port_check(body, *train);
        if (shared && i == 0) {
            shared_vars(body, plan, *shared);
            body.add(
                R"SH(if printf '%s\n' "$job" >"$file" 2>/dev/null; then ok "wrote a token in $shown"; else
  bad "cannot write in the shared directory $shown" "create it on the shared filesystem, or fix cluster.shared_dir"
fi
)SH");
        }
        body.add(k_finish);
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
        ShellScript body;
        body.add(k_prelude);
        shared_vars(body, plan, *shared);
        body.add(
            R"SH(if [ "$(cat -- "$file" 2>/dev/null)" = "$job" ]; then ok "$shown is shared with $first"; else
  bad "$shown is not shared: the token $first wrote there is not here" "mount the shared filesystem at $shown on every node, or remove cluster.shared_dir (and download with distribute: true)"
fi
)SH");
        body.add(k_finish);
        command.body = std::move(body);
        for (std::size_t i = 1; i < plan.hosts.size(); ++i)
            read.tasks.push_back({i, command, {}});
        stages.push_back(std::move(read));
    }
    return stages;
}

} // namespace clusterctl::plan
