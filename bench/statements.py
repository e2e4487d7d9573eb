#!/usr/bin/env python3
"""Counts the SQL statements a running Småjob server sends per payout, from PostgreSQL's log.

Run by `bench/http.sh statements`, which starts the server on a throwaway database with
`log_statement = 'all'` set on that database. This script registers one warm-up payout, then
N payouts on the fast path (each paid no earlier than every other payout of the year) and M
back-dated payouts (paid before an existing payout, so the year is re-run), and reads the
statements logged for that database between distinctive `SELECT 'bench-marker-…'` statements.

Every statement the server's connections sent counts: BEGIN and COMMIT, and the `SELECT 1` the
connection pool runs when a connection is checked out, each also shown on its own line. With
the extended protocol a statement is logged once, as `execute <name>: …`; simple queries (BEGIN,
COMMIT, SELECT 1) as `statement: …`. Needs psql and read access to the server's log (found from
the server's settings, or named by BENCH_POSTGRES_LOG); the log line prefix must name the process
and the database (`%p` and `%d`; Debian's default `%m [%p] %q%u@%d ` does).
Standard library only.
"""
import argparse
import collections
import datetime
import http.client
import json
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.parse
import zoneinfo

LINE = re.compile(r"\[(?P<pid>\d+)\] (?:\S*@)?(?P<db>\S+) LOG:  (?:statement|execute [^:]*): (?P<sql>.*)$")


def psql(url: str, sql: str) -> str:
    out = subprocess.run(["psql", "-X", "-qAt", "-d", url, "-c", sql], check=True, capture_output=True, text=True)
    return out.stdout.strip()


def log_file(url: str) -> str:
    """The server log: logging collector's current file, else Debian's stderr log of the cluster."""
    current = psql(url, "SELECT coalesce(pg_current_logfile(), '')")
    if current:
        return current if current.startswith("/") else os.path.join(psql(url, "SHOW data_directory"), current)
    cluster = psql(url, "SHOW cluster_name")
    if not cluster:
        raise SystemExit("cannot find the PostgreSQL log: no logging collector and no cluster_name; set BENCH_POSTGRES_LOG")
    return f"/var/log/postgresql/postgresql-{cluster.replace('/', '-')}.log"


def normalise(sql: str) -> str:
    return " ".join(sql.split())


def shown(sql: str) -> str:
    """A statement with its column and value lists elided, so what it reads or writes shows."""
    sql = re.sub(r"^SELECT (.{40,}?) FROM ", "SELECT … FROM ", sql)
    sql = re.sub(r"^(INSERT INTO \S+) \(.*?\) VALUES \(.*?\)", r"\1 (…) VALUES (…)", sql)
    sql = re.sub(r"^(UPDATE \S+ SET) (.{40,}?) WHERE ", r"\1 … WHERE ", sql)
    return sql if len(sql) <= 150 else sql[:149] + "…"


def window(lines: list[str], db: str, start: str, end: str) -> list[str]:
    """The statements the database's connections logged between the two markers, markers' own
    connections excluded."""
    marker_pids = set()
    for line in lines:
        m = LINE.search(line)
        if m and "bench-marker-" in m["sql"]:
            marker_pids.add(m["pid"])
    inside, found = False, []
    for line in lines:
        m = LINE.search(line)
        if not m or m["db"] != db:
            continue
        if start in m["sql"]:
            inside = True
        elif end in m["sql"]:
            return found
        elif inside and m["pid"] not in marker_pids:
            found.append(normalise(m["sql"]))
    raise SystemExit(f"marker {end} not found in the log")


