#!/usr/bin/env bash
# Fleet mode (#13): one pgwarden for TARGETS clusters, against one postgres_exporter per cluster
# and against postgres_exporter's multi-target /probe, side by side in one run.
#   bench/fleet.sh [[LABEL=]BIN ...]
# Starts TARGETS (20) throwaway clusters, each holding SESSIONS (50) sessions of bench/holder.c's
# mix, then, all at once:
#   - one pgwarden in fleet mode per BIN (targets db01..dbNN in --config.file, GET /probe),
#   - one pgwarden in fleet mode with one target (db01), for the cost of the targets beyond one,
#   - one pgwarden --dsn per cluster (the first BIN; GET /metrics): the single-target scrape,
#   - one Debian prometheus-postgres-exporter per cluster (GET /metrics),
#   - one postgres_exporter with auth_modules, probed per cluster (GET /probe?target=...).
# Then ROUNDS scrape rounds (a round asks each of them for every target once, like a Prometheus
# with TARGETS targets; the order of the exporters rotates every round) and a table: latency per
# request, CPU per round of the exporters and of PostgreSQL, peak RSS, PSS, connections, threads
# and file descriptors. With BIG (500) > 0, a second phase: one pgwarden with BIG targets spread
# over the same clusters, with --targets.max-connections at its default and at BIG/2.
# No BIN: builds pgwarden with a plain `swift build -c release` and as `make release` does.
# Environment: TARGETS (20), SESSIONS (50), ROUNDS (100), WARMUP (5 rounds not recorded),
#   PAR (1: requests of a round one after another; N: N at a time), BIG (500; 0 skips),
#   BIG_ROUNDS (5), TIME_LIMIT (2400 s for everything after the build), PROBE_EXPORTER (a
#   postgres_exporter with /probe; default: the installed one if it has it, else Debian 13's
#   package fetched with apt-get into PROBE_EXPORTER_CACHE, /var/cache/pgwarden-bench, not
#   installed), BENCH_OUT (bench/results), KEEP_WORK=1 (keep the work directory).
# Writes fleet.md (the tables) and fleet*.json (the raw figures) to BENCH_OUT. Traffic stays on
# 127.0.0.1 and the clusters' Unix sockets.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
TARGETS=${TARGETS:-20}
SESSIONS=${SESSIONS:-50}
ROUNDS=${ROUNDS:-100}
WARMUP=${WARMUP:-5}
PAR=${PAR:-1}
BIG=${BIG:-500}
BIG_ROUNDS=${BIG_ROUNDS:-5}
TIME_LIMIT=${TIME_LIMIT:-2400}
for v in TARGETS SESSIONS ROUNDS WARMUP PAR BIG BIG_ROUNDS TIME_LIMIT; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || { echo "fleet.sh: $v must be a whole number (got '${!v}')" >&2; exit 2; }
done
[ "$TARGETS" -ge 2 ] && [ "$TARGETS" -le 99 ] || { echo "fleet.sh: TARGETS must be 2..99" >&2; exit 2; }
[ "$SESSIONS" -ge 20 ] || { echo "fleet.sh: SESSIONS must be at least 20 (bench/holder.c)" >&2; exit 2; }
[ "$ROUNDS" -ge 1 ] && [ "$PAR" -ge 1 ] && [ "$BIG_ROUNDS" -ge 1 ] || { echo "fleet.sh: ROUNDS, PAR, BIG_ROUNDS must be at least 1" >&2; exit 2; }
[ "$BIG" = 0 ] || [ "$BIG" -ge "$TARGETS" ] || { echo "fleet.sh: BIG must be 0 or at least TARGETS" >&2; exit 2; }
out=${BENCH_OUT:-$here/results}
mkdir -p "$out"
started=$(date +%s)
log() { echo "[fleet $(($(date +%s) - started))s] $*" >&2; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

"$root/scripts/deps.sh" bench
command -v prometheus-postgres-exporter >/dev/null || { echo "fleet.sh: prometheus-postgres-exporter missing" >&2; exit 1; }
bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
psql=$bindir/psql

# ---- the binaries -----------------------------------------------------------------------
bins=("$@") labels=()
if [ ${#bins[@]} -eq 0 ]; then
  stash=$(mktemp -d /tmp/pgwarden-fleet-bin.XXXXXX)
  log "building pgwarden: swift build -c release"
  (cd "$root" && scripts/stamp-build.sh && timeout 1800 swift build -c release) >&2
  cp "$root/.build/release/pgwarden" "$stash/plain"
  log "building pgwarden: release/build.sh (make release)"
  timeout 1800 "$root/release/build.sh" >&2
  cp "$root/.build/release/pgwarden" "$stash/release"
  bins=("$stash/plain" "$stash/release")
  labels=("swift build -c release" "make release")
else
  stash=""
  for ((b = 0; b < ${#bins[@]}; b++)); do  # LABEL=BIN names the binary in the tables
    if [[ "${bins[$b]}" == *=* ]]; then labels+=("${bins[$b]%%=*}"); bins[b]=${bins[$b]#*=}; else labels+=("${bins[$b]}"); fi
  done
fi
for b in "${bins[@]}"; do [ -x "$b" ] || { echo "fleet.sh: no executable at $b" >&2; exit 1; }; done

# postgres_exporter with the multi-target /probe (0.12 and later). Debian 12 ships 0.11.1, which
# has none; Debian 13's package is then fetched with apt-get from the machine's own Debian mirror
# (a private apt state in the cache, nothing installed) and unpacked: a Go binary needing only libc.
probe_exporter() {
  if [ -n "${PROBE_EXPORTER:-}" ]; then echo "$PROBE_EXPORTER"; return; fi
  has_probe() { local h; h=$("$1" --help 2>&1 || true); grep -q -- '--config.file' <<<"$h"; }  # /probe came with --config.file
  if has_probe prometheus-postgres-exporter; then command -v prometheus-postgres-exporter; return; fi
  local cache=${PROBE_EXPORTER_CACHE:-/var/cache/pgwarden-bench} uri o
  local bin=$cache/root/usr/bin/prometheus-postgres-exporter
  if [ ! -x "$bin" ]; then
    uri=$(apt-get indextargets --format '$(REPO_URI) $(CODENAME) $(COMPONENT)' | awk '$3 == "main" && $2 !~ /-/ {print $1; exit}')
    [ -n "$uri" ] || { echo "fleet.sh: no Debian main archive in apt's sources; set PROBE_EXPORTER" >&2; return 1; }
    mkdir -p "$cache/apt/lists/partial" "$cache/apt/archives/partial"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri trixie main" >"$cache/apt/sources.list"
    o=(-o "Dir::Etc::SourceList=$cache/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
       -o "Dir::State::Lists=$cache/apt/lists" -o "Dir::Cache=$cache/apt" -o Debug::NoLocking=1)
    timeout 600 apt-get "${o[@]}" -qq update >&2
    rm -f "$cache"/prometheus-postgres-exporter_*.deb
    (cd "$cache" && timeout 600 apt-get "${o[@]}" -qq download prometheus-postgres-exporter 2>&1 | grep -v unsandboxed >&2 || true)
    ls "$cache"/prometheus-postgres-exporter_*.deb >/dev/null 2>&1 || { echo "fleet.sh: could not fetch Debian 13's prometheus-postgres-exporter; set PROBE_EXPORTER" >&2; return 1; }
    rm -rf "$cache/root"
    dpkg-deb -x "$cache"/prometheus-postgres-exporter_*.deb "$cache/root"
  fi
  has_probe "$bin" || { echo "fleet.sh: $bin has no multi-target support" >&2; return 1; }
  echo "$bin"
}
pe_probe=$(probe_exporter)
pe_version() { "$1" --version 2>&1 | awk 'NR == 1 {print $3}'; }
pe_single_v=$(pe_version prometheus-postgres-exporter)
pe_probe_v=$(pe_version "$pe_probe")

# ---- work directory, cleanup, time limit -----------------------------------------------------
work=$(mktemp -d /tmp/pgwarden-fleet.XXXXXX)
chmod 755 "$work"
pids=() clusters=()
stop_all() {  # TERM every process started here, KILL what is left after 5 s
  local p left
  [ ${#pids[@]} -gt 0 ] || return 0
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for _ in $(seq 50); do
    left=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && left=1; done
    [ "$left" = 0 ] && break
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  pids=()
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "${watchdog:-}" ]; then pkill -P "$watchdog" 2>/dev/null || true; kill "$watchdog" 2>/dev/null || true; fi
  stop_all
  local stopping=() c p
  for c in "${clusters[@]}"; do "$root/scripts/pg-cluster.sh" stop "$c" >/dev/null 2>&1 & stopping+=($!); done
  for p in "${stopping[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -n "$stash" ] && rm -rf "$stash"
  if [ "${KEEP_WORK:-0}" = 1 ]; then echo "fleet.sh: work directory kept: $work" >&2; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
deadline=$(($(date +%s) + TIME_LIMIT))
# Every long step below runs under `timeout` with what is left of TIME_LIMIT; the watchdog ends
# the script (and so cleans up) should anything else hang.
( sleep "$TIME_LIMIT"; echo "fleet.sh: TIME_LIMIT ($TIME_LIMIT s) reached" >&2; kill -TERM $$ ) 2>/dev/null &
watchdog=$!
left() { local s=$((deadline - $(date +%s))); [ "$s" -gt 0 ] || { echo "fleet.sh: out of time" >&2; exit 1; }; echo "$s"; }

mem_avail=$(awk '/^MemAvailable/ {printf "%.1f", $2 / 1048576}' /proc/meminfo)
measure_start=$(date +%s)
log "$TARGETS clusters x $SESSIONS sessions; memory available: $mem_avail GiB; load average: $(load)"

cc -O2 -Wall -o "$work/holder" "$here/holder.c" -I"$(pg_config --includedir)" -L"$(pg_config --libdir)" -lpq
mapfile -t ports < <(python3 "$here/fleet_measure.py" free-ports $((TARGETS * 3 + 8)))
name_of() { printf 'db%02d' "$(($1 + 1))"; }

# ---- clusters, sessions -----------------------------------------------------------------------
max_conn=$((SESSIONS + 100 + (BIG + TARGETS - 1) / TARGETS))
log "starting $TARGETS clusters (max_connections = $max_conn)"
cports=() pms=()
for ((i = 0; i < TARGETS; i++)); do
  clusters+=("$work/pg$i")
  cports+=("${ports[$i]}")
done
for ((i = 0; i < TARGETS; i += 5)); do  # five at a time: initdb is most of it
  starting=()
  for ((j = i; j < i + 5 && j < TARGETS; j++)); do
    timeout 300 "$root/scripts/pg-cluster.sh" start "${clusters[$j]}" "${cports[$j]}" "max_connections = $max_conn" \
      >/dev/null 2>"$work/start$j.err" &
    starting+=($!)
  done
  for p in "${starting[@]}"; do wait "$p" || true; done
done
for ((i = 0; i < TARGETS; i++)); do
  [ -f "${clusters[$i]}/data/postmaster.pid" ] || { echo "fleet.sh: cluster $i did not start:" >&2; cat "$work/start$i.err" >&2; exit 1; }
  pms+=("$(head -n 1 "${clusters[$i]}/data/postmaster.pid")")
done
sql() {  # sql CLUSTER_INDEX psql-args...
  local i=$1; shift
  "$psql" -X -h "${clusters[$i]}/socket" -p "${cports[$i]}" -U postgres -d postgres -qAt -v ON_ERROR_STOP=1 "$@"
}
log "opening $SESSIONS sessions on each cluster"
for ((i = 0; i < TARGETS; i++)); do
  sql "$i" -c "CREATE DATABASE benchapp" -c "CREATE ROLE bench_app1 LOGIN" -c "CREATE ROLE bench_app2 LOGIN" \
    -c "CREATE ROLE bench_app3 LOGIN" -c "CREATE ROLE bench_app4 LOGIN" >/dev/null
  "$work/holder" "host=${clusters[$i]}/socket port=${cports[$i]}" "$SESSIONS" 86400 >"$work/holder$i.out" 2>"$work/holder$i.err" &
  pids+=($!)
done
for ((i = 0; i < TARGETS; i++)); do
  wait_holder "fleet.sh: holder $i" "$work/holder$i.out" "$work/holder$i.err" "${pids[$i]}" 600
  # The active and waiting sessions were sent asynchronously: wait until the server shows them all.
  for _ in $(seq 100); do
    got=$(sql "$i" -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'bench_holder'")
    [ "$got" = "$SESSIONS" ] && break
    sleep 0.2
  done
  [ "$got" = "$SESSIONS" ] || { echo "fleet.sh: cluster $i shows $got holder sessions, not $SESSIONS" >&2; exit 1; }
done
log "holders ready: $(sed 's/^ready //' "$work/holder0.out") (each cluster)"
server_version=$(sql 0 -c "SHOW server_version")

# ---- exporters ----------------------------------------------------------------------------------
dsn_kv() { echo "host=127.0.0.1 port=${cports[$1]} user=postgres password=postgres dbname=postgres sslmode=disable gssencmode=disable"; }
write_targets() {  # write_targets FILE COUNT [NAME_PREFIX]: COUNT targets over the clusters, in turn
  local file=$1 count=$2 prefix=${3:-} k name
  echo "targets:" >"$file"
  for ((k = 0; k < count; k++)); do
    if [ -n "$prefix" ]; then name=$(printf '%s%03d' "$prefix" "$((k + 1))"); else name=$(name_of "$k"); fi
    printf '  - name: %s\n    dsn: "%s"\n    labels: {env: bench, cluster: %s}\n' \
      "$name" "$(dsn_kv $((k % TARGETS)))" "$(name_of $((k % TARGETS)))" >>"$file"
  done
}
next_port=$TARGETS
started_urls=()
start() {  # start LOG HEALTH_PATH COMMAND...: runs it in the background, sets $pid and $url_base
  local logf=$1 health=$2; shift 2
  local p=${ports[$next_port]}
  next_port=$((next_port + 1))
  "$@" --web.listen-address "127.0.0.1:$p" >"$work/$logf.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  url_base=http://127.0.0.1:$p
  started_urls+=("$pid $url_base$health $logf")
}
wait_all_http() {
  local entry p u n
  for entry in "${started_urls[@]}"; do
    read -r p u n <<<"$entry"
    for _ in $(seq 300); do
      kill -0 "$p" 2>/dev/null || { echo "fleet.sh: $n exited; its log:" >&2; cat "$work/$n.log" >&2; exit 1; }
      curl -sS -o /dev/null --max-time 5 "$u" 2>/dev/null && break
      sleep 0.1
    done
    curl -sS -o /dev/null --max-time 5 "$u" 2>/dev/null || { echo "fleet.sh: $n does not answer on $u" >&2; exit 1; }
  done
  started_urls=()
}
json_list() { python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "$@"; }
json_ints() { python3 -c 'import json, sys; print(json.dumps([int(x) for x in sys.argv[1:]]))' "$@"; }
tools=()
add_tool() {  # add_tool NAME PIDS_JSON URLS_JSON TARGETS_JSON
  tools+=("$(python3 -c 'import json, sys; print(json.dumps({"name": sys.argv[1], "pids": json.loads(sys.argv[2]),
    "urls": json.loads(sys.argv[3]), "targets": json.loads(sys.argv[4])}))' "$@")")
}
all_names=() probe_urls=()
for ((i = 0; i < TARGETS; i++)); do all_names+=("$(name_of "$i")"); done
names_json=$(json_list "${all_names[@]}")

log "starting the exporters"
write_targets "$work/fleet.yml" "$TARGETS"
write_targets "$work/fleet1.yml" 1
# A fresh copy of the binary for each role (bench/rss.sh says why); the processes of one role
# share theirs, as they would on one host, and no role shares another's (PSS divides the pages
# of a file among the processes that map it).
for ((b = 0; b < ${#bins[@]}; b++)); do cp "${bins[$b]}" "$work/pgwarden-fleet$b"; done
for role in one dsn big bigcap; do cp "${bins[0]}" "$work/pgwarden-$role"; done
fleet_names=()
for ((b = 0; b < ${#bins[@]}; b++)); do
  start "pgwarden-fleet$b" /healthz "$work/pgwarden-fleet$b" --config.file "$work/fleet.yml"
  urls=()
  for n in "${all_names[@]}"; do urls+=("$url_base/probe?target=$n"); done
  fleet_names+=("pgwarden fleet ($TARGETS targets), ${labels[$b]}")
  add_tool "${fleet_names[$b]}" "[$pid]" "$(json_list "${urls[@]}")" "$names_json"
done
start pgwarden-fleet1 /healthz "$work/pgwarden-one" --config.file "$work/fleet1.yml"
add_tool "pgwarden fleet (1 target), ${labels[0]}" "[$pid]" "$(json_list "$url_base/probe?target=db01")" '["db01"]'
dsn_pids=() dsn_urls=() pe_pids=() pe_urls=()
for ((i = 0; i < TARGETS; i++)); do
  start "pgwarden-dsn$i" /healthz "$work/pgwarden-dsn" --dsn "$(dsn_kv "$i")"
  dsn_pids+=("$pid"); dsn_urls+=("$url_base/metrics")
  start "pe$i" / env DATA_SOURCE_NAME="postgresql://postgres:postgres@127.0.0.1:${cports[$i]}/postgres?sslmode=disable" \
    prometheus-postgres-exporter
  pe_pids+=("$pid"); pe_urls+=("$url_base/metrics")
done
dsn_name="pgwarden --dsn, one per cluster, ${labels[0]}"
add_tool "$dsn_name" "$(json_ints "${dsn_pids[@]}")" "$(json_list "${dsn_urls[@]}")" "$names_json"
add_tool "postgres_exporter $pe_single_v, one per cluster" "$(json_ints "${pe_pids[@]}")" "$(json_list "${pe_urls[@]}")" "$names_json"
cat >"$work/postgres_exporter.yml" <<'EOF'
auth_modules:
  bench:
    type: userpass
    userpass:
      username: postgres
      password: postgres
    options:
      sslmode: disable
EOF
# Its stat_user_tables collector (on by default since 0.13) calls pg_total_relation_size on every
# table, which waits for the lock held by bench/holder.c's ACCESS EXCLUSIVE holder: every probe
# would hang (and leave its two connections open). Off here, and reported with the tables.
start pe-probe / env -u DATA_SOURCE_NAME -u DATA_SOURCE_URI -u DATA_SOURCE_USER -u DATA_SOURCE_PASS \
  "$pe_probe" --config.file "$work/postgres_exporter.yml" --no-collector.stat_user_tables
for ((i = 0; i < TARGETS; i++)); do probe_urls+=("$url_base/probe?target=127.0.0.1:${cports[$i]}/postgres&auth_module=bench"); done
pe_probe_name="postgres_exporter $pe_probe_v, /probe ($TARGETS targets), --no-collector.stat_user_tables"
add_tool "$pe_probe_name" "[$pid]" "$(json_list "${probe_urls[@]}")" "$names_json"
wait_all_http

spec() {  # spec ROUNDS WARMUP TOOL_JSON...
  local r=$1 w=$2; shift 2
  python3 - "$r" "$w" "$PAR" "$(json_ints "${pms[@]}")" "$(json_ints "${cports[@]}")" "$@" <<'EOF'
import json, sys
r, w, par, pms, cports = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), json.loads(sys.argv[4]), json.loads(sys.argv[5])
print(json.dumps({"rounds": r, "warmup": w, "par": par, "postmasters": pms, "cluster_ports": cports,
                  "tools": [json.loads(t) for t in sys.argv[6:]]}))
EOF
}
spec "$ROUNDS" "$WARMUP" "${tools[@]}" >"$work/spec.json"
load_before=$(load)
log "$WARMUP + $ROUNDS rounds over ${#tools[@]} exporters (load average $load_before)"
timeout "$(left)" python3 "$here/fleet_measure.py" run "$work/spec.json" "$out/fleet.json"
load_after=$(load)

# Server-side memory per connection, on the first cluster: pgwarden's scrape backends (the fleet
# processes' and the --dsn one's), postgres_exporter's, and the holder's idle sessions.
backend_pids() { sql 0 -c "SELECT string_agg(pid::text, ' ') FROM pg_stat_activity WHERE $1 AND pid <> pg_backend_pid()"; }
python3 - "$(backend_pids "application_name = 'pgwarden'")" \
  "$(backend_pids "backend_type = 'client backend' AND application_name = '' AND client_addr IS NOT NULL")" \
  "$(backend_pids "application_name = 'bench_holder' AND state = 'idle' AND backend_xid IS NULL")" >"$work/backends.json" <<'EOF'
import json, sys
split = lambda s: [int(x) for x in s.split()]
print(json.dumps({"pgwarden scrape connection": split(sys.argv[1]), "postgres_exporter connection": split(sys.argv[2]),
                  "idle session (holder)": split(sys.argv[3])}))
EOF
python3 "$here/fleet_measure.py" backends "$work/backends.json" >"$out/fleet-backends.json"
# postgres_exporter's /probe with its default collectors, once, on db01 (see above).
start pe-probe-default / env -u DATA_SOURCE_NAME -u DATA_SOURCE_URI -u DATA_SOURCE_USER -u DATA_SOURCE_PASS \
  "$pe_probe" --config.file "$work/postgres_exporter.yml"
wait_all_http
if t=$(curl -sS -o /dev/null -w '%{time_total}' --max-time 10 "$url_base/probe?target=127.0.0.1:${cports[0]}/postgres&auth_module=bench" 2>/dev/null); then
  probe_default="answered in $t s"
else
  probe_default="no answer within 10 s (curl gave up)"
fi
stop_all_exporters() {  # keeps the holders (the first TARGETS pids)
  local keep=("${pids[@]:0:$TARGETS}") rest=("${pids[@]:$TARGETS}")
  pids=("${rest[@]}"); stop_all; pids=("${keep[@]}")
}
stop_all_exporters

# ---- BIG targets over the same clusters ---------------------------------------------------------
if [ "$BIG" -gt 0 ]; then
  log "$BIG targets over the $TARGETS clusters: default cap, then --targets.max-connections $((BIG / 2))"
  write_targets "$work/big.yml" "$BIG" t
  big_names=()
  for ((k = 1; k <= BIG; k++)); do big_names+=("$(printf 't%03d' "$k")"); done
  tools=()
  start pgwarden-big /healthz "$work/pgwarden-big" --config.file "$work/big.yml"
  urls=(); for n in "${big_names[@]}"; do urls+=("$url_base/probe?target=$n"); done
  big_base=$url_base
  add_tool "pgwarden fleet ($BIG targets), ${labels[0]}" "[$pid]" "$(json_list "${urls[@]}")" "$(json_list "${big_names[@]}")"
  start pgwarden-bigcap /healthz "$work/pgwarden-bigcap" --config.file "$work/big.yml" --targets.max-connections $((BIG / 2))
  urls=(); for n in "${big_names[@]}"; do urls+=("$url_base/probe?target=$n"); done
  cap_base=$url_base
  add_tool "pgwarden fleet ($BIG targets, --targets.max-connections $((BIG / 2))), ${labels[0]}" "[$pid]" \
    "$(json_list "${urls[@]}")" "$(json_list "${big_names[@]}")"
  wait_all_http
  spec "$BIG_ROUNDS" 1 "${tools[@]}" >"$work/spec-big.json"
  timeout "$(left)" python3 "$here/fleet_measure.py" run "$work/spec-big.json" "$out/fleet-big.json"
  curl -fsS --max-time 10 "$big_base/metrics" | grep -E '^pgwarden_target_connections' >"$out/fleet-big-connections.txt" || true
  curl -fsS --max-time 10 "$cap_base/metrics" | grep -E '^pgwarden_target_connections' | sed 's/^/capped: /' >>"$out/fleet-big-connections.txt" || true
  stop_all_exporters
fi
elapsed=$(($(date +%s) - measure_start))

# ---- tables -------------------------------------------------------------------------------------
{
  echo "## bench/fleet.sh: $TARGETS clusters, $SESSIONS sessions each"
  echo
  echo "PostgreSQL $server_version, $(nproc) CPUs, $(awk '/^MemTotal/ {printf "%.0f", $2 / 1048576}' /proc/meminfo) GiB;" \
    "memory available at the start: $mem_avail GiB; load average (1, 5, 15 min) $load_before before the rounds, $load_after after."
  echo
  pairs=("$dsn_name" "${fleet_names[0]}")
  for ((b = 1; b < ${#fleet_names[@]}; b++)); do pairs+=("$dsn_name" "${fleet_names[$b]}"); done
  python3 "$here/fleet_measure.py" report "$out/fleet.json" "${pairs[@]}"
  echo
  echo "Server-side memory per connection (cluster db01, median over the backends; kB):"
  echo
  python3 - "$out/fleet-backends.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
print("| backend | count | PSS kB | private (USS) kB |")
print("|---|---:|---:|---:|")
for k, v in d.items():
    print(f"| {k} | {v['count']} | {v['pss_kb']:.0f} | {v['uss_kb']:.0f} |")
EOF
  echo
  python3 - "$out/fleet.json" "${fleet_names[0]}" "pgwarden fleet (1 target), ${labels[0]}" \
    "postgres_exporter $pe_single_v, one per cluster" "$pe_probe_name" "$dsn_name" "$TARGETS" <<'EOF'
import json, statistics, sys
d = json.load(open(sys.argv[1]))["results"]
fleet, one, pe, probe, dsn, n = d[sys.argv[2]], d[sys.argv[3]], d[sys.argv[4]], d[sys.argv[5]], d[sys.argv[6]], int(sys.argv[7])
hwm = lambda t: sum(p["vm_hwm_kb"] for p in t["procs"]) / 1024.0
pe_one = statistics.median(p["vm_hwm_kb"] for p in pe["procs"]) / 1024.0
verdict = lambda ok: "**PASS**" if ok else "**MISS**"
print(f"- Goal, memory: {sys.argv[2]} peak RSS {hwm(fleet):.1f} MB against two postgres_exporter processes: "
      f"2 x {pe_one:.1f} = {2 * pe_one:.1f} MB (median of the {len(pe['procs'])}) {verdict(hwm(fleet) < 2 * pe_one)}; "
      f"against 2 x the /probe process ({hwm(probe):.1f} MB after {n} targets): {2 * hwm(probe):.1f} MB {verdict(hwm(fleet) < 2 * hwm(probe))}")
med = lambda t: statistics.median(x for s in t["samples"] for x in s)
r = med(fleet) / med(dsn)
print(f"- Goal, latency: median probe {med(fleet):.2f} ms against {med(dsn):.2f} ms for the single-target scrapes: "
      f"{r:.2f}x {verdict(r <= 1.10)} (within 10%)")
per = (fleet["procs"][0]["vm_hwm_kb"] - one["procs"][0]["vm_hwm_kb"]) / (n - 1)
fds = (fleet["procs"][0]["fds"] - one["procs"][0]["fds"]) / (n - 1)
print(f"- Per target beyond the first (fleet of {n} against fleet of 1): {per:.0f} kB peak RSS, {fds:.1f} file descriptors; "
      f"fleet of 1: {one['procs'][0]['vm_hwm_kb'] / 1024:.1f} MB, {one['procs'][0]['fds']} fds, {one['procs'][0]['threads']} threads; "
      f"fleet of {n}: {fleet['procs'][0]['fds']} fds, {fleet['procs'][0]['threads']} threads, "
      f"{fleet['procs'][0]['pg_connections']} PostgreSQL connections")
EOF
  echo "- postgres_exporter $pe_probe_v /probe with its default collectors (stat_user_tables on), one probe of db01: $probe_default."
  if [ "$BIG" -gt 0 ]; then
    echo
    echo "### $BIG targets over the same $TARGETS clusters ($((BIG / TARGETS)) targets per cluster, $BIG_ROUNDS rounds after 1 not recorded)"
    echo
    python3 "$here/fleet_measure.py" report "$out/fleet-big.json"
    python3 - "$out/fleet.json" "$out/fleet-big.json" "${fleet_names[0]}" "pgwarden fleet ($BIG targets), ${labels[0]}" "$TARGETS" "$BIG" <<'EOF'
import json, sys
a, b = json.load(open(sys.argv[1]))["results"][sys.argv[3]], json.load(open(sys.argv[2]))["results"][sys.argv[4]]
n, big = int(sys.argv[5]), int(sys.argv[6])
pa, pb = a["procs"][0], b["procs"][0]
print()
print(f"- Per target from {n} to {big} targets: {(pb['vm_hwm_kb'] - pa['vm_hwm_kb']) / (big - n):.0f} kB peak RSS, "
      f"{(pb['fds'] - pa['fds']) / (big - n):.2f} file descriptors; {big} targets: {pb['vm_hwm_kb'] / 1024:.1f} MB, "
      f"{pb['fds']} fds, {pb['threads']} threads, {pb['pg_connections']} PostgreSQL connections")
errs = sum(len(r["errors"]) for r in json.load(open(sys.argv[2]))["results"].values())
print(f"- Failed requests in this phase: {errs}")
EOF
    sed 's/^/    /' "$out/fleet-big-connections.txt"
  fi
  echo
  echo "Total run time: $elapsed s (after the build)."
} | tee "$out/fleet.md"
echo
echo "Files: $out/fleet.md, $out/fleet.json, $out/fleet-big.json, $out/fleet-backends.json"
