#!/usr/bin/env bash
# HTTP benchmarks of docs/BENCHMARKS.md. Each figure is compared with a baseline measured in the
# same run on the same machine (these machines are noisy; ratios are what hold):
#   balance  — GET /citizens/{id}/balance on SQLite, 64 connections, vs GET /healthz (no work)
#   payouts  — POST payouts on PostgreSQL, 1,000 citizens and one hot citizen, 32 connections,
#              vs pgbench's built-in TPC-B-like script with 32 clients on the same server
#   candidates — GET /tasks/{id}/candidates with 10,000 citizens on SQLite, 8 connections, vs
#              GET /healthz in the same run (bench/seed_matching.py)
#   statements — not part of `all`: SQL statements per payout, counted from PostgreSQL's
#              statement log (bench/statements.py; needs read access to the server's log)
# Needs: wrk, python3, and for `payouts` and `statements` PostgreSQL (BENCH_POSTGRES_URL, default
# postgres://postgres@127.0.0.1:5432/postgres, a superuser) with psql and pgbench.
# SMAAJOB_BIN runs a binary built elsewhere (e.g. an older commit) instead of building this tree's.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
duration=${DURATION:-15s}
pg_admin=${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
if [ -n "${SMAAJOB_BIN:-}" ]; then
    bin=$(realpath "$SMAAJOB_BIN")
else
    cargo build --release --locked -q -p smaajob-api --bin smaajob
    bin=$PWD/target/release/smaajob
fi
# The server counts days in Copenhagen; so do the payouts sent to it.
TODAY=$(TZ=Europe/Copenhagen date +%F)
JAN1=${TODAY%%-*}-01-01
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# Starts the server in $work with the given database URL; sets $server, $port and $token.
start() {
    local log=$work/serve-$RANDOM.log
    port=
    (cd "$work" && exec "$bin" serve --bind 127.0.0.1:0 --database-url "$1" >"$log" 2>&1) &
    server=$!
    pids+=("$server")
    for _ in $(seq 1 100); do
        port=$(sed -nE 's/.*listening on port ([0-9]+).*/\1/p' "$log" | head -n1)
        [ -n "$port" ] && break
        sleep 0.1
    done
    [ -n "$port" ] || { cat "$log"; exit 1; }
    token=$(cd "$work" && "$bin" token --database-url "$1" --role coordinator --municipality 730 --ttl 2h)
}

# Throwaway PostgreSQL databases, dropped on exit, and the secrets the server needs for them.
pg_databases=()
pg_setup() {
    base=${pg_admin%/*}
    for d in "$@"; do
        psql "$pg_admin" -qc "CREATE DATABASE $d"
        pg_databases+=("$d")
    done
    export SMAAJOB_JWT_SECRET=bench-secret-bench-secret-bench-secret-0123
    SMAAJOB_DATA_KEY=$(python3 -c 'import base64,os; print(base64.b64encode(os.urandom(32)).decode())')
    export SMAAJOB_DATA_KEY
}
trap 'cleanup; for d in "${pg_databases[@]}"; do psql "$pg_admin" -qc "DROP DATABASE IF EXISTS $d WITH (FORCE)"; done' EXIT

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr); $(wrk --version 2>&1 | head -n1 | cut -d' ' -f1-2)"
echo "server: $bin ($(cd "$(dirname "$bin")" && git describe --always --dirty 2>/dev/null || echo '?')); load average: $(cut -d' ' -f1-3 /proc/loadavg)"

if [ "$what" = all ] || [ "$what" = balance ]; then
    start "sqlite://$work/bench.sqlite3"
    python3 bench/seed.py --base "http://127.0.0.1:$port" --token "$token" --citizens 1 --payouts 50 >"$work/one.txt"
    citizen=$(cut -d' ' -f1 "$work/one.txt")
    echo "== baseline: GET /healthz, 64 connections, $duration"
    wrk -t2 -c64 -d"$duration" --latency "http://127.0.0.1:$port/healthz"
    echo "== GET /api/v1/citizens/{id}/balance (50 payouts), SQLite, 64 connections, $duration"
    wrk -t2 -c64 -d"$duration" --latency -H "Authorization: Bearer $token" \
        "http://127.0.0.1:$port/api/v1/citizens/$citizen/balance"
fi

if [ "$what" = all ] || [ "$what" = payouts ]; then
    db=smaajob_bench_$$
    pgb=smaajob_pgbench_$$
    pg_setup "$db" "$pgb"
    start "$base/$db"
    echo "seeding 1,000 citizens with cards and employments…"
    python3 bench/seed.py --base "http://127.0.0.1:$port" --token "$token" --citizens 1000 >"$work/employments.txt"
    head -n1 "$work/employments.txt" >"$work/hot.txt"
    export TOKEN=$token TODAY JAN1
    echo "== POST payouts, 1,000 distinct citizens, PostgreSQL, 32 connections, $duration"
    EMPLOYMENTS=$work/employments.txt wrk -t2 -c32 -d"$duration" --latency -s bench/payouts.lua "http://127.0.0.1:$port"
    echo "== POST payouts, one hot citizen, PostgreSQL, 32 connections, $duration"
    EMPLOYMENTS=$work/hot.txt wrk -t2 -c32 -d"$duration" --latency -s bench/payouts.lua "http://127.0.0.1:$port"
    echo "== baseline: pgbench TPC-B-like, scale 10, 32 clients, $duration"
    pgbench -q -i -s 10 "$base/$pgb" >/dev/null 2>&1
    pgbench -c 32 -j 2 -T "${duration%s}" "$base/$pgb" 2>/dev/null | grep -E 'tps|latency'
    echo "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
fi

if [ "$what" = all ] || [ "$what" = candidates ]; then
    # Seeding enrols 10,000 citizens from one address: lift the per-source limit for this server.
    SMAAJOB_SOURCE_RATE_BURST=1000000 SMAAJOB_SOURCE_RATE_PERIOD=1ms start "sqlite://$work/matching.sqlite3"
    echo "seeding ${CITIZENS:-10000} citizens with homes, modes and skills…"
    task=$(python3 bench/seed_matching.py --base "http://127.0.0.1:$port" --token "$token" --citizens "${CITIZENS:-10000}")
    echo "== baseline: GET /healthz, 8 connections, $duration"
    wrk -t2 -c8 -d"$duration" --latency "http://127.0.0.1:$port/healthz"
    echo "== GET /api/v1/tasks/{id}/candidates (${CITIZENS:-10000} citizens, top 20), SQLite, 8 connections, $duration"
    wrk -t2 -c8 -d"$duration" --latency -H "Authorization: Bearer $token" \
        "http://127.0.0.1:$port/api/v1/tasks/$task/candidates"
fi

if [ "$what" = statements ]; then
    db=smaajob_statements_$$
    pg_setup "$db"
    start "$base/$db"
    python3 bench/seed.py --base "http://127.0.0.1:$port" --token "$token" --citizens 1 >"$work/one.txt"
    employment=$(cut -d' ' -f2 "$work/one.txt")
    # Log every statement on this database only; the restarted server's pool connects afresh
    # and picks the setting up. The setting goes with the database.
    psql "$pg_admin" -qc "ALTER DATABASE $db SET log_statement = 'all'"
    kill "$server" && wait "$server" 2>/dev/null || true
    start "$base/$db"
    python3 bench/statements.py --base "http://127.0.0.1:$port" --token "$token" --employment "$employment" \
        --database-url "$base/$db" --payouts "${PAYOUTS:-20}" --backdated "${BACKDATED:-5}"
fi
