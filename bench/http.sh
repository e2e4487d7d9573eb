#!/usr/bin/env bash
# HTTP benchmarks of docs/BENCHMARKS.md. Each figure is compared with a baseline measured in the
# same run on the same machine (these machines are noisy; ratios are what hold):
#   balance  — GET /citizens/{id}/balance on SQLite and on PostgreSQL, 64 connections, vs GET
#              /healthz (no work) on the same server (P1)
#   payouts  — POST payouts on PostgreSQL, 1,000 citizens and one hot citizen, 32 connections,
#              vs pgbench's built-in TPC-B-like script with 32 clients on the same server; and the
#              1,000 citizens on SQLite (P2)
#   flat     — the flat-with-size checks: a balance read for a citizen with 1,000 payouts this
#              year vs one with 10 (SQLite, 64 connections); a payout into a database holding
#              1,000,000 payouts of 10,000 other citizens (bench/bulk.py, straight into SQL) vs
#              one into an empty database (PostgreSQL and SQLite, 32 connections)
#   candidates — GET /tasks/{id}/candidates with 10,000 citizens on SQLite, 8 connections, vs
#              GET /healthz in the same run (bench/seed_matching.py)
#   profile  — not part of `all`: instructions per request (valgrind's callgrind, immune to the
#              machine's load) of GET /healthz, GET /caps/{year} and the balance read, on SQLite
#              and on PostgreSQL, N requests each (REQUESTS, default 300), one at a time
#              (bench/callgrind.py); the dumps are kept in PROFILE_DIR when it is set
#   statements — not part of `all`: SQL statements per payout and per balance read, counted from
#              PostgreSQL's statement log (bench/statements.py; needs read access to the server's log)
# Every section prints the server's peak resident memory (VmHWM, P5) and the ratios.
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
# Seeding enrols citizens by CPR number from one address, as fast as it can: the per-address rate
# limit of such requests (10 at once, then 1 a second) is raised out of the way.
export SMAAJOB_SOURCE_RATE_BURST=${SMAAJOB_SOURCE_RATE_BURST:-1000000}
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

