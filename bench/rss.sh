#!/usr/bin/env bash
# Peak resident memory (VmHWM) of pgwarden serving /metrics against PostgreSQL holding N sessions,
# exporter only and with the webhook enabled (Alertmanager POSTs), next to Debian's
# prometheus-postgres-exporter under the same scrapes (the bar: pgwarden no higher than it).
#   bench/rss.sh [BIN ...]        throwaway cluster + holder, measure each binary and
#                                 postgres_exporter, tear down (no BIN: build
#                                 .build/release/pgwarden with release/build.sh)
#   bench/rss.sh setup            start the cluster + holder and keep them (state in $RSS_WORK)
#   bench/rss.sh measure BIN ...  measure against the kept cluster (compare builds quickly);
#                                 the name postgres_exporter stands for Debian's exporter
#   bench/rss.sh teardown         stop the kept cluster + holder
# Each run: start a fresh copy of the binary, SCRAPES scrapes in rounds of PAR concurrent curls
# (webhook mode: plus POSTS notifications, alternately one no rule matches and one the example
# policy's first rule matches), then read VmHWM from /proc/PID/status. The webhook runs use
# examples/pgwarden.yml turned dry-run, so the held sessions are listed and planned but never
# signalled. postgres_exporter (default configuration, no webhook) gets the same scrapes.
# Environment: N (2000), SCRAPES (100), PAR (4), POSTS (10), REPEAT (3 rounds; each round runs
#   every binary once per mode; the table shows each run and, in bold, the maximum), RSS_WORK
#   (/tmp/pgwarden-rss), SMAPS=1 (also print the per-mapping Rss, and how much of it is
#   anonymous, at the end of each run), DSN_EXTRA (appended to pgwarden's DSN), RUN_ENV
#   ("VAR=value ..." for pgwarden, e.g. MALLOC_ARENA_MAX=8), EXTRA_ARGS (more pgwarden arguments).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
N=${N:-2000}
SCRAPES=${SCRAPES:-100}
PAR=${PAR:-4}
POSTS=${POSTS:-10}
REPEAT=${REPEAT:-3}
work=${RSS_WORK:-/tmp/pgwarden-rss}

