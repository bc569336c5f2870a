#include "clusterctl/plan/detached_job.hpp"

#include "clusterctl/plan/control_line.hpp"
#include "clusterctl/plan/torchrun.hpp"
#include "clusterctl/util/shell_script.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace clusterctl::plan {
namespace {

// Sets d (the job's directory on the node), n (the node's name) and p (the job's process
// group, empty before launch); alive() says whether anything of the group still runs.
util::ShellScript job_prelude(const std::string& job_id, const std::string& node) {
    util::ShellScript s;
    s.add(R"SH(d="$HOME/.clusterctl/jobs/"{}
n={}
p=$(cat -- "$d/$n.pid" 2>/dev/null)
alive() { [ -n "$p" ] && kill -0 -- "-$p" 2>/dev/null; }
)SH",
          job_id, node);
    return s;
}

// Says the node's state as a control line (and in words), and exits as status does: 0
// when running, stopped or exited 0.
void add_status_body(util::ShellScript& s) {
    s.add(R"SH(if [ -z "$p" ]; then echo "no job $d here"; )SH")
        .add_command(control_line_command(k_control_job, "none") + "; exit 1; fi");
    s.add(R"SH(if [ -s "$d/$n.exit" ]; then
  c=$(cat -- "$d/$n.exit")
  if [ -e "$d/$n.stopped" ]; then echo "stopped (exit $c)"; )SH")
        .add_command(control_line_command(k_control_job, "\"stopped $c\"") + "; exit 0; fi");
    s.add(R"SH(  echo "exited $c"
  )SH")
        .add_command(control_line_command(k_control_job, "\"exited $c\""));
    s.add(R"SH(  exit "$(( c == 0 ? 0 : 1 ))"
elif alive; then
  echo "running (pid $p, log $d/$n.log)"
  )SH")
        .add_command(control_line_command(k_control_job, "\"running $p\""));
    s.add(R"SH(elif [ -e "$d/$n.stopped" ]; then
  echo "stopped"
  )SH")
        .add_command(control_line_command(k_control_job, "\"stopped 143\""));
    s.add(R"SH(else
  echo "lost: pid $p is gone and left no exit code (the node rebooted, or it was killed)"
  )SH")
        .add_command(control_line_command(k_control_job, "lost"));
    s.add(R"SH(  exit 1
fi
)SH");
}

// After following the job until its leader ended: its end on this node as a control line,
// and as this script's exit code: the job's own, 0 when it was stopped, 1 when lost. The
// leader writes its exit code before it ends; a moment is allowed for it.
void add_end_body(util::ShellScript& s) {
    s.add(R"SH(i=0
while alive && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
if [ -s "$d/$n.exit" ]; then
  c=$(cat -- "$d/$n.exit")
  if [ -e "$d/$n.stopped" ]; then )SH")
        .add_command(control_line_command(k_control_job, "\"stopped $c\"") + "; exit 0; fi");
    s.add("  ").add_command(control_line_command(k_control_job, "\"exited $c\""));
    s.add(R"SH(  exit "$c"
fi
if [ -e "$d/$n.stopped" ]; then )SH")
        .add_command(control_line_command(k_control_job, "\"stopped 143\"") + "; exit 0; fi");
    s.add(
         R"SH(echo "lost: pid $p is gone and left no exit code (the node rebooted, or it was killed)" >&2
)SH")
        .add_command(control_line_command(k_control_job, "lost"));
    s.add("exit 1\n");
}

// A node's log holds each line as "SECONDS.MICROSECONDS LINE" (the job's own time stamp,
// written as the line came): what follows a log live takes the stamp off on the node (u).
constexpr util::ScriptText<0> k_unstamp = R"SH(u() { sed -u -E 's/^[0-9]+[.,][0-9]+ //'; }
)SH";

// f: the lines asked for. Only rank R's: the node that ran it has its stack file, whose
// first line says its local rank, which torchrun's --tee prefix ("[default1]:") names;
// elsewhere none.
void add_line_filter(util::ShellScript& s, int rank) {
    if (rank < 0) {
        s.add("f() { cat; }\n");
        return;
    }
    s.add(R"SH(l=-1
if [ -e "$d/stacks/$n/rank-{}.txt" ]; then l=$(sed -n 's/^# local_rank //p' -- "$d/stacks/$n/rank-{}.txt" | tail -n 1); fi
f() { grep --line-buffered -E "^([0-9]+[.,][0-9]+ )?\[[A-Za-z_]*$l\]:"; }
)SH",
          rank, rank);
}

