#!/usr/bin/env python3
"""Guessing CPR and card numbers against a local server (standard library only), for
docs/BENCHMARKS.md. Starts its own servers on 127.0.0.1 with throwaway SQLite databases, and
every loop is bounded in count and time.

  rate     — how many guesses are answered (evaluated) per company and per source address with the
             default limits, counting 422 (a wrong guess answered), 429 too_many_guesses and 429
             rate_limited over a bounded loop;
  timing   — the latency of a known CPR number with a wrong card number and of an unknown CPR
             number, interleaved, on a server whose limits are raised out of the way.

  bench/guessing.py [--bin target/release/smaajob] [rate|timing|all]
"""
import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ATTESTED = {
    "attestations": {
        "no_su_eligible_education": True,
        "no_taxable_work_income_over_threshold": True,
        "residence_9_of_last_10_years": True,
        "in_target_group": True,
    },
    "valid_from": "2024-01-01",
}


def cvr(seed: int) -> str:
    """The first valid CVR number from 10,000,000 + 100 × seed."""
    weights = [2, 7, 6, 5, 4, 3, 2, 1]
    n = 10_000_000 + 100 * seed
    while sum(int(d) * w for d, w in zip(str(n), weights)) % 11:
        n += 1
    return str(n)


def cpr(seed: int) -> str:
    """A valid CPR number of someone born 1 January 1990 (serial from seed)."""
    return f"010190-{1000 + seed:04d}"


class Server:
    def __init__(self, binary: str, work: str, extra: list[str]):
        self.binary, self.work = binary, work
        self.db = f"sqlite://{work}/bench-{len(os.listdir(work))}.sqlite3"
        self.log = open(f"{work}/serve-{len(os.listdir(work))}.log", "w+")
        self.proc = subprocess.Popen(
            [binary, "serve", "--bind", "127.0.0.1:0", "--database-url", self.db, *extra],
            cwd=work, stdout=subprocess.DEVNULL, stderr=self.log, env={**os.environ, "RUST_LOG": "warn"},
        )
        deadline = time.time() + 20
        self.port = None
        while time.time() < deadline and self.port is None:
            time.sleep(0.1)
            self.log.seek(0)
            m = re.search(r"listening on port (\d+)", self.log.read())
            self.port = int(m.group(1)) if m else None
        if self.port is None:
            raise SystemExit("the server did not start")
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def token(self, *args: str) -> str:
        out = subprocess.run([self.binary, "token", "--database-url", self.db, "--ttl", "2h", *args],
                             cwd=self.work, capture_output=True, text=True, check=True)
        return out.stdout.strip()

    def post(self, path: str, token: str, body: dict) -> tuple[int, dict]:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.conn.request("POST", f"/api/v1{path}", body=json.dumps(body), headers=headers)
        r = self.conn.getresponse()
        raw = r.read()
        return r.status, (json.loads(raw) if raw else {})

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def seed(server: Server, companies: int) -> tuple[str, str, list[str]]:
    """One Randers card holder and `companies` companies; returns the CPR, the card number and
    the company tokens."""
    coordinator = server.token("--role", "coordinator", "--municipality", "730")
    status, citizen = server.post("/citizens", coordinator, {"cpr": cpr(0), "name": "Jens Hansen"})
    assert status == 201, citizen
    status, card = server.post(f"/citizens/{citizen['id']}/frikort", coordinator, ATTESTED)
    assert status == 201, card
    tokens = []
    for n in range(companies):
        status, company = server.post("/companies", coordinator,
                                      {"cvr": cvr(n), "name": f"Firma {n}", "contact": {"name": "K"}})
        assert status == 201, company
        tokens.append(server.token("--role", "company", "--company-id", company["id"]))
    return cpr(0), card["number"], tokens


def guess(server: Server, token: str, who: str, number: str) -> tuple[int, str]:
    body = {"citizen": {"cpr": who, "frikort_number": number}, "start_date": "2024-01-01",
            "contact": {"name": "K"}}
    status, answer = server.post("/employments", token, body)
    return status, answer.get("code", "")


def wrong(number: str, n: int) -> str:
    return f"{(int(number) + 1 + n) % 100_000:05d}"


def rate(binary: str, work: str) -> None:
    # One company, as fast as it can, for at most 20 s or 400 requests.
    server = Server(binary, work, [])
    who, number, tokens = seed(server, 1)
    counts: dict[str, int] = {}
    start, sent = time.time(), 0
    while sent < 400 and time.time() - start < 20:
        status, code = guess(server, tokens[0], who, wrong(number, sent))
        key = f"{status} {code}"
        counts[key] = counts.get(key, 0) + 1
        sent += 1
    elapsed = time.time() - start
    print(f"== one company, default limits: {sent} requests in {elapsed:.1f} s")
    for key, n in sorted(counts.items()):
        print(f"   {key}: {n}")
    server.stop()

    # Many companies behind one address, one wrong guess each, paced under the source rate
    # (10 at once, then 1 a second) so that only the ledger's per-source count decides.
    server = Server(binary, work, [])
    who, number, tokens = seed(server, 30)
    answered, first_lock = 0, None
    start = time.time()
    for n, token in enumerate(tokens):
        status, code = guess(server, token, cpr(100 + n), number)
        if status == 422:
            answered += 1
        elif code == "too_many_guesses" and first_lock is None:
            first_lock = n + 1
        time.sleep(1.05)
    print(f"== 30 companies at one address, one wrong guess each, {time.time() - start:.0f} s:"
          f" {answered} answered 422, the address locked at guess {first_lock}")
    server.stop()


def timing(binary: str, work: str, rounds: int) -> None:
    raised = ["--guess-limit-actor", "100000000/1m", "--guess-limit-source", "100000000/1m",
              "--guess-limit-citizen", "100000000/1m", "--source-rate-period", "1ms",
              "--source-rate-burst", "1000000"]
    server = Server(binary, work, raised)
    who, number, tokens = seed(server, 1)
    known, unknown = [], []
    for _ in range(50):  # warm-up
        guess(server, tokens[0], who, wrong(number, 0))
        guess(server, tokens[0], cpr(8500), number)
    start = time.time()
    for n in range(rounds):
        for series, target in ((known, who), (unknown, cpr(5000 + n % 3000))):
            t0 = time.perf_counter_ns()
            status, code = guess(server, tokens[0], target, wrong(number, n) if target == who else number)
            series.append((time.perf_counter_ns() - t0) / 1000)
            assert (status, code) == (422, "citizen_not_matched"), (status, code)
    elapsed = time.time() - start
    print(f"== {rounds} known-CPR-wrong-card and {rounds} unknown-CPR guesses, interleaved, one connection,"
          f" {2 * rounds / elapsed:.0f} guesses/s")
    for name, series in (("known CPR, wrong card", known), ("unknown CPR", unknown)):
        q = statistics.quantiles(series, n=100)
        print(f"   {name:22} median {statistics.median(series):7.0f} µs  p10 {q[9]:7.0f}  p90 {q[89]:7.0f}"
              f"  p99 {q[98]:7.0f}  mean {statistics.fmean(series):7.0f}")
    server.stop()


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("what", nargs="?", default="all", choices=["rate", "timing", "all"])
    p.add_argument("--bin", default="target/release/smaajob")
    p.add_argument("--rounds", type=int, default=2000)
    args = p.parse_args()
    binary = os.path.abspath(args.bin)
    with tempfile.TemporaryDirectory() as work:
        if args.what in ("rate", "all"):
            rate(binary, work)
        if args.what in ("timing", "all"):
            timing(binary, work, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