stop_pid() {
  local pid=$1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

setup() {
  "$root/scripts/deps.sh" bench
  local bindir psql
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  psql=$bindir/psql
  [ -x "$psql" ] || { echo "rss.sh: no PostgreSQL found; run scripts/deps.sh bench" >&2; exit 1; }
  mkdir -p "$work"; chmod 755 "$work"
  cc -O2 -o "$work/holder" "$here/holder.c" -I"$(pg_config --includedir)" -L"$(pg_config --libdir)" -lpq
  local port sock
  port=$("$root/scripts/pg-cluster.sh" start "$work/pg" 0 "max_connections = $((N + 200))")
  sock=$work/pg/socket
  local sql=("$psql" -X -h "$sock" -p "$port" -U postgres -d postgres -qAt)
  "${sql[@]}" -c "CREATE DATABASE benchapp" >/dev/null 2>&1 || true
  for r in 1 2 3 4; do "${sql[@]}" -c "CREATE ROLE bench_app$r LOGIN" >/dev/null 2>&1 || true; done
  "$work/holder" "host=$sock port=$port" "$N" 86400 >"$work/holder.out" 2>"$work/holder.err" &
  echo $! >"$work/holder.pid"
  for _ in $(seq 1200); do
    grep -q '^ready' "$work/holder.out" 2>/dev/null && break
    kill -0 "$(cat "$work/holder.pid")" 2>/dev/null || { cat "$work/holder.err" >&2; exit 1; }
    sleep 0.25
  done
  grep -q '^ready' "$work/holder.out" || { echo "rss.sh: holder not ready" >&2; exit 1; }
  echo "$port" >"$work/port"
  sed -E 's/^dry_run: false/dry_run: true/' "$root/examples/pgwarden.yml" >"$work/policy.yml"
  grep -q '^dry_run: true' "$work/policy.yml" || { echo "rss.sh: cannot make examples/pgwarden.yml dry-run" >&2; exit 1; }
  # Alertmanager payloads: one no rule matches, one the example policy's first rule matches.
  cat >"$work/nothing.json" <<'J'
{"version":"4","status":"firing","receiver":"x","groupKey":"k","truncatedAlerts":0,"groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://x","alerts":[{"status":"firing","labels":{"alertname":"Nothing"},"annotations":{},"startsAt":"2026-01-01T00:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"","fingerprint":"abc"}]}
J
  cat >"$work/match.json" <<'J'
{"version":"4","status":"firing","receiver":"x","groupKey":"k","truncatedAlerts":0,"groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://x","alerts":[{"status":"firing","labels":{"alertname":"PostgresIdleInTransactionTooLong","pgwarden":"remediate"},"annotations":{},"startsAt":"2026-01-01T00:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"","fingerprint":"abd"}]}
J
  echo "rss.sh: cluster on port $port, $(cat "$work/holder.out")" >&2
}

teardown() {
  [ -f "$work/pgwarden.pid" ] && stop_pid "$(cat "$work/pgwarden.pid")"
  [ -f "$work/holder.pid" ] && stop_pid "$(cat "$work/holder.pid")"
  "$root/scripts/pg-cluster.sh" stop "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}

smaps_summary() {  # per mapping (file + permissions): Rss and its anonymous part in kB, largest first
  awk '/^[0-9a-f]+-[0-9a-f]+ /{name=($6==""?"[anon]":$6); n=split(name,p,"/"); k=p[n]" "$2; next}
       /^Rss:/{rss[k]+=$2} /^Anonymous:/{anon[k]+=$2}
       END{for (k in rss) if (rss[k] >= 32) printf "%6d kB (anon %5d)  %s\n", rss[k], anon[k], k}' "/proc/$1/smaps" | sort -rn
}

run_once() {  # run_once BIN|postgres_exporter MODE(exporter|webhook) -> prints VmHWM kB
  local bin=$1 mode=$2 port wport pid args=() health=/healthz
  port=$(cat "$work/port")
  wport=$(free_port)
  [ "$mode" = webhook ] && args=(--config.file "$work/policy.yml" --webhook.allow-unauthenticated)
  if [ "$bin" = postgres_exporter ]; then
    # Debian's exporter in its default configuration, connected as bench/run.sh connects it.
    DATA_SOURCE_NAME="postgresql://postgres:postgres@127.0.0.1:$port/postgres?sslmode=disable" \
      prometheus-postgres-exporter --web.listen-address "127.0.0.1:$wport" >"$work/pgwarden.log" 2>&1 &
    health=/metrics
  else
    # shellcheck disable=SC2086
    env ${RUN_ENV:-} "$bin" --web.listen-address "127.0.0.1:$wport" \
      --dsn "host=127.0.0.1 port=$port user=postgres password=postgres dbname=postgres sslmode=disable gssencmode=disable${DSN_EXTRA:+ $DSN_EXTRA}" \
      "${args[@]}" ${EXTRA_ARGS:-} >"$work/pgwarden.log" 2>&1 &
  fi
  pid=$!
  echo "$pid" >"$work/pgwarden.pid"  # teardown stops it should this run fail half-way
  for _ in $(seq 100); do
    curl -fsS -o /dev/null --max-time 5 "http://127.0.0.1:$wport$health" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/pgwarden.log" >&2; exit 1; }
    sleep 0.1
  done
  local url=http://127.0.0.1:$wport/metrics hook=http://127.0.0.1:$wport/webhook i j posted=0
  local lines
  lines=$(curl -fsS --max-time 60 "$url" | grep -c '^pg_' || true)
  [ "$lines" -gt 0 ] || { echo "rss.sh: empty scrape" >&2; cat "$work/pgwarden.log" >&2; exit 1; }
  local kids k f
  for ((i = 1; i < SCRAPES; i += PAR)); do
    kids=()
    for ((j = 0; j < PAR; j++)); do curl -fsS -o /dev/null --max-time 60 "$url" & kids+=($!); done
    if [ "$mode" = webhook ] && [ "$posted" -lt "$POSTS" ]; then
      f=$work/nothing.json; [ $((posted % 2)) = 1 ] && f=$work/match.json
      curl -fsS -o /dev/null --max-time 60 -H 'Content-Type: application/json' --data-binary @"$f" "$hook" &
      posted=$((posted + 1))
      kids+=($!)
    fi
    for k in "${kids[@]}"; do wait "$k" || { echo "rss.sh: a request failed" >&2; cat "$work/pgwarden.log" >&2; exit 1; }; done
  done
  kill -0 "$pid" 2>/dev/null || { echo "rss.sh: pgwarden exited" >&2; cat "$work/pgwarden.log" >&2; exit 1; }
  grep VmHWM "/proc/$pid/status" | awk '{print $2}'
  if [ "${SMAPS:-0}" = 1 ]; then
    { echo "--- $mode: $(grep -E 'VmHWM|VmRSS|Threads' "/proc/$pid/status" | tr -s ' \t' ' ' | tr '\n' ' ')"
      smaps_summary "$pid" | head -n "${SMAPS_LINES:-30}"; } >&2
  fi
  stop_pid "$pid"; wait "$pid" 2>/dev/null || true
}

measure() {
  [ -f "$work/port" ] || { echo "rss.sh: no cluster; run bench/rss.sh setup" >&2; exit 1; }
  local i r m mode v k n=$#
  local -a bins=("$@") modes=(exporter webhook) runs=() max=()
  # Rounds: each round runs every binary once in each mode, so load from elsewhere on the
  # machine spreads over all of them.
  for ((r = 0; r < REPEAT; r++)); do
    for ((i = 0; i < n; i++)); do
      for m in 0 1; do
        mode=${modes[m]} k=$((i * 2 + m))
        [ "${bins[i]}" = postgres_exporter ] && [ "$mode" = webhook ] && continue  # it has no webhook
        if [ "${bins[i]}" = postgres_exporter ]; then
          v=$(run_once postgres_exporter "$mode")
        else
          # Every run starts a fresh copy: how a file came into the page cache (written by the
          # linker through mmap, copied, read back from disk) changes how many of its pages each
          # fault maps, by up to ~0.5 MB; a copy is how an installed binary starts out.
          rm -f "$work/pgwarden.bin"; cp "${bins[i]}" "$work/pgwarden.bin"
          v=$(run_once "$work/pgwarden.bin" "$mode")
        fi
        runs[k]+="$(awk "BEGIN{printf \"%.1f\", $v/1024}") "
        [ "$v" -gt "${max[k]:-0}" ] && max[k]=$v
      done
    done
  done
  echo "| binary | size MB | exporter VmHWM MB (runs) | webhook VmHWM MB (runs) |"
  echo "|---|---:|---|---|"
  local bin file name cell
  for ((i = 0; i < n; i++)); do
    bin=${bins[i]} file=$bin name=$bin
    if [ "$bin" = postgres_exporter ]; then
      file=$(command -v prometheus-postgres-exporter)
      name="postgres_exporter $(prometheus-postgres-exporter --version 2>&1 | awk 'NR==1{print $3}')"
    fi
    local row="| $name | $(awk "BEGIN{printf \"%.1f\", $(stat -c %s "$file")/1048576}") |"
    for m in 0 1; do
      k=$((i * 2 + m))
      if [ -z "${runs[k]:-}" ]; then cell=" – |"; else
        cell=" **$(awk "BEGIN{printf \"%.1f\", ${max[k]}/1024}")** (${runs[k]% }) |"
      fi
      row+=$cell
    done
    echo "$row"
  done
}

case "${1:-}" in
  setup) setup ;;
  teardown) teardown ;;
  measure) shift; measure "$@" ;;
  *)
    if [ $# -eq 0 ]; then
      "$root/release/build.sh" >&2
      set -- "$root/.build/release/pgwarden"
    fi
    trap teardown EXIT
    setup; measure "$@" postgres_exporter ;;
esac