void add_logs_body(util::ShellScript& s, bool follow, int tail, int rank) {
    s.add(R"SH(if [ ! -e "$d/$n.log" ]; then echo "no log $d/$n.log here" >&2; exit 1; fi
)SH");
    add_line_filter(s, rank);
    if (!follow) {
        // Stamped: clusterctl merges the nodes' lines by them.
        if (tail < 0)
            s.add(R"SH(tail -n +1 -- "$d/$n.log" | f
exit 0
)SH");
        else
            s.add(R"SH(tail -n +1 -- "$d/$n.log" | f | tail -n {}
exit 0
)SH",
                  tail);
        return;
    }
    s.add(k_unstamp);
    std::string from = tail < 0 ? "+1" : std::to_string(tail); // tail -n: the last N, or all
    // tail --pid ends when the job's leader does; until then it follows the file.
    s.add(
        R"SH(if alive; then tail -n {} -F --pid="$p" -- "$d/$n.log" 2>/dev/null | f | u; else tail -n {} -- "$d/$n.log" | f | u; fi
)SH",
        from, from);
    add_end_body(s);
}

// The supervisor's watch: the last lines and what comes (a failure line may have come
// before it started), until the job's leader ends, then its end.
void add_watch_body(util::ShellScript& s) {
    s.add(R"SH(if [ -z "$p" ]; then echo "no job $d here" >&2; )SH")
        .add_command(control_line_command(k_control_job, "none") + "; exit 1; fi");
    s.add(k_unstamp);
    // A relaunched job (train.restarts) appends to the log: only this attempt's lines count,
    // those after the byte it began at (its last 100 when it has printed a lot since).
    s.add(R"SH(from=$(cat -- "$d/$n.from" 2>/dev/null || echo 0)
size=$(stat -c %s -- "$d/$n.log" 2>/dev/null || echo 0)
if alive; then
  if [ "$((size - from))" -gt 1048576 ]; then tail -n 100 -F --pid="$p" -- "$d/$n.log" 2>/dev/null | u
  else tail -c +"$((from + 1))" -F --pid="$p" -- "$d/$n.log" 2>/dev/null | u; fi
fi
)SH");
    add_end_body(s);
}

void add_stop_body(util::ShellScript& s, int grace_s) {
    s.add(R"SH(ticks={} grace={}
if [ -z "$p" ]; then echo "no job $d here"; exit 1; fi
if ! alive; then
  if [ -s "$d/$n.exit" ]; then echo "not running (exited $(cat -- "$d/$n.exit"))"; else echo "not running"; fi
  exit 0
fi
: >"$d/$n.stopped"
kill -TERM -- "-$p" 2>/dev/null
i=0
while alive && [ "$i" -lt "$ticks" ]; do sleep 0.1; i=$((i + 1)); done
if alive; then
  kill -KILL -- "-$p" 2>/dev/null
  echo "killed (still running $grace s after TERM)"
else
  echo "stopped"
fi
)SH",
          grace_s * 10, grace_s);
}

// faulthandler writes from its C signal handler: a rank blocked in a collective still
// dumps. The file stays open for the life of the process (a module global holds it).
constexpr util::ScriptText<2> k_stack_hook = R"SH(j="$HOME/.clusterctl/jobs/"{}
mkdir -p -- "$j/py" "$j/stacks/"{} || exit 1
cat >"$j/py/sitecustomize.py" <<'CLUSTERCTL_PY'
import os
if os.environ.get("CLUSTERCTL_STACKS"):
    try:
        import faulthandler, signal
        _who = "rank-" + os.environ["RANK"] if "RANK" in os.environ else "agent-%d" % os.getpid()
        _clusterctl_stacks = open(os.path.join(os.environ["CLUSTERCTL_STACKS"], _who + ".txt"), "a")
        _clusterctl_stacks.write("# local_rank %s\n" % os.environ.get("LOCAL_RANK", "-"))
        _clusterctl_stacks.flush()
        faulthandler.register(signal.SIGUSR2, file=_clusterctl_stacks, all_threads=True)
    except Exception:
        pass
# The sitecustomize this one hides on sys.path (a distribution's, an environment's) runs too.
try:
    import importlib.util, sys
    _here = os.path.dirname(os.path.abspath(__file__))
    for _dir in sys.path:
        _next = os.path.join(os.path.abspath(_dir or "."), "sitecustomize.py")
        if os.path.dirname(_next) != _here and os.path.isfile(_next):
            _spec = importlib.util.spec_from_file_location("_hidden_sitecustomize", _next)
            _spec.loader.exec_module(importlib.util.module_from_spec(_spec))
            break
except Exception:
    pass
CLUSTERCTL_PY
)SH";

