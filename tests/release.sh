#!/usr/bin/env bash
# Checks the release binary as `make release` builds and installs it (scripts/build-release.sh):
# that the link recipe took (no shared libstdc++ or Swift libraries, packed relocations, hot code
# first), and that the binary runs: --version, a bad flag, a scrape of a real PostgreSQL, SIGTERM.
# Memory itself is measured by bench/rss.sh, not here.
# Run by `make test` (scripts/test.sh), which exports PGWARDEN_TEST_PGHOST/PGPORT for its cluster;
# run alone (bash tests/release.sh) it starts a throwaway cluster of its own.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

passed=0
failed=0
work=$(mktemp -d /tmp/pgwarden-release.XXXXXX)
chmod 755 "$work"
log=$work/log
own_cluster=""
pgw_pid=""
cleanup() {
  [ -n "$pgw_pid" ] && kill "$pgw_pid" 2>/dev/null
  [ -n "$own_cluster" ] && "$root/scripts/pg-cluster.sh" stop "$work/pg" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

pass() { echo "PASS: $1"; passed=$((passed + 1)); }
fail() {
  echo "FAIL: $1"
  head -n 60 "$log" | sed 's/^/    /'
  failed=$((failed + 1))
}
check() {
  local name=$1; shift
  if "$@" >"$log" 2>&1; then pass "$name"; else fail "$name"; fi
}
finish() {
  echo "release: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit
}

bin=$root/.build/release/pgwarden
if ! scripts/build-release.sh >"$log" 2>&1; then
  fail "scripts/build-release.sh builds the release binary"
  finish
fi
pass "scripts/build-release.sh builds the release binary"

needed() { readelf -d "$bin" | grep NEEDED; }
no_shared_cxx_or_swift() {
  needed
  ! needed | grep -qE 'libstdc\+\+|libswift|libFoundation|libdispatch'
}
check "links no shared libstdc++ or Swift runtime library" no_shared_cxx_or_swift
relr() { readelf -d "$bin" | grep -E '\(RELR\)'; }
check "relative relocations are packed (DT_RELR)" relr

# The functions listed in link/pgwarden.order sit at the start of .text: at least 85% of them in
# its first 40% (92% when this was written). Without the ordering, 63-65% of them land there.
hot_code_first() {
  python3 - "$bin" "$root/link/pgwarden.order" <<'PY'
import subprocess, sys
binary, order_file = sys.argv[1], sys.argv[2]
order = {line.strip() for line in open(order_file) if line.strip()}
listed, addresses = [], []
for line in subprocess.run(["nm", "--defined-only", binary], capture_output=True, text=True, check=True).stdout.splitlines():
    fields = line.split()
    if len(fields) == 3 and fields[1] in "tT":
        address = int(fields[0], 16)
        addresses.append(address)
        if fields[2] in order:
            listed.append(address)
if len(listed) < 500:
    sys.exit(f"only {len(listed)} of the listed functions exist: regenerate link/pgwarden.order (scripts/link-order.sh)")
start, end = min(addresses), max(addresses)
front = sum(1 for a in listed if a - start < 0.4 * (end - start)) / len(listed)
print(f"{len(listed)} listed functions, {front:.0%} of them in the first 40% of .text")
sys.exit(0 if front >= 0.85 else "the listed functions are not placed first")
PY
}
check "hot functions first (link/pgwarden.order applied)" hot_code_first

version() { [ "$("$bin" --version)" = "$(sed -n 's/.*current = "\(.*\)".*/\1/p' Sources/PGWarden/Support/Version.swift)" ]; }
check "--version prints the version" version
bad_flag() {
  "$bin" --no-such-flag
  [ $? -eq 2 ]
}
check "a bad flag exits with status 2" bad_flag

if [ -n "${PGWARDEN_TEST_PGPORT:-}" ]; then
  host=${PGWARDEN_TEST_PGHOST:-127.0.0.1}
  port=$PGWARDEN_TEST_PGPORT
else
  if ! port=$(scripts/pg-cluster.sh start "$work/pg" 2>"$log"); then
    fail "a throwaway PostgreSQL starts"
    finish
  fi
  own_cluster=1
  host=127.0.0.1
fi
wport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" --web.listen-address "127.0.0.1:$wport" \
  --dsn "host=$host port=$port user=postgres password=postgres dbname=postgres" >"$work/pgwarden.log" 2>&1 &
pgw_pid=$!
scrape() {
  for _ in $(seq 100); do
    curl -fsS --max-time 5 "http://127.0.0.1:$wport/metrics" >"$work/metrics" 2>/dev/null && break
    sleep 0.1
  done
  grep -x 'pg_up 1' "$work/metrics" && grep -E '^pg_max_connections [0-9]+' "$work/metrics"
}
check "serves /metrics with pg_up 1 from a real PostgreSQL" scrape
graceful() {
  kill -TERM "$pgw_pid"
  wait "$pgw_pid"
  local status=$?
  pgw_pid=""
  cat "$work/pgwarden.log"
  [ "$status" -eq 0 ] && grep -q 'shutting down' "$work/pgwarden.log"
}
check "SIGTERM shuts it down with status 0" graceful
finish