def report(title: str, statements: list[str], payouts: int, what: str = "payout") -> None:
    counts = collections.Counter(statements)
    tx = sum(n for s, n in counts.items() if s.upper() in ("BEGIN", "COMMIT", "ROLLBACK"))
    pool = counts.get("SELECT 1", 0)
    print(f"== {title}: {payouts} {what}s, {len(statements)} statements")
    print(f"   statements per {what}: {len(statements) / payouts:.2f}"
          f" (BEGIN/COMMIT {tx / payouts:.2f}, pool check SELECT 1 {pool / payouts:.2f},"
          f" the rest {(len(statements) - tx - pool) / payouts:.2f})")
    order = {}
    for s in statements:
        order.setdefault(s, len(order))
    for s in sorted(counts, key=order.__getitem__):
        print(f"   {counts[s] / payouts:6.2f}  {shown(s)}")


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True, help="the server, e.g. http://127.0.0.1:8080")
    p.add_argument("--token", required=True, help="a coordinator token for municipality 730")
    p.add_argument("--employment", required=True, help="an employment from bench/seed.py")
    p.add_argument("--database-url", required=True, help="the server's PostgreSQL database")
    p.add_argument("--payouts", type=int, default=20, help="fast-path payouts to count")
    p.add_argument("--backdated", type=int, default=5, help="back-dated payouts to count")
    p.add_argument("--balances", type=int, default=20,
                   help="reads of the employee's balance to count (after the payouts; one at a time, so each "
                        "read's audit entry is committed alone)")
    p.add_argument("--citizen", help="the employee (from bench/seed.py), for the balance reads")
    args = p.parse_args()

    db = urllib.parse.urlparse(args.database_url).path.lstrip("/")
    prefix = psql(args.database_url, "SHOW log_line_prefix")
    if "%p" not in prefix or "%d" not in prefix:
        raise SystemExit(f"log_line_prefix {prefix!r} must contain %p and %d")
    if psql(args.database_url, "SHOW log_statement") != "all":
        raise SystemExit(f"log_statement is not 'all' on {db}: ALTER DATABASE {db} SET log_statement = 'all'")
    log = os.environ.get("BENCH_POSTGRES_LOG") or log_file(args.database_url)
    offset = os.path.getsize(log)

    url = urllib.parse.urlparse(args.base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    headers = {"Authorization": f"Bearer {args.token}", "Content-Type": "application/json"}
    today = datetime.datetime.now(zoneinfo.ZoneInfo("Europe/Copenhagen")).date()
    jan1 = today.replace(month=1, day=1)
    earlier = today - datetime.timedelta(days=1)
    if args.backdated and earlier < jan1:
        raise SystemExit("today is 1 January: no earlier day in the year to back-date a payout to")

    def payout(paid: datetime.date) -> None:
        body = {"payment_date": paid.isoformat(), "worked_from": jan1.isoformat(), "worked_to": jan1.isoformat(),
                "wage": "250.00", "holiday_pay": "0.00"}
        conn.request("POST", f"/api/v1/employments/{args.employment}/payouts", body=json.dumps(body), headers=headers)
        res = conn.getresponse()
        data = res.read()
        if res.status != 201:
            raise SystemExit(f"payout: {res.status} {data.decode()}")

    tag = f"bench-marker-{secrets.token_hex(4)}"

    def balance() -> None:
        conn.request("GET", f"/api/v1/citizens/{args.citizen}/balance", headers=headers)
        res = conn.getresponse()
        data = res.read()
        if res.status != 200:
            raise SystemExit(f"balance: {res.status} {data.decode()}")

    def counted(label: str, paid: datetime.date | None, n: int) -> tuple[str, str]:
        start, end = f"{tag}-{label}-start", f"{tag}-{label}-end"
        psql(args.database_url, f"SELECT '{start}'")
        for _ in range(n):
            if paid is None:
                balance()
            else:
                payout(paid)
        time.sleep(0.5)  # nothing is written after the response, but leave the log time to catch up
        psql(args.database_url, f"SELECT '{end}'")
        return start, end

    payout(today)  # warm-up: the first request on a connection is not typical
    time.sleep(1)
    fast = counted("fast", today, args.payouts)
    slow = counted("backdated", earlier, args.backdated) if args.backdated else None
    reads = counted("balance", None, args.balances) if args.citizen and args.balances else None

    for _ in range(50):
        with open(log, encoding="utf-8", errors="replace") as f:
            f.seek(offset)
            lines = f.read().splitlines()
        if any((reads or slow or fast)[1] in line for line in lines):
            break
        time.sleep(0.1)
    report(f"fast path (paid on {today}, not before any other payout of the year)", window(lines, db, *fast),
           args.payouts)
    if slow:
        report(f"back-dated (paid on {earlier}, before {args.payouts + 1} payouts paid on {today})",
               window(lines, db, *slow), args.backdated)
    if reads:
        report(f"balance read (GET /citizens/{{id}}/balance, {args.payouts + args.backdated + 1} payouts this year)",
               window(lines, db, *reads), args.balances, "read")
    return 0


if __name__ == "__main__":
    sys.exit(main())
