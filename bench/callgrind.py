#!/usr/bin/env python3
"""Cost per request in instructions, counted by valgrind's callgrind (noise-immune: the same
requests give the same counts whatever else the machine is doing). Standard library only.

Run by `bench/http.sh profile`, which starts the server under
`valgrind --tool=callgrind --collect-atstart=no` and seeds it. For each kind of request this
script switches collection on (`callgrind_control -i on`), sends N requests one after another on
one keep-alive connection, switches it off and dumps the counts (`callgrind_control -d`), then
reads the dump: the total instructions, and how often the functions named in CALLS were called
(SQLite's statement preparation and steps say how many statements ran and how many were prepared
afresh rather than taken from diesel's per-connection cache). Per request means the dump divided
by N; the `healthz` kind (a route that does no work) is the floor every request pays.

Requests sent one at a time do not share a group commit: each read's audit entry is its own
write transaction here, the worst case of the audit writer. The kernel's share (threads waking
each other) is not in these counts; `perf` shows it where it works.
"""
import argparse
import collections
import glob
import http.client
import os
import re
import subprocess
import sys
import time

# Functions whose calls are counted (names as callgrind reports them, without arguments).
CALLS = [
    "sqlite3_prepare_v3",
    "sqlite3_step",
    "sqlite3_reset",
    "sqlite3_exec",
    "PQexecPrepared",
    "PQprepare",
    "PQexec",
    "PQsendQueryPrepared",
    "PQsendPrepare",
    "PQsendQuery",
    "PQsendQueryParams",
    "malloc",
    "free",
    "realloc",
    "jsonwebtoken::decoding::decode",
]


def parse(path: str) -> tuple[int, collections.Counter]:
    """Total instructions and calls per function (by the callee's name) of one callgrind dump."""
    names: dict[str, str] = {}
    calls: collections.Counter = collections.Counter()
    total = 0
    callee = None
    fn_ref = re.compile(r"^\((\d+)\)(?: (.*))?$")

    def name_of(ref: str) -> str:
        m = fn_ref.match(ref)
        if not m:
            return ref
        if m.group(2) is not None:
            names[m.group(1)] = m.group(2)
        return names.get(m.group(1), ref)

    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("fn="):
                name_of(line[3:].strip())
            elif line.startswith("cfn="):
                callee = name_of(line[4:].strip())
            elif line.startswith("calls=") and callee is not None:
                calls[callee.split("'")[0]] += int(line[6:].split()[0])
                callee = None
            elif line.startswith("summary:") or line.startswith("totals:"):
                total = max(total, int(line.split()[1]))
    return total, calls


def control(pid: int, *args: str) -> None:
    subprocess.run(["callgrind_control", *args, str(pid)], check=True, capture_output=True)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--pid", type=int, required=True, help="the server's process, running under callgrind")
    p.add_argument("--dir", required=True, help="where callgrind writes its dumps (the server's working directory)")
    p.add_argument("--base", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--requests", type=int, default=300)
    p.add_argument("kinds", nargs="+", help="NAME=PATH, e.g. balance=/api/v1/citizens/ID/balance")
    args = p.parse_args()
    host, port = args.base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=600)
    headers = {"Authorization": f"Bearer {args.token}"}

    def get(path: str) -> None:
        conn.request("GET", path, headers=headers)
        res = conn.getresponse()
        res.read()
        if res.status != 200:
            raise SystemExit(f"GET {path}: {res.status}")

    floor = None
    for kind in args.kinds:
        name, path = kind.split("=", 1)
        for _ in range(20):  # warm: connections opened, statements prepared, caches filled
            get(path)
        before = set(glob.glob(os.path.join(args.dir, "callgrind.out.*")))
        control(args.pid, "-z")
        control(args.pid, "-i", "on")
        for _ in range(args.requests):
            get(path)
        # The audit writer commits after the response is sent; let it finish inside the window.
        time.sleep(0.5)
        control(args.pid, "-i", "off")
        control(args.pid, "-d")
        dumps = []
        for _ in range(100):
            dumps = sorted(set(glob.glob(os.path.join(args.dir, "callgrind.out.*"))) - before)
            if dumps:
                break
            time.sleep(0.1)
        time.sleep(0.5)
        total = 0
        calls: collections.Counter = collections.Counter()
        for d in dumps:  # one file per thread with --separate-threads, else one
            t, c = parse(d)
            total += t
            calls += c
        per = total / args.requests
        line = f"RESULT profile {name}: {per:,.0f} instructions/request"
        if floor is not None:
            line += f" ({per - floor:,.0f} above healthz)"
        if name == "healthz":
            floor = per
        counted = ", ".join(f"{fn} {calls[fn] / args.requests:.1f}" for fn in CALLS if calls[fn])
        print(f"{line}; calls/request: {counted}", flush=True)
        for d in dumps:
            os.rename(d, os.path.join(args.dir, f"profile-{name}.{os.path.basename(d)}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
