#!/usr/bin/env bash
# pgwarden vs Debian's prometheus-postgres-exporter (default configuration) vs the bare
# pg_stat_activity query, against one throwaway cluster holding N sessions in a mix of states.
#   bench/run.sh [N ...]          (default: 100 1000 2000)
# Environment: SCRAPES (default 300, at least 200), ROUNDS (3: the scrapes are split into rounds
#   that alternate the tools), WARMUP (10), STMT_RUNS (100),
#   PGWARDEN_BIN (skip the release build and use this binary), BENCH_OUT (result files,
#   default bench/results), KEEP_WORK=1 (keep the cluster directory for inspection).
# Prints a markdown table; also writes it, the per-statement times and EXPLAIN ANALYZE of
# pgwarden's statements at the largest N to $BENCH_OUT. Traffic stays on 127.0.0.1 and a Unix socket.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100 1000 2000)
for n in "${sizes[@]}"; do
  [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 20 ] || { echo "run.sh: N must be an integer >= 20 (got '$n')" >&2; exit 2; }
done
SCRAPES=${SCRAPES:-300}
WARMUP=${WARMUP:-10}
ROUNDS=${ROUNDS:-3}
STMT_RUNS=${STMT_RUNS:-100}
[ "$SCRAPES" -ge 200 ] || { echo "run.sh: SCRAPES must be at least 200" >&2; exit 2; }
out=${BENCH_OUT:-$here/results}
mkdir -p "$out"
rm -f "$out/statements.txt" "$out/explain.txt"
started=$(date +%s)
load_start=$(cut -d' ' -f1 /proc/loadavg)
log() { echo "[bench $(($(date +%s) - started))s] $*" >&2; }

"$root/scripts/deps.sh" bench
command -v prometheus-postgres-exporter >/dev/null || { echo "run.sh: prometheus-postgres-exporter missing" >&2; exit 1; }
bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
psql=$bindir/psql

if [ -n "${PGWARDEN_BIN:-}" ]; then
  pgwarden=$PGWARDEN_BIN
else
  log "building pgwarden (release)"
  "$root/release/build.sh" >&2
  pgwarden=$root/.build/release/pgwarden
fi
[ -x "$pgwarden" ] || { echo "run.sh: no pgwarden binary at $pgwarden" >&2; exit 1; }

