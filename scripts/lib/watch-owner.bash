# Sourced by scripts/sshd-farm and scripts/sandbox-cluster: ties what they start to the
# life of the process that asked for it. With CLUSTERCTL_OWNER_PID set (the tests set their
# own PID), a watcher runs `SCRIPT down DIR` once that process is gone, even when it was
# killed (a ctest timeout) before its own clean-up could run. `down` stops the watcher.

watch_owner() { # SCRIPT DIR
    [ -n "${CLUSTERCTL_OWNER_PID:-}" ] || return 0
    (
        while kill -0 "$CLUSTERCTL_OWNER_PID" 2>/dev/null; do sleep 1; done
        exec "$1" down "$2"
    ) </dev/null >/dev/null 2>&1 &
    echo $! >"$2/watcher.pid"
}

stop_watcher() { # DIR: the watcher, unless this is it (it execs `down`)
    [ -f "$1/watcher.pid" ] || return 0
    local pid
    pid=$(cat "$1/watcher.pid")
    [ "$pid" = "$$" ] || kill "$pid" 2>/dev/null || true
    rm -f "$1/watcher.pid"
}
