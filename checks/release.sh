#!/usr/bin/env bash
# Checks the release binary as `make release` builds and installs it (release/build.sh, a plain
# `swift build -c release` with the tuning in Package.swift):
# that the link recipe took (no shared libstdc++ or Swift libraries, packed relocations), and that the binary runs: --version, a bad flag, a scrape of a real PostgreSQL, SIGTERM.
# Memory itself is measured by bench/rss.sh, not here.
# Run by `make test` (scripts/test.sh), which exports PGWARDEN_TEST_PGHOST/PGPORT for its cluster;
# run alone (bash checks/release.sh) it starts a throwaway cluster of its own.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

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

check_name=release
# shellcheck source=checks/lib/harness.sh
source "$root/checks/lib/harness.sh"

bin=$root/.build/release/pgwarden
if ! release/build.sh >"$log" 2>&1; then
  fail "release/build.sh builds the release binary"
  finish
fi
pass "release/build.sh builds the release binary"

no_shared_cxx_or_swift() {
  local dynamic
  dynamic=$(readelf -d "$bin") || return 1
  grep NEEDED <<<"$dynamic"
  grep -q NEEDED <<<"$dynamic" && ! grep -qE 'libstdc\+\+|libswift|libFoundation|libdispatch' <<<"$dynamic"
}
check "links no shared libstdc++ or Swift runtime library" no_shared_cxx_or_swift
relr() {
  local dynamic
  dynamic=$(readelf -d "$bin") || return 2
  grep -E '\(RELR\)' <<<"$dynamic"
}
glibc=$(getconf GNU_LIBC_VERSION | awk '{print $2}')
if [ "$(printf '%s\n2.36\n' "$glibc" | sort -V | head -n 1)" = 2.36 ]; then
  check "relative relocations are packed (DT_RELR)" relr
else
  not_relr() { relr; [ $? -eq 1 ]; }
  check "relative relocations are not packed with glibc $glibc < 2.36" not_relr
fi

version() {
  local text
  text=$("$bin" --version) || return 1
  echo "$text"
  grep -qF "pgwarden, version $(sed -n 's/.*current = "\(.*\)".*/\1/p' Sources/PGWarden/Version.swift) (branch: " <<<"$text" &&
    grep -qE "revision: [0-9a-f]{12}(-dirty)?\)" <<<"$text" && grep -q "build user: " <<<"$text" && ! grep -q unknown <<<"$text"
}
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
  fetch_metrics "http://127.0.0.1:$wport/metrics" "$work/metrics" || true
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
