#!/usr/bin/env bash
# Webhook latency: time from request to response for one Alertmanager notification whose alert
# makes pgwarden terminate N sessions (issue target: median <= 50 ms at N = 100), next to the
# bare pg_terminate_backend statement on the same N sessions.
#   bench/webhook.sh [N] [runs]        (defaults: N = 100, runs = 20)
# Environment: WARMUP (2 unrecorded runs of each kind first), TARGET_MS (50), DIAG (1: after the
#   runs, one more request with log_min_duration_statement = 0 to show where the time goes),
#   PGWARDEN_BIN (skip the release build and use this binary), BENCH_OUT (result files, default
#   bench/results), KEEP_WORK=1 (keep the work directory).
# Traffic stays on 127.0.0.1 and a Unix socket; the cluster and every process started here are
# stopped on exit.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
N=${1:-100}
RUNS=${2:-20}
WARMUP=${WARMUP:-2}
TARGET_MS=${TARGET_MS:-50}
DIAG=${DIAG:-1}
for v in "$N" "$RUNS" "$WARMUP"; do
  [[ "$v" =~ ^[0-9]+$ ]] || { echo "usage: bench/webhook.sh [N] [runs] (whole numbers)" >&2; exit 2; }
done
[ "$N" -ge 1 ] && [ "$N" -le 5000 ] || { echo "webhook.sh: N must be between 1 and 5000" >&2; exit 2; }
[ "$RUNS" -ge 1 ] || { echo "webhook.sh: runs must be at least 1" >&2; exit 2; }
out=${BENCH_OUT:-$here/results}
mkdir -p "$out"
started=$(date +%s)
load_start=$(cut -d' ' -f1 /proc/loadavg)
log() { echo "[webhook-bench $(($(date +%s) - started))s] $*" >&2; }

for cmd in curl python3 cc pg_config; do
  command -v "$cmd" >/dev/null || { echo "webhook.sh: $cmd missing (scripts/deps.sh bench installs what is needed)" >&2; exit 1; }
done
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bindir/psql" ] || { echo "webhook.sh: no PostgreSQL found; run scripts/deps.sh bench" >&2; exit 1; }
psql=$bindir/psql

if [ -n "${PGWARDEN_BIN:-}" ]; then
  pgwarden=$PGWARDEN_BIN
else
  log "building pgwarden (release)"
  timeout 1800 "$root/release/build.sh" >&2
  pgwarden=$root/.build/release/pgwarden
fi
[ -x "$pgwarden" ] || { echo "webhook.sh: no pgwarden binary at $pgwarden" >&2; exit 1; }

