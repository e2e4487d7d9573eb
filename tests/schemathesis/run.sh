#!/usr/bin/env bash
# A bounded, seeded property-based run of the API against its own OpenAPI document (schemathesis).
# It starts the built server on a fresh SQLite file with the demo data, on a free loopback port,
# mints one token per role, and fails on any 5xx, any status the document does not list, any
# response that does not match its documented schema or content type, and any request the
# document calls invalid that the server accepts.
#
#   tests/schemathesis/run.sh                  # every role, the default seed and size
#   SCHEMATHESIS_CASES=50 SCHEMATHESIS_SEED=7 tests/schemathesis/run.sh
#
# Installs schemathesis (pinned) into a virtualenv under target/ when it is not there yet.
set -euo pipefail
cd "$(dirname "$0")/../.."

VERSION=4.32.5
VENV=${SCHEMATHESIS_VENV:-target/schemathesis-venv}
BIN=${SMAAJOB_BIN:-target/debug/smaajob}
# Generated cases per operation and role in the fuzzing phase (about 60 operations), on top of
# the deterministic examples and coverage phases.
CASES=${SCHEMATHESIS_CASES:-6}
SEED=${SCHEMATHESIS_SEED:-20261203}
# Every check except `positive_data_acceptance`: the document cannot express every domain rule
# (a CPR number's date, a CVR checksum, amounts with at most two decimals, dates before the scheme,
# filter words), so a schema-valid request may rightly be refused with 422.
CHECKS=(--checks all --exclude-checks positive_data_acceptance)
# The timetable upload takes a zip body, which schemathesis cannot generate (it has no serializer
# for application/zip); tests/e2e/gtfs.rs tests that upload end to end instead.
FILTERS=(--exclude-name "POST /api/v1/gtfs")

if [ ! -x "$VENV/bin/schemathesis" ] || [ "$("$VENV/bin/schemathesis" --version 2>/dev/null)" != "schemathesis, version $VERSION" ]; then
    if ! python3 -m venv "$VENV" 2>/dev/null; then
        # Debian splits venv out of python3.
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv
        python3 -m venv "$VENV"
    fi
    "$VENV/bin/pip" install --disable-pip-version-check -q "schemathesis==$VERSION"
fi
[ -x "$BIN" ] || cargo build --locked -q -p smaajob-api --bin smaajob

work=$(mktemp -d)
server=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
db="sqlite://$work/smaajob.sqlite3"

"$BIN" demo --database-url "$db" >"$work/demo.txt" 2>/dev/null
# `demo` prints "Companies:" and "Citizens:" sections of "  <id>  <name> …" lines.
ids() { awk -v section="$1" '/^[A-Z]/ { on = ($0 == section) } on && $1 ~ /^[0-9a-f-]{36}$/ { print $1 }' "$work/demo.txt"; }
mapfile -t companies < <(ids "Companies:")
mapfile -t citizens < <(ids "Citizens:")
[ ${#companies[@]} -gt 0 ] && [ ${#citizens[@]} -gt 0 ] || { echo "no demo ids in: $(cat "$work/demo.txt")" >&2; exit 1; }

# One address sends thousands of requests here: with the default per-source rate and guess limits
# almost every request to the three endpoints that take a CPR number would meet the limiter
# (answered before the token is read, so a missing token would get 429 rather than 401) and test
# nothing else. The limits themselves are tested end to end in tests/e2e/guessing.rs.
SMAAJOB_SOURCE_RATE_BURST=1000000 SMAAJOB_SOURCE_RATE_PERIOD=1ms \
SMAAJOB_GUESS_LIMIT_ACTOR=1000000/1m SMAAJOB_GUESS_LIMIT_SOURCE=1000000/1m SMAAJOB_GUESS_LIMIT_CITIZEN=1000000/1m \
    "$BIN" serve --bind 127.0.0.1:0 --database-url "$db" >"$work/server.log" 2>&1 &
server=$!
port=""
for _ in $(seq 1 60); do
    port=$(sed -nE 's/.*listening.*port[= ]([0-9]+).*/\1/p' "$work/server.log" | head -n1)
    [ -n "$port" ] && "$BIN" healthcheck --bind "127.0.0.1:$port" --timeout 1s && break
    kill -0 "$server" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
    sleep 0.5
done
[ -n "$port" ] || { echo "the server did not come up" >&2; cat "$work/server.log" >&2; exit 1; }
base="http://127.0.0.1:$port"

# Half the generated ids are the demo's real ones, so operations get past "not found" too.
known=$(printf '"%s", ' "${companies[@]}" "${citizens[@]}")
cat >"$work/schemathesis.toml" <<TOML
[dictionaries.demo_ids]
values = [${known%, }]

[parameters]
"path.id" = { dictionary = "demo_ids", probability = 0.5 }
"body.company_id" = { dictionary = "demo_ids", probability = 0.5 }
"body.citizen_id" = { dictionary = "demo_ids", probability = 0.5 }
"body.task_id" = { dictionary = "demo_ids", probability = 0.5 }
TOML

# One line per role: its name and its `smaajob token` arguments (none: no token at all).
roles() {
    echo "operator --role operator"
    echo "coordinator --role coordinator --municipality 730"
    echo "company --role company --company-id ${companies[0]}"
    echo "citizen --role citizen --citizen-id ${citizens[0]}"
    echo "anonymous"
}

failed=()
passed=0
while read -r role args; do
    auth=()
    if [ -n "$args" ]; then
        # shellcheck disable=SC2086 # the arguments are split on purpose
        token=$("$BIN" token --database-url "$db" $args 2>/dev/null)
        auth=(-H "Authorization: Bearer $token")
    fi
    printf '\n==> schemathesis as %s (seed %s, %s generated cases per operation)\n' "$role" "$SEED" "$CASES"
    if "$VENV/bin/schemathesis" --no-color --config-file "$work/schemathesis.toml" run "$base/openapi.json" \
        "${auth[@]}" "${CHECKS[@]}" "${FILTERS[@]}" --phases examples,coverage,fuzzing --max-examples "$CASES" --seed "$SEED" \
        --workers 1 --generation-database none --request-timeout 30 --warnings off </dev/null; then
        passed=$((passed + 1))
    else
        failed+=("$role")
    fi
done < <(roles)

# A 5xx already fails a check; a panic the server survived must fail the run too. (actix-web logs
# the malformed headers some cases send at ERROR level; those are refused before the application.)
if grep -qE 'panicked|internal error' "$work/server.log"; then
    echo "the server logged a panic or an internal error:" >&2
    grep -E 'panicked|internal error' "$work/server.log" | head -n 20 >&2
    failed+=("server log")
fi
echo
echo "schemathesis: ${passed} passed, ${#failed[@]} failed${failed:+ (${failed[*]})}"
[ ${#failed[@]} -eq 0 ]