# Requests per second in a saved wrk output, and the ratio of two numbers.
rps() { awk '/^Requests\/sec/ {print $2}' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
# The server's peak resident memory so far.
# (peak; of it now, anonymous memory and pages of files such as the binary's code)
rss() {
    awk '/^VmHWM/ {h = $2} /^RssAnon/ {a = $2} /^RssFile/ {f = $2}
        END {printf "%.1f MB (now: %.1f MB anonymous, %.1f MB file pages)", h / 1024, a / 1024, f / 1024}' \
        "/proc/$server/status"
}
# Runs wrk and keeps its output in $work/$1.txt.
load() {
    local name=$1
    shift
    wrk "$@" | tee "$work/$name.txt"
}
# Stops the server started last.
stop() { kill "$server" && wait "$server" 2>/dev/null || true; }

# Starts the server in $work with the given database URL; sets $server, $port and $token.
start() {
    local log=$work/serve-$RANDOM.log
    port=
    (cd "$work" && exec ${WRAP:-} "$bin" serve --bind 127.0.0.1:0 --database-url "$1" >"$log" 2>&1) &
    server=$!
    pids+=("$server")
    for _ in $(seq 1 600); do
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
    for backend in sqlite postgres; do
        if [ "$backend" = sqlite ]; then
            start "sqlite://$work/balance.sqlite3"
        else
            db=smaajob_balance_$$
            pg_setup "$db"
            start "$base/$db"
        fi
        python3 bench/seed.py --base "http://127.0.0.1:$port" --token "$token" --citizens 1 --payouts 50 >"$work/one.txt"
        citizen=$(cut -d' ' -f1 "$work/one.txt")
        echo "== baseline: GET /healthz, $backend server, 64 connections, $duration (load $(cut -d' ' -f1 /proc/loadavg))"
        load healthz -t2 -c64 -d"$duration" --latency "http://127.0.0.1:$port/healthz"
        echo "== GET /api/v1/citizens/{id}/balance (50 payouts), $backend, 64 connections, $duration"
        load balance -t2 -c64 -d"$duration" --latency -H "Authorization: Bearer $token" \
            "http://127.0.0.1:$port/api/v1/citizens/$citizen/balance"
        echo "RESULT balance $backend: $(rps "$work/balance.txt") req/s vs healthz $(rps "$work/healthz.txt"):" \
            "ratio $(ratio "$(rps "$work/balance.txt")" "$(rps "$work/healthz.txt")") (target >= 0.5);" \
            "peak RSS $(rss) (target <= 50 MB)"
        stop
    done
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
    echo "== POST payouts, 1,000 distinct citizens, PostgreSQL, 32 connections, $duration (load $(cut -d' ' -f1 /proc/loadavg))"
    EMPLOYMENTS=$work/employments.txt load payouts -t2 -c32 -d"$duration" --latency -s bench/payouts.lua "http://127.0.0.1:$port"
    echo "== POST payouts, one hot citizen, PostgreSQL, 32 connections, $duration"
    EMPLOYMENTS=$work/hot.txt load hot-load -t2 -c32 -d"$duration" --latency -s bench/payouts.lua "http://127.0.0.1:$port"
    pg_rss=$(rss)
    stop
    echo "== baseline: pgbench TPC-B-like, scale 10, 32 clients, $duration"
    pgbench -q -i -s 10 "$base/$pgb" >/dev/null 2>&1
    pgbench -c 32 -j 2 -T "${duration%s}" "$base/$pgb" 2>/dev/null | grep -E 'tps|latency' | tee "$work/pgbench.txt"
    tps=$(awk '/^tps/ {print $3}' "$work/pgbench.txt")
    echo "RESULT payouts postgres: $(rps "$work/payouts.txt") req/s vs pgbench $tps tps:" \
        "ratio $(ratio "$(rps "$work/payouts.txt")" "$tps") (target >= 0.5); one hot citizen $(rps "$work/hot-load.txt") req/s," \
        "ratio $(ratio "$(rps "$work/hot-load.txt")" "$tps"); peak RSS $pg_rss (target <= 50 MB)"
    start "sqlite://$work/payouts.sqlite3"
    python3 bench/seed.py --base "http://127.0.0.1:$port" --token "$token" --citizens 1000 >"$work/employments.txt"
    export TOKEN=$token
    echo "== POST payouts, 1,000 distinct citizens, SQLite, 32 connections, $duration"
    EMPLOYMENTS=$work/employments.txt load payouts -t2 -c32 -d"$duration" --latency -s bench/payouts.lua "http://127.0.0.1:$port"
    echo "RESULT payouts sqlite: $(rps "$work/payouts.txt") req/s (pgbench above: ratio $(ratio "$(rps "$work/payouts.txt")" "$tps"));" \
        "peak RSS $(rss)"
    stop
    echo "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
fi

if [ "$what" = all ] || [ "$what" = candidates ]; then
    # Seeding enrols 10,000 citizens from one address: lift the per-source limit for this server.
    SMAAJOB_SOURCE_RATE_BURST=1000000 SMAAJOB_SOURCE_RATE_PERIOD=1ms start "sqlite://$work/matching.sqlite3"
    echo "seeding ${CITIZENS:-10000} citizens with homes, modes and skills…"
    task=$(python3 bench/seed_matching.py --base "http://127.0.0.1:$port" --token "$token" --citizens "${CITIZENS:-10000}")
    echo "== baseline: GET /healthz, 8 connections, $duration"
    load healthz-candidates -t2 -c8 -d"$duration" --latency "http://127.0.0.1:$port/healthz"
    echo "== GET /api/v1/tasks/{id}/candidates (${CITIZENS:-10000} citizens, top 20), SQLite, 8 connections, $duration"
    load candidates -t2 -c8 -d"$duration" --latency -H "Authorization: Bearer $token" \
        "http://127.0.0.1:$port/api/v1/tasks/$task/candidates"
    echo "RESULT candidates sqlite: $(rps "$work/candidates.txt") req/s vs /healthz $(rps "$work/healthz-candidates.txt"):" \
        "ratio $(ratio "$(rps "$work/candidates.txt")" "$(rps "$work/healthz-candidates.txt")"); peak RSS $(rss)"
    stop
fi

if [ "$what" = all ] || [ "$what" = flat ]; then
    start "sqlite://$work/flat.sqlite3"
    python3 bench/seed.py --base "http://127.0.0.1:$port" --token "$token" --citizens 2 --payouts 10,1000 >"$work/two.txt"
    few=$(sed -n 1p "$work/two.txt" | cut -d' ' -f1)
    many=$(sed -n 2p "$work/two.txt" | cut -d' ' -f1)
    for n in few many; do
        echo "== GET /api/v1/citizens/{id}/balance, $([ $n = few ] && echo 10 || echo 1,000) payouts this year, SQLite, 64 connections, $duration"
        load "balance-$n" -t2 -c64 -d"$duration" --latency -H "Authorization: Bearer $token" \
            "http://127.0.0.1:$port/api/v1/citizens/${!n}/balance"
    done
    echo "RESULT flat balance: 10 payouts $(rps "$work/balance-few.txt") req/s, 1,000 payouts $(rps "$work/balance-many.txt") req/s:" \
        "cost ratio $(ratio "$(rps "$work/balance-few.txt")" "$(rps "$work/balance-many.txt")") (target <= 1.5); peak RSS $(rss)"
    stop
    for backend in ${FLAT_BACKENDS:-postgres sqlite}; do
        for size in empty full; do
            if [ "$backend" = sqlite ]; then
                url="sqlite://$work/flat-$size.sqlite3"
            else
                db=smaajob_flat_${size}_$$
                pg_setup "$db"
                url="$base/$db"
            fi
            start "$url"
            python3 bench/seed.py --base "http://127.0.0.1:$port" --token "$token" --citizens 1000 >"$work/employments.txt"
            if [ "$size" = full ]; then
                stop
                python3 bench/bulk.py --database-url "$url" --citizens 10000 --payouts 100
                start "$url"
            fi
            export TOKEN=$token TODAY JAN1
            echo "== POST payouts, 1,000 citizens, $backend, database $([ $size = full ] && echo 'with 1,000,000 payouts' || echo empty), 32 connections, $duration (load $(cut -d' ' -f1 /proc/loadavg))"
            EMPLOYMENTS=$work/employments.txt load "payouts-$size" -t2 -c32 -d"$duration" --latency -s bench/payouts.lua "http://127.0.0.1:$port"
            stop
        done
        echo "RESULT flat payouts $backend: empty $(rps "$work/payouts-empty.txt") req/s, 1,000,000 payouts $(rps "$work/payouts-full.txt") req/s:" \
            "cost ratio $(ratio "$(rps "$work/payouts-empty.txt")" "$(rps "$work/payouts-full.txt")") (target <= 1.5)"
    done
fi

if [ "$what" = profile ]; then
    for backend in ${PROFILE_BACKENDS:-sqlite postgres}; do
        if [ "$backend" = sqlite ]; then
            url="sqlite://$work/profile.sqlite3"
        else
            db=smaajob_profile_$$
            pg_setup "$db"
            url="$base/$db"
        fi
        WRAP="valgrind --tool=callgrind --instr-atstart=no --dump-instr=no" start "$url"
        python3 bench/seed.py --base "http://127.0.0.1:$port" --token "$token" --citizens 1 --payouts 50 >"$work/one.txt"
        citizen=$(cut -d' ' -f1 "$work/one.txt")
        echo "== instructions per request, $backend, ${REQUESTS:-300} requests each, one at a time"
        python3 bench/callgrind.py --pid "$server" --dir "$work" --base "http://127.0.0.1:$port" --token "$token" \
            --requests "${REQUESTS:-300}" healthz=/healthz caps=/api/v1/caps/$(date +%Y) \
            "balance=/api/v1/citizens/$citizen/balance"
        stop
        if [ -n "${PROFILE_DIR:-}" ]; then
            mkdir -p "$PROFILE_DIR/$backend" && cp "$work"/profile-* "$PROFILE_DIR/$backend/"
        fi
    done
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
    stop
    start "$base/$db"
    python3 bench/statements.py --base "http://127.0.0.1:$port" --token "$token" --employment "$employment" \
        --citizen "$(cut -d' ' -f1 "$work/one.txt")" --database-url "$base/$db" --payouts "${PAYOUTS:-20}" \
        --backdated "${BACKDATED:-5}" --balances "${BALANCES:-20}"
fi