# ---- work directory, cleanup -------------------------------------------------------------
work=$(mktemp -d /tmp/pgwarden-webhook-bench.XXXXXX)
chmod 755 "$work"
pgdir=$work/pg
holder_pid="" warden_pid=""
stop_pid() {  # stop_pid PID: TERM, then KILL after 5 s
  local pid=$1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_pid "$warden_pid"; stop_pid "$holder_pid"
  "$root/scripts/pg-cluster.sh" stop "$pgdir" >/dev/null 2>&1 || true
  cgroups_remove
  if [ "${KEEP_WORK:-0}" = 1 ]; then echo "webhook.sh: work directory kept: $work" >&2; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# cpu cgroups for the "own cgroups" rows: PostgreSQL's processes in one, pgwarden in another,
# which is where systemd puts two services once the cpu controller is on for their slice (any
# unit with CPUWeight= turns it on). Root only; cgroup v1 (a mounted cpu hierarchy) or v2 with
# cpu already on in the root's cgroup.subtree_control. cg_base is empty when neither is usable.
cg_base="" cg_top="" pg_cgroup="" warden_cgroup=""
cg_skip="they need root and a cpu controller (a cgroup v1 cpu hierarchy, or v2 with cpu in the root's cgroup.subtree_control)"
cgroups_setup() {
  [ "$(id -u)" -eq 0 ] || return 0
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    # v2: only where the host already has the cpu controller on below the root. Turning it on
    # would change how every other row is scheduled (and the host after the run).
    grep -qw cpu /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || return 0
    cg_base=/sys/fs/cgroup
  elif [ -w /sys/fs/cgroup/cpu/cgroup.procs ]; then
    cg_base=/sys/fs/cgroup/cpu
  else
    return 0
  fi
  cg_top=$cg_base/pgwarden-bench-$$
  if mkdir "$cg_top" &&
     { [ "$cg_base" != /sys/fs/cgroup ] || echo +cpu >"$cg_top/cgroup.subtree_control"; } &&
     mkdir "$cg_top/postgres" "$cg_top/pgwarden"; then
    return 0
  fi
  cgroups_remove; cg_base="" cg_top=""
}
cgroup_of() {  # cgroup_of PID: its cpu cgroup path (v1 "N:...cpu...:/path", v2 "0::/path")
  if [ "$cg_base" = /sys/fs/cgroup ]; then sed -n 's/^0:://p' "/proc/$1/cgroup"
  else awk -F: '$2 ~ /(^|,)cpu(,|$)/ {print $3}' "/proc/$1/cgroup"; fi
}
cgroup_move() {  # cgroup_move DIR PID...: whole processes into the cgroup directory DIR
  local dir=$1 p; shift
  for p in "$@"; do echo "$p" >"$dir/cgroup.procs" 2>/dev/null || true; done
}
cgroups_remove() {  # whatever is still in the bench's cgroups goes back where it came from
  [ -n "$cg_top" ] && [ -d "$cg_top" ] || return 0
  local d p back
  for d in "$cg_top/postgres" "$cg_top/pgwarden"; do
    [ -d "$d" ] || continue
    back=$pg_cgroup; [ "$d" = "$cg_top/pgwarden" ] && back=$warden_cgroup
    for p in $(cat "$d/cgroup.procs" 2>/dev/null); do echo "$p" >"$cg_base$back/cgroup.procs" 2>/dev/null || true; done
    rmdir "$d" 2>/dev/null || true
  done
  rmdir "$cg_top" 2>/dev/null || true
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ---- holder, cluster, role ----------------------------------------------------------------
log "compiling bench/webhook_holder.c"
cc -O2 -Wall -o "$work/holder" "$here/webhook_holder.c" -I"$(pg_config --includedir)" -L"$(pg_config --libdir)" -lpq

log "starting PostgreSQL (max_connections = $((N + 100)))"
port=$("$root/scripts/pg-cluster.sh" start "$pgdir" 0 "max_connections = $((N + 100))")
sock=$pgdir/socket
export PGCONNECT_TIMEOUT=10
sql() { timeout 60 "$psql" -X -h "$sock" -p "$port" -U postgres -d postgres -qAt -v ON_ERROR_STOP=1 "$@"; }
tcp_psql=(timeout 60 env PGPASSWORD=postgres "$psql" -X -h 127.0.0.1 -p "$port" -U postgres -d postgres -qAt -v ON_ERROR_STOP=1)
sql -c "CREATE ROLE bench_app LOGIN" >/dev/null
server_version=$(sql -c "SHOW server_version")
server_num=$(sql -c "SHOW server_version_num")

# ---- policy, token, pgwarden --------------------------------------------------------------
per_minute=$(( (RUNS + WARMUP + 1) * N * 2 ))
[ "$per_minute" -ge 100000 ] || per_minute=100000
cat >"$work/policy.yml" <<EOF
protected_roles: [postgres]
dry_run: false
rules:
  - name: bench
    match:
      alertname: BenchIdleTx
    action: terminate
    states: ["idle in transaction"]
    roles: [bench_app]
    max_sessions_per_alert: $(( N > 1000 ? N : 1000 ))
    max_sessions_per_minute: $per_minute
  - name: bench-dry
    match:
      alertname: BenchIdleTxDry
    action: terminate
    states: ["idle in transaction"]
    roles: [bench_app]
    max_sessions_per_alert: $(( N > 1000 ? N : 1000 ))
    max_sessions_per_minute: $per_minute
    dry_run: true
EOF
token=$(python3 -c 'import secrets; print(secrets.token_hex(24))')
(umask 077; echo "$token" >"$work/token"; printf 'Authorization: Bearer %s\nContent-Type: application/json\n' "$token" >"$work/headers")
python3 "$here/webhook_measure.py" payload BenchIdleTx "$work/alert.json"
python3 "$here/webhook_measure.py" payload BenchIdleTxDry "$work/alert-dry.json"

wport=$(free_port)
# In a session of its own, as a service manager starts it (so also a scheduling autogroup of its
# own). Without job control a background job is not a process group leader, so setsid execs
# pgwarden in place and $! is pgwarden's pid (checked below).
setsid "$pgwarden" --web.listen-address "127.0.0.1:$wport" \
  --dsn "host=127.0.0.1 port=$port user=postgres password=postgres dbname=postgres" \
  --config.file "$work/policy.yml" --webhook.token-file "$work/token" >"$work/pgwarden.log" 2>&1 &
warden_pid=$!
webhook_url="http://127.0.0.1:$wport/webhook"
for _ in $(seq 300); do
  kill -0 "$warden_pid" 2>/dev/null || { echo "webhook.sh: pgwarden exited; its log:" >&2; cat "$work/pgwarden.log" >&2; exit 1; }
  curl -fsS -o /dev/null --max-time 5 "http://127.0.0.1:$wport/healthz" 2>/dev/null && break
  sleep 0.1
done
curl -fsS -o /dev/null --max-time 5 "http://127.0.0.1:$wport/healthz" ||
  { echo "webhook.sh: pgwarden does not answer on 127.0.0.1:$wport" >&2; cat "$work/pgwarden.log" >&2; exit 1; }
[ "$(readlink "/proc/$warden_pid/exe")" = "$(realpath "$pgwarden")" ] ||
  { echo "webhook.sh: process $warden_pid (\$!) is not $pgwarden; the pinning and cgroup rows need its pid" >&2; exit 1; }
log "pgwarden $("$pgwarden" --version 2>/dev/null | head -n 1) listening on 127.0.0.1:$wport, PostgreSQL $server_version on port $port"

# ---- sessions -------------------------------------------------------------------------------
count_sql="SELECT count(*) FILTER (WHERE state = 'idle in transaction') || ' ' || count(*) FROM pg_stat_activity WHERE usename = 'bench_app'"

open_sessions() {  # N sessions of bench_app idle in transaction, checked in pg_stat_activity
  "$work/holder" "host=$sock port=$port dbname=postgres user=bench_app application_name=bench_webhook" "$N" 300 \
    >"$work/holder.out" 2>"$work/holder.err" &
  holder_pid=$!
  for _ in $(seq 2400); do
    grep -q '^ready' "$work/holder.out" 2>/dev/null && break
    kill -0 "$holder_pid" 2>/dev/null || { echo "webhook.sh: holder failed:" >&2; cat "$work/holder.err" >&2; exit 1; }
    sleep 0.05
  done
  if ! grep -q '^ready' "$work/holder.out"; then
    echo "webhook.sh: holder not ready after 120 s; its last progress line and the server's view:" >&2
    tail -n 1 "$work/holder.err" >&2
    sql -F ' | ' -c "SELECT usename, state, wait_event_type, wait_event, count(*) FROM pg_stat_activity GROUP BY 1, 2, 3, 4" >&2 || true
    tail -n 20 "$pgdir/server.log" >&2 || true
    exit 1
  fi
  local got=""
  for _ in $(seq 200); do
    got=$(sql -c "$count_sql")
    [ "$got" = "$N $N" ] && return 0
    sleep 0.05
  done
  echo "webhook.sh: expected '$N $N' (idle in transaction, all) sessions of bench_app, got '$got'" >&2; exit 1
}

# After an action: how many bench_app sessions pg_stat_activity still showed at once, and 3 s
# later (noted; a failed action leaves some), then end those left and wait (at most 10 s) until
# none is; stop the holder.
close_sessions() {  # close_sessions VARIANT
  local left later got=""
  left=$(sql -c "SELECT count(*) FROM pg_stat_activity WHERE usename = 'bench_app'")
  later=$left
  for _ in $(seq 60); do
    [ "$later" = 0 ] && break
    sleep 0.05
    later=$(sql -c "SELECT count(*) FROM pg_stat_activity WHERE usename = 'bench_app'")
  done
  printf '%s\t%s\t%s\n' "$1" "$left" "$later" >>"$work/left.tsv"
  [ "$later" = 0 ] || sql -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = 'bench_app'" >/dev/null
  for _ in $(seq 200); do
    got=$(sql -c "SELECT count(*) FROM pg_stat_activity WHERE usename = 'bench_app'")
    [ "$got" = 0 ] && break
    sleep 0.05
  done
  [ "$got" = 0 ] || { echo "webhook.sh: $1: $got sessions of bench_app still there after terminating them" >&2; exit 1; }
  stop_pid "$holder_pid"; holder_pid=""
}

# ---- the measured actions (each prints milliseconds) ------------------------------------------
v_warden="pgwarden webhook POST (curl time_total)"
v_dry="pgwarden webhook POST, rule with dry_run: true (lists, plans, signals nothing)"
v_bare="bare \`pg_terminate_backend(pid)\` (psql \\timing)"
v_wait="bare \`pg_terminate_backend(pid, 2000)\` (psql \\timing)"
# The same two with PostgreSQL held on CPU 1 and the client (pgwarden and curl, or psql) on CPU 0:
# what the response time is when the database does not share its CPUs with the caller, as on its
# own host. Terminating N backends makes N processes exit at once; on shared CPUs every process
# that has to answer (the server's, pgwarden, curl) queues behind them.
v_warden_pin="pgwarden webhook POST, PostgreSQL on CPU 1, pgwarden and curl on CPU 0"
v_bare_pin="bare \`pg_terminate_backend(pid)\` (psql \\timing), PostgreSQL on CPU 1, psql on CPU 0"
# The same two with PostgreSQL and pgwarden each in a cpu cgroup of its own: what systemd does
# with two services once either sets CPUWeight=. An exiting process leaves its scheduling
# autogroup (sched_autogroup_exit_task) and competes on its own at the top level, so N backends
# terminated at once crowd out every other group; a cgroup keeps them in PostgreSQL's share.
v_warden_cg="pgwarden webhook POST, PostgreSQL and pgwarden each in a cpu cgroup of its own (systemd services with CPUWeight=)"
v_bare_cg="bare \`pg_terminate_backend(pid)\` (psql \\timing), PostgreSQL in a cpu cgroup of its own"
variants=("$v_warden" "$v_bare")
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then variants+=("$v_warden_pin" "$v_bare_pin"); fi
# The (pid, timeout) form waits up to the timeout for each backend in turn (10 s for 100 here);
# measured on request only.
[ "${WAIT_FORM:-0}" = 1 ] && [ "$server_num" -ge 140000 ] && variants+=("$v_wait")

pm_pid=$(head -n 1 "$pgdir/data/postmaster.pid")
# pin CPUS: the postmaster and every server process on CPUS, pgwarden on the others (or all).
pin() {
  local cpus=$1 rest=$2 p
  for p in "$pm_pid" $(pgrep -P "$pm_pid"); do taskset -a -p -c "$cpus" "$p" >/dev/null 2>&1 || true; done
  taskset -a -p -c "$rest" "$warden_pid" >/dev/null
}
all_cpus="0-$(($(nproc) - 1))"
cgroups_setup
if [ -n "$cg_base" ]; then pg_cgroup=$(cgroup_of "$pm_pid"); warden_cgroup=$(cgroup_of "$warden_pid"); fi
# in_cgroups on|off: the postmaster and every server process into $cg_top/postgres, pgwarden into
# $cg_top/pgwarden; or back where they were.
in_cgroups() {
  if [ "$1" = on ]; then
    cgroup_move "$cg_top/postgres" "$pm_pid" $(pgrep -P "$pm_pid")
    cgroup_move "$cg_top/pgwarden" "$warden_pid"
  else
    cgroup_move "$cg_base$pg_cgroup" "$pm_pid" $(pgrep -P "$pm_pid")
    cgroup_move "$cg_base$warden_cgroup" "$warden_pid"
  fi
}
cg_note="- cgroup rows: PostgreSQL's server processes in $cg_top/postgres, pgwarden in $cg_top/pgwarden, during the request only."
if [ -n "$cg_base" ]; then variants+=("$v_warden_cg" "$v_bare_cg")
else cg_note="- cgroup rows skipped: $cg_skip."; fi

measure() {  # measure VARIANT -> "MS<TAB>ok" or "MS<TAB>fail: WHAT" on stdout
  local res code secs stmt client=() grouped=0
  case "$1" in
    "$v_warden_pin"|"$v_bare_pin") pin 1 0; client=(taskset -c 0) ;;
    "$v_warden_cg"|"$v_bare_cg") in_cgroups on; grouped=1 ;;
  esac
  case "$1" in
    "$v_warden"|"$v_dry"|"$v_warden_pin"|"$v_warden_cg")
      local payload=$work/alert.json want=success
      [ "$1" = "$v_dry" ] && payload=$work/alert-dry.json want=dry_run
      res=$("${client[@]}" curl -sS -o "$work/resp.json" -w '%{http_code} %{time_total}' --max-time 30 \
              -H @"$work/headers" --data-binary @"$payload" "$webhook_url")
      code=${res% *} secs=${res#* }
      printf '%s\t%s\n' "$(python3 -c 'import sys; print(float(sys.argv[1]) * 1000)' "$secs")" \
        "$(python3 "$here/webhook_measure.py" check-response "$work/resp.json" "$code" "$N" "$want")"
      ;;
    *)
      if [ "$1" = "$v_wait" ]; then stmt="pg_terminate_backend(pid, 2000)"; else stmt="pg_terminate_backend(pid)"; fi
      "${client[@]}" "${tcp_psql[@]}" -c '\timing on' \
        -c "SELECT $stmt FROM pg_stat_activity WHERE usename='bench_app' AND state='idle in transaction'" >"$work/psql.out" 2>&1 ||
        { echo "webhook.sh: psql failed:" >&2; cat "$work/psql.out" >&2; exit 1; }
      python3 "$here/webhook_measure.py" psql-time "$work/psql.out" "$N"
      ;;
  esac
  [ ${#client[@]} -eq 0 ] || pin "$all_cpus" "$all_cpus"
  [ "$grouped" = 0 ] || in_cgroups off
}

: >"$work/times.tsv"
: >"$work/left.tsv"
load_before=$(cut -d' ' -f1 /proc/loadavg)
total=$((WARMUP + RUNS))
for run in $(seq "$total"); do
  # Rotate the order so that none of the kinds always follows another.
  for i in "${!variants[@]}"; do
    v=${variants[$(( (i + run) % ${#variants[@]} ))]}
    open_sessions
    ms=$(measure "$v")
    close_sessions "$v"
    case "$ms" in *fail:*) log "$v: ${ms#*$'\t'}";; esac
    if [ "$run" -gt "$WARMUP" ]; then printf '%s\t%s\n' "$v" "$ms" >>"$work/times.tsv"; fi
  done
  if [ $((run % 5)) = 0 ]; then log "run $run/$total (first $WARMUP unrecorded)"; fi
done

# ---- pgwarden without the kill: a dry-run rule on the same N sessions (they stay) ---------------
open_sessions
for run in $(seq "$total"); do
  ms=$(measure "$v_dry")
  case "$ms" in *fail:*) log "$v_dry: ${ms#*$'\t'}";; esac
  if [ "$run" -gt "$WARMUP" ]; then printf '%s\t%s\n' "$v_dry" "$ms" >>"$work/times.tsv"; fi
done
[ "$(sql -c "$count_sql")" = "$N $N" ] || { echo "webhook.sh: the dry-run rule touched sessions" >&2; exit 1; }
sql -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = 'bench_app'" >/dev/null
close_sessions dry

# ---- where the time goes: one more request with every statement logged -------------------------
diag=""
if [ "$DIAG" = 1 ]; then
  sql -c "ALTER SYSTEM SET log_min_duration_statement = 0" -c "ALTER SYSTEM SET log_line_prefix = '%m [%p] %a '" \
      -c "SELECT pg_reload_conf()" >/dev/null
  sleep 0.5
  open_sessions
  log_from=$(wc -l <"$pgdir/server.log")
  ms=$(measure "$v_warden")
  close_sessions diag
  sleep 0.3
  sql -c "ALTER SYSTEM RESET log_min_duration_statement" -c "ALTER SYSTEM RESET log_line_prefix" \
      -c "SELECT pg_reload_conf()" >/dev/null
  tail -n +"$((log_from + 1))" "$pgdir/server.log" >"$work/diag.log"
  diag=$(
    printf 'One more request (N=%s) with log_min_duration_statement = 0: %.2f ms at curl (check: %s);\n' "$N" "${ms%%$'\t'*}" "${ms#*$'\t'}"
    echo "pgwarden's statements as the server timed them (+: since the previous line ended):"
    python3 "$here/webhook_measure.py" server-log "$work/diag.log" pgwarden
  )
fi

# ---- report ---------------------------------------------------------------------------------------
elapsed=$(($(date +%s) - started))
left_note=$(python3 - "$work/left.tsv" <<'EOF'
import sys
seen = {}
for line in open(sys.argv[1]):
    v, now, later = line.rstrip("\n").split("\t")
    if v not in ("diag", "dry"):
        seen.setdefault(v, []).append((int(now), int(later)))
for v, ns in seen.items():
    print(f"- {v}: sessions of bench_app in pg_stat_activity right after the response: max {max(a for a, _ in ns)}; "
          f"3 s later: max {max(b for _, b in ns)}")
EOF
)
{
  echo "pgwarden webhook latency, PostgreSQL $server_version, $(nproc) cores; N = $N sessions of role bench_app idle in"
  echo "transaction, one Alertmanager notification (one alert) per run; $RUNS recorded runs after $WARMUP warm-up runs of each kind,"
  echo "kinds interleaved. Load average (1 min) at start: $load_start, before the runs: $load_before."
  echo
  echo "| N | what | runs | median ms | p90 ms | max ms |"
  echo "|---:|---|---:|---:|---:|---:|"
  python3 "$here/webhook_measure.py" table "$N" "$TARGET_MS" "$work/times.tsv"
  echo
  echo "Target: pgwarden's median <= $TARGET_MS ms (PASS/MISS on its row). Checks: the webhook answers 200 with $N"
  echo "results \"success\"; a bare query returns $N rows \"t\". Times include failed runs."
  failed=$(python3 "$here/webhook_measure.py" failures "$work/times.tsv")
  if [ -n "$failed" ]; then echo "$failed"; else echo "- every run passed its check."; fi
  echo "$left_note"
  echo "$cg_note"
  if [ -n "$diag" ]; then echo; echo "$diag"; fi
  echo
  echo "Total run time: ${elapsed} s."
} | tee "$out/webhook_table.md"
echo
echo "File: $out/webhook_table.md"