# ---- work directory, cleanup -------------------------------------------------------------
work=$(mktemp -d /tmp/pgwarden-bench.XXXXXX)
chmod 755 "$work"
pgdir=$work/pg
holder_pid="" warden_pid="" exporter_pid=""
stop_pid() {  # stop_pid PID: TERM, then KILL after 5 s
  local pid=$1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_pid "$warden_pid"; stop_pid "$exporter_pid"; stop_pid "$holder_pid"
  wait 2>/dev/null || true
  "$root/scripts/pg-cluster.sh" stop "$pgdir" >/dev/null 2>&1 || true
  if [ "${KEEP_WORK:-0}" = 1 ]; then echo "run.sh: work directory kept: $work" >&2; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ---- holder, cluster --------------------------------------------------------------------
log "compiling bench/holder.c"
cc -O2 -Wall -o "$work/holder" "$here/holder.c" -I"$(pg_config --includedir)" -L"$(pg_config --libdir)" -lpq

max_n=0
for n in "${sizes[@]}"; do [ "$n" -gt "$max_n" ] && max_n=$n; done
log "starting PostgreSQL (max_connections = $((max_n + 100)))"
port=$("$root/scripts/pg-cluster.sh" start "$pgdir" 0 "max_connections = $((max_n + 100))")
pm_pid=$(head -n 1 "$pgdir/data/postmaster.pid")
sock=$pgdir/socket
sql() { "$psql" -X -h "$sock" -p "$port" -U postgres -d postgres -qAt -v ON_ERROR_STOP=1 "$@"; }
tcp_psql=(env PGPASSWORD=postgres "$psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres)
sql -c "CREATE DATABASE benchapp" >/dev/null
for r in 1 2 3 4; do sql -c "CREATE ROLE bench_app$r LOGIN" >/dev/null; done
server_version=$(sql -c "SHOW server_version")
# Both exporters connect the same way: without TLS or GSSAPI (the throwaway server has neither;
# libpq's default "prefer" would try both and load their code, which postgres_exporter never does).
dsn_kv="host=127.0.0.1 port=$port user=postgres password=postgres dbname=postgres sslmode=disable gssencmode=disable"
dsn_url="postgresql://postgres:postgres@127.0.0.1:$port/postgres?sslmode=disable"

wait_http() {  # wait_http URL PID NAME
  for _ in $(seq 300); do
    kill -0 "$2" 2>/dev/null || { echo "run.sh: $3 exited; its log:" >&2; cat "$work/$3.log" >&2; exit 1; }
    curl -fsS -o /dev/null --max-time 10 "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "run.sh: $3 did not answer on $1" >&2; exit 1
}

start_exporters() {
  local wport eport
  wport=$(free_port)
  "$pgwarden" --web.listen-address "127.0.0.1:$wport" --dsn "$dsn_kv" --web.telemetry-path /metrics \
    >"$work/pgwarden.log" 2>&1 &
  warden_pid=$!
  warden_url="http://127.0.0.1:$wport/metrics"
  eport=$(free_port)
  DATA_SOURCE_NAME=$dsn_url prometheus-postgres-exporter --web.listen-address "127.0.0.1:$eport" \
    >"$work/postgres_exporter.log" 2>&1 &
  exporter_pid=$!
  exporter_url="http://127.0.0.1:$eport/metrics"
  wait_http "$warden_url" "$warden_pid" pgwarden
  wait_http "$exporter_url" "$exporter_pid" postgres_exporter
}
stop_exporters() { stop_pid "$warden_pid"; stop_pid "$exporter_pid"; warden_pid="" exporter_pid=""; }

# pgwarden's SQL as the server received it (one scrape with log_min_duration_statement = 0).
capture_pgwarden_sql() {
  sql -c "ALTER SYSTEM SET log_min_duration_statement = 0" -c "ALTER SYSTEM SET log_line_prefix = '%m [%p] %a '" \
    -c "SELECT pg_reload_conf()" >/dev/null
  sleep 0.5
  curl -fsS -o /dev/null --max-time 30 "$warden_url"
  sleep 0.5
  sql -c "ALTER SYSTEM RESET log_min_duration_statement" -c "ALTER SYSTEM RESET log_line_prefix" \
    -c "SELECT pg_reload_conf()" >/dev/null
  python3 "$here/measure.py" extract-sql "$pgdir/server.log" >"$out/pgwarden.sql"
  # One file per statement (Scraper joins them with ";\n").
  python3 - "$out/pgwarden.sql" "$work" <<'EOF'
import sys
sql = open(sys.argv[1]).read().strip().rstrip(";")
for i, s in enumerate(x.strip() for x in sql.split(";\n")):
    open(f"{sys.argv[2]}/stmt{i + 1}.sql", "w").write(s + "\n")
print(i + 1)
EOF
}

row() {  # row N TOOL JSON
  python3 - "$1" "$2" "$3" <<'EOF'
import json, sys
n, tool, d = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
f = lambda k, fmt: (fmt % d[k]) if k in d else "–"
print(f"| {n} | {tool} | {d['count']} | {d['median_ms']:.2f} | {d['p99_ms']:.2f} | "
      f"{f('cpu_ms_per_scrape', '%.2f')} | {f('server_cpu_ms_per_scrape', '%.2f')} | "
      f"{f('peak_rss_mb', '%.1f')} | {('%.1f' % (d['body_bytes'] / 1024)) if 'body_bytes' in d else '–'} |")
EOF
}

table=$work/table.md
ratios=$work/ratios.json
echo "{}" >"$ratios"
{
  echo "| N | tool | runs | median ms | p99 ms | CPU ms/scrape | server CPU ms/scrape | peak RSS MB | body KB |"
  echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|"
} >"$table"
have_sql=0
declare -A load

for n in "${sizes[@]}"; do
  log "N=$n: opening sessions"
  "$work/holder" "host=$sock port=$port" "$n" 3600 >"$work/holder.out" 2>"$work/holder.err" &
  holder_pid=$!
  wait_holder run.sh "$work/holder.out" "$work/holder.err" "$holder_pid" 1500
  log "N=$n: $(cat "$work/holder.out")"
  # The waiters and sleepers were sent asynchronously: wait until the server shows them all.
  waiters=$(sed -n 's/.*lock waiters \([0-9]*\).*/\1/p' "$work/holder.out")
  for _ in $(seq 120); do
    got=$(sql -c "SELECT count(*) FILTER (WHERE wait_event_type = 'Lock') || ' ' || count(*) FROM pg_stat_activity WHERE application_name = 'bench_holder'")
    [ "$got" = "$waiters $n" ] && break
    sleep 0.25
  done
  [ "$got" = "$waiters $n" ] || { echo "run.sh: expected '$waiters $n' (lock waiters, sessions), got '$got'" >&2; exit 1; }
  echo "N=$n sessions by state (client backends, all databases):" >&2
  sql -F ' | ' -c "SELECT coalesce(state, '-'), coalesce(wait_event_type, '-'), count(*) FROM pg_stat_activity
                   WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() GROUP BY 1, 2 ORDER BY 3 DESC" |
    sed 's/^/    /' >&2

  start_exporters
  if [ "$have_sql" = 0 ]; then
    nstmt=$(capture_pgwarden_sql)
    have_sql=1
    log "captured pgwarden's SQL: $nstmt statements ($out/pgwarden.sql)"
  fi
  python3 "$here/measure.py" http "$warden_url" "$WARMUP" "$warden_pid" "$pm_pid" >/dev/null
  python3 "$here/measure.py" http "$exporter_url" "$WARMUP" "$exporter_pid" "$pm_pid" >/dev/null
  echo "SELECT * FROM pg_stat_activity;" >"$work/bare.sql"
  load["$n"]=$(cut -d' ' -f1 /proc/loadavg)
  # Rounds alternate the four measurements so that a change in the machine's load (2 shared
  # cores) spreads over all of them instead of landing on one.
  rm -f "$work"/r-*.jsonl
  per=$(( (SCRAPES + ROUNDS - 1) / ROUNDS ))
  for round in $(seq "$ROUNDS"); do
    log "N=$n: round $round/$ROUNDS: $per scrapes of pgwarden, of postgres_exporter, $per bare queries of each kind"
    timeout 900 python3 "$here/measure.py" http "$warden_url" "$per" "$warden_pid" "$pm_pid" >>"$work/r-w.jsonl"
    timeout 900 python3 "$here/measure.py" http "$exporter_url" "$per" "$exporter_pid" "$pm_pid" >>"$work/r-e.jsonl"
    timeout 900 python3 "$here/measure.py" psql "$per" "$pm_pid" "$work/bare.sql" -- "${tcp_psql[@]}" >>"$work/r-b.jsonl"
    timeout 900 python3 "$here/measure.py" psql "$per" "$pm_pid" "$out/pgwarden.sql" -- "${tcp_psql[@]}" >>"$work/r-p.jsonl"
  done
  stop_exporters
  w=$(python3 "$here/measure.py" merge "$work/r-w.jsonl")
  e=$(python3 "$here/measure.py" merge "$work/r-e.jsonl")
  b=$(python3 "$here/measure.py" merge "$work/r-b.jsonl")
  p=$(python3 "$here/measure.py" merge "$work/r-p.jsonl")
  for j in "$w" "$e"; do
    [ "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["pg_up"])' "$j")" = 1 ] ||
      { echo "run.sh: a scrape reported pg_up != 1: $j" >&2; exit 1; }
  done
  {
    row "$n" "pgwarden" "$w"
    row "$n" "postgres_exporter $(prometheus-postgres-exporter --version 2>&1 | awk 'NR==1{print $3}')" "$e"
    row "$n" "bare \`SELECT * FROM pg_stat_activity\` (psql)" "$b"
    row "$n" "pgwarden's SQL bare, one message (psql)" "$p"
  } >>"$table"
  python3 - "$ratios" "$n" "$w" "$e" "$b" "$p" <<'EOF'
import json, sys
path, n = sys.argv[1], sys.argv[2]
w, e, b, p = (json.loads(x) for x in sys.argv[3:7])
r = json.load(open(path))
r[n] = {"w": w["median_ms"], "e": e["median_ms"], "b": b["median_ms"], "p": p["median_ms"], "rss": w["peak_rss_mb"],
        "rss_e": e["peak_rss_mb"]}
json.dump(r, open(path, "w"))
EOF

  if [ "$n" = "$max_n" ]; then
    log "N=$n: per-statement times and EXPLAIN ANALYZE of pgwarden's statements"
    {
      echo "pgwarden statements at N=$n sessions (PostgreSQL $server_version): median of $STMT_RUNS runs each over one psql session"
      echo
    } >"$out/statements.txt"
    : >"$out/explain.txt"
    for f in "$work"/stmt*.sql; do
      i=$(basename "$f" .sql)
      s=$(timeout 600 python3 "$here/measure.py" psql "$STMT_RUNS" "$pm_pid" "$f" -- "${tcp_psql[@]}" >"$work/s.jsonl" &&
          python3 "$here/measure.py" merge "$work/s.jsonl")
      ms=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print("%.2f ms (p99 %.2f)" % (d["median_ms"], d["p99_ms"]))' "$s")
      printf '%s  %-22s %s\n' "$i" "$ms" "$(tr -d '\t' <"$f" | head -c 90 | tr '\n' ' ')..." >>"$out/statements.txt"
      {
        echo "==== $i: $(cat "$f")"
        "${tcp_psql[@]}" -X -qAt -c "EXPLAIN (ANALYZE, COSTS OFF) $(cat "$f")"
        echo
      } >>"$out/explain.txt"
    done
  fi

  stop_pid "$holder_pid"; holder_pid=""
  # Backends in pg_sleep or lock waits do not notice the closed socket at once: end them.
  sql -c "SET client_min_messages = error" -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'bench_holder'" >/dev/null
  for _ in $(seq 120); do
    [ "$(sql -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'bench_holder'")" = 0 ] && break
    sleep 0.25
  done
done

elapsed=$(($(date +%s) - started))
{
  echo "pgwarden vs prometheus-postgres-exporter (default configuration), PostgreSQL $server_version, $(nproc) cores;"
  echo "$SCRAPES sequential runs per row (\"runs\") after $WARMUP warm-up scrapes; sessions: 60% idle, 20% idle in transaction,"
  echo "10% active, 5% idle in transaction (aborted), 5% lock holders/waiters; $ROUNDS rounds alternating the tools."
  printf 'Load average (1 min) at start: %s; before the scrapes:' "${load_start%% *}"
  for n in "${sizes[@]}"; do printf ' N=%s: %s' "$n" "${load[$n]}"; done
  echo "."
  echo
  cat "$table"
  echo
  echo "CPU ms/scrape: user+system CPU of the exporter process (all threads); server CPU: all PostgreSQL"
  echo "processes over the same runs; peak RSS: the exporter's VmHWM; psql times exclude its start-up."
  echo
  python3 - "$ratios" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
for n in sorted(r, key=int):
    d = r[n]
    target = n == "2000"
    def check(ok):
        return (" PASS" if ok else " MISS") if target else ""
    a, b, c = d["w"] / d["e"], d["w"] / d["b"], d["w"] / d["p"]
    print(f"- N={n}: pgwarden median / postgres_exporter median = {a:.2f}"
          + (" (target <= 0.6)" + check(a <= 0.6) if target else ""))
    print(f"- N={n}: pgwarden median / bare query median = {b:.2f}"
          + (" (target <= 1.5)" + check(b <= 1.5) if target else ""))
    print(f"- N={n}: pgwarden median / its own SQL bare = {c:.2f}")
    print(f"- N={n}: pgwarden peak RSS = {d['rss']:.1f} MB, postgres_exporter's {d['rss_e']:.1f} MB"
          + (" (target: no higher)" + check(d["rss"] <= d["rss_e"]) if target else ""))
EOF
  echo
  echo "Total run time: ${elapsed} s."
} | tee "$out/table.md"
[ -f "$out/statements.txt" ] && { echo; cat "$out/statements.txt"; }
echo
echo "Files: $out/table.md, $out/statements.txt, $out/explain.txt, $out/pgwarden.sql"