// Every process of this node's job with a rank (its environment says RANK and this
// node's stacks folder) gets SIGUSR2; what each appends to its file comes back, headed.
constexpr util::ScriptText<1> k_stacks_body = R"SH(s="$d/stacks/"{}
found=
for e in /proc/[0-9]*/environ; do
  pid=${e#/proc/}; pid=${pid%/environ}
  env=$(tr '\0' '\n' <"$e" 2>/dev/null) || continue
  printf '%s\n' "$env" | grep -qxF "CLUSTERCTL_STACKS=$s" || continue
  r=$(printf '%s\n' "$env" | sed -n 's/^RANK=//p')
  [ -n "$r" ] && [ -e "$s/rank-$r.txt" ] || continue
  found="$found $r:$pid:$(stat -c %s -- "$s/rank-$r.txt")"
  kill -USR2 "$pid" 2>/dev/null
done
if [ -z "$found" ]; then echo "no rank of job $d runs here" >&2; exit 1; fi
i=0
while [ "$i" -lt 50 ]; do
  grown=1
  for f in $found; do
    r=${f%%:*}; o=${f##*:}
    [ "$(stat -c %s -- "$s/rank-$r.txt")" -gt "$o" ] || grown=
  done
  [ -n "$grown" ] && break
  sleep 0.1; i=$((i + 1))
done
sleep 0.2
for f in $found; do
  r=${f%%:*}; rest=${f#*:}; pid=${rest%%:*}; o=${f##*:}
  echo "=== rank $r pid $pid"
  tail -c +"$((o + 1))" -- "$s/rank-$r.txt"
done
)SH";

} // namespace

void add_stack_hook(util::ShellScript& s, const std::string& job_id, const std::string& node) {
    s.add(k_stack_hook, job_id, node);
    s.add(R"SH(export PYTHONPATH="$j/py${PYTHONPATH:+:$PYTHONPATH}" CLUSTERCTL_STACKS="$j/stacks/"{}
)SH",
          node);
}

util::ShellScript detached_launch_body(const std::string& job_id, const std::string& node,
                                       const std::vector<std::string>& argv) {
    // The job's bash writes its own PID once setsid has made it a session leader; until
    // then it is still in this script's process group, which the remote wrapper kills when
    // the script ends, so the script waits for that file. bash traps TERM with a no-op
    // (a trap, unlike an ignored signal, is not inherited by torchrun) so that it outlives
    // torchrun and records its exit code. $0 of that bash is the files' stem. Each line
    // the job prints goes into its log stamped with the time it came ($EPOCHREALTIME: no
    // process per line), so `logs` can merge the nodes by time; the stamping loop ignores
    // TERM, to keep the teardown's lines, and ends when the job's last writer has gone.
    util::ShellScript s = job_prelude(job_id, node);
    add_stack_hook(s, job_id, node);
    s.add(R"SH(mkdir -p -- "$d" || exit 1
rm -f -- "$d/$n.exit" "$d/$n.stopped" "$d/$n.pid"
stat -c %s -- "$d/$n.log" 2>/dev/null >"$d/$n.from" || echo 0 >"$d/$n.from"
setsid bash -c 'echo "$$" >"$0.pid"; trap : TERM INT HUP; "$@" 2>&1 | { trap "" TERM INT HUP; LC_ALL=C; while IFS= read -r l || [ -n "$l" ]; do printf "%s %s\n" "${EPOCHREALTIME:-$(date +%s.%N)}" "$l"; done; }; echo "${PIPESTATUS[0]}" >"$0.exit"' "$d/$n" {} </dev/null >>"$d/$n.log" 2>&1 &
i=0
until [ -s "$d/$n.pid" ]; do
  if [ "$i" -ge 100 ]; then echo "the job did not start within 10 s (setsid and bash are needed)" >&2; exit 1; fi
  sleep 0.1
  i=$((i + 1))
done
echo "started: pid $(cat -- "$d/$n.pid"), log $d/$n.log"
)SH",
          util::ShellWords{argv});
    return s;
}

util::Result<LaunchPlan> plan_job_query(const PlanInputs& in, const JobQuery& query) {
    static constexpr Action k_actions[] = {Action::status, Action::logs, Action::stop,
                                           Action::watch, Action::stacks};
    LaunchPlan plan;
    plan.action = k_actions[static_cast<int>(query.action)];
    plan.job_id = in.job_id;
    plan.fanout = in.inventory.fanout;
    Stage stage;
    stage.name = to_string(plan.action);
    for (const auto& name : query.hosts) {
        auto it = std::find_if(in.inventory.hosts.begin(), in.inventory.hosts.end(),
                               [&](const config::HostSpec& h) { return h.name == name; });
        if (it == in.inventory.hosts.end())
            return util::fail(util::error_at(
                in.command_at,
                fmt::format("job {} ran on {}, which is not among the hosts now", query.job_id,
                            name),
                "give the hostfile and config the job was started with (-c, --hostfile)"));
        util::ShellScript body = job_prelude(query.job_id, name);
        switch (query.action) {
        case JobAction::status:
            add_status_body(body);
            break;
        case JobAction::logs:
            add_logs_body(body, query.follow, query.tail, query.rank);
            break;
        case JobAction::stop:
            add_stop_body(body, query.grace_s);
            break;
        case JobAction::stacks:
            body.add(k_stacks_body, name);
            break;
        case JobAction::watch:
            add_watch_body(body);
            // As an attached launch: a node failing or lost stops the watch at once.
            stage.fail_fast = true;
            stage.failure_line = std::string(k_worker_failed);
            if (in.config && in.config->train)
                stage.hang = hang_limits(*in.config->train, query.job_id);
            break;
        }
        RemoteCommand command;
        command.body = std::move(body);
        stage.tasks.push_back({plan.hosts.size(), std::move(command), {}});
        plan.hosts.push_back(*it);
    }
    plan.stages.push_back(std::move(stage));
    return plan;
}

} // namespace clusterctl::plan
