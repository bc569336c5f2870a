#!/usr/bin/env python3
"""table.py RESULTS.tsv: medians per tool, N and workload, and clusterctl's ratios against
the best peer whose every run was correct (wall, client CPU; sleep2: overhead = wall - 2)."""
import statistics
import sys
from collections import defaultdict

runs = defaultdict(list)
for line in open(sys.argv[1]):
    tool, n, w, wall, cpu, srv, rss, verdict = line.rstrip("\n").split("\t")
    runs[(tool, int(n), w)].append((float(wall), float(cpu), float(srv), int(rss), verdict))


def med(rows, i):
    return statistics.median(r[i] for r in rows)


def cost(w, wall):
    return wall - 2 if w == "sleep2" else wall


print("| workload | N | tool | runs | wall s | client CPU s | server CPU s | max RSS MB | verdict |")
print("|---|---:|---|---:|---:|---:|---:|---:|---|")
for (tool, n, w), rows in sorted(runs.items(), key=lambda kv: (kv[0][2], kv[0][1], kv[0][0])):
    ok = all(r[4] == "ok" for r in rows)
    print(f"| {w} | {n} | {tool} | {len(rows)} | {med(rows, 0):.2f} | {med(rows, 1):.2f} | "
          f"{med(rows, 2):.2f} | {med(rows, 3) / 1024:.1f} | "
          f"{'ok' if ok else ' '.join(sorted({r[4] for r in rows if r[4] != 'ok'}))} |")

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
             if t != "clusterctl" and pn == n and pw == w and all(x[4] == "ok" for x in r)]
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
