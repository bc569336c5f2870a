#!/usr/bin/env python3
"""table.py RESULTS.tsv [--jump]: medians per tool, N and workload, and clusterctl's ratios
against the best peer whose every run was correct (wall, client CPU; sleep2: overhead =
wall - 2). --jump (bench/fanout/jump): also the bastion's logins, and clusterctl through the
bastion against clusterctl-direct (the same hosts without it)."""
import statistics
import sys
from collections import defaultdict

jump = "--jump" in sys.argv[2:]
runs = defaultdict(list)
for line in open(sys.argv[1]):
    fields = line.rstrip("\n").split("\t")
    tool, n, w, wall, cpu, srv, rss, verdict = fields[:8]
    logins = fields[8] if len(fields) > 8 and fields[8] != "-" else None
    runs[(tool, int(n), w)].append((float(wall), float(cpu), float(srv), int(rss), verdict,
                                    None if logins is None else int(logins)))


def med(rows, i):
    return statistics.median(r[i] for r in rows)


def cost(w, wall):
    return wall - 2 if w == "sleep2" else wall


def logins(rows):
    seen = [r[5] for r in rows if r[5] is not None]
    return f"{max(seen)}" if seen else "-"


print("| workload | N | tool | runs | wall s | client CPU s | server CPU s | max RSS MB | "
      + ("bastion logins | " if jump else "") + "verdict |")
print("|---|---:|---|---:|---:|---:|---:|---:|" + ("---:|" if jump else "") + "---|")
for (tool, n, w), rows in sorted(runs.items(), key=lambda kv: (kv[0][2], kv[0][1], kv[0][0])):
    ok = all(r[4] == "ok" for r in rows)
    print(f"| {w} | {n} | {tool} | {len(rows)} | {med(rows, 0):.2f} | {med(rows, 1):.2f} | "
          f"{med(rows, 2):.2f} | {med(rows, 3) / 1024:.1f} | "
          + (f"{logins(rows)} | " if jump else "")
          + f"{'ok' if ok else ' '.join(sorted({r[4] for r in rows if r[4] != 'ok'}))} |")

print()
print("clusterctl against the best correct peer (ratio < 1: clusterctl is better; "
      "sleep2 compares the overhead beyond 2 s):")
print()
print("| workload | N | best peer (wall) | its wall | clusterctl wall | wall ratio | "
      "best peer (CPU) | its CPU | clusterctl CPU | CPU ratio | clusterctl RSS MB | KB/host |")
print("|---|---:|---|---:|---:|---:|---|---:|---:|---:|---:|---:|")
for (tool, n, w), rows in sorted(runs.items(), key=lambda kv: (kv[0][2], kv[0][1])):
    if tool != "clusterctl":
        continue
    peers = [(t, r) for (t, pn, pw), r in runs.items()
             if not t.startswith("clusterctl") and pn == n and pw == w
             and all(x[4] == "ok" for x in r)]
    mine_wall, mine_cpu, mine_rss = cost(w, med(rows, 0)), med(rows, 1), med(rows, 3)
    if not peers:
        print(f"| {w} | {n} | - | - | {mine_wall:.2f} | - | - | - | {mine_cpu:.2f} | - | "
              f"{mine_rss / 1024:.1f} | {mine_rss / n:.0f} |")
        continue
    bw_tool, bw = min(peers, key=lambda p: cost(w, med(p[1], 0)))
    bc_tool, bc = min(peers, key=lambda p: med(p[1], 1))
    their_wall, their_cpu = cost(w, med(bw, 0)), med(bc, 1)
    print(f"| {w} | {n} | {bw_tool} | {their_wall:.2f} | {mine_wall:.2f} | "
          f"{mine_wall / their_wall:.2f} | {bc_tool} | {their_cpu:.2f} | {mine_cpu:.2f} | "
          f"{mine_cpu / their_cpu:.2f} | {mine_rss / 1024:.1f} | {mine_rss / n:.0f} |")

if jump:
    print()
    print("clusterctl through the bastion against clusterctl straight to the same hosts "
          "(target: wall ratio <= 1.5, at most 4 bastion logins):")
    print()
    print("| workload | N | direct wall | through bastion wall | ratio | bastion logins |")
    print("|---|---:|---:|---:|---:|---:|")
    for (tool, n, w), rows in sorted(runs.items(), key=lambda kv: (kv[0][2], kv[0][1])):
        direct = runs.get(("clusterctl-direct", n, w))
        if tool != "clusterctl" or not direct:
            continue
        print(f"| {w} | {n} | {med(direct, 0):.2f} | {med(rows, 0):.2f} | "
              f"{med(rows, 0) / med(direct, 0):.2f} | {logins(rows)} |")
