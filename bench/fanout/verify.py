#!/usr/bin/env python3
"""verify.py FORMAT LINES HOSTFILE [--blocks] < merged-output

The out2m check: every host of HOSTFILE ran `seq -f FORMAT 1 LINES`. The merged output
must hold each of those lines of each host exactly once, whole. Layouts:
  prefixed (default)  'h001: line 00000001 ...'  (clusterctl, pdsh, clush, xargs+sed)
  --blocks            '[7] 12:00:01 [SUCCESS] h001' then the host's lines (parallel-ssh -i)
Prints 'ok', or 'FAIL:missing=M,dup=D,torn=T' and the first torn line on stderr."""
import re
import sys

BLOCK = re.compile(rb"^\[\d+\] \d\d:\d\d:\d\d \[(?:SUCCESS|FAILURE)\] (\S+)")


def main(fmt, count, hostfile, blocks):
    number = {(fmt % k).encode(): k for k in range(1, count + 1)}
    seen = {h: bytearray(count + 1) for h in open(hostfile, "rb").read().split()}
    torn, first, host = 0, None, None
    for raw in sys.stdin.buffer:
        raw = raw.rstrip(b"\n")
        if blocks:
            m = BLOCK.match(raw)
            if m:
                host = m.group(1)
                continue
            body = raw
        else:
            host, _, body = raw.partition(b": ")
        k = number.get(body.lstrip(b" "))
        if k is None or host not in seen:
            torn += 1
            first = first or raw
            continue
        seen[host][k] = min(255, seen[host][k] + 1)
    missing = sum(c[1:].count(0) for c in seen.values())
    dup = sum(len(c) - 1 - c[1:].count(0) - c[1:].count(1) for c in seen.values())
    if missing or dup or torn:
        print(f"FAIL:missing={missing},dup={dup},torn={torn}")
        if first:
            print(f"verify: first torn line: {first[:100]!r}", file=sys.stderr)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--blocks"]
    if len(args) != 3:
        sys.exit(__doc__)
    sys.exit(main(args[0], int(args[1]), args[2], "--blocks" in sys.argv))
