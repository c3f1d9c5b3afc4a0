#!/usr/bin/env bash
# End-to-end check of fleet mode (docs/fleet-setup.md): three real PostgreSQL clusters started
# here with scripts/pg-cluster.sh, with the same database (shop), roles (shop_app, pgwarden) and
# application_name on each, and on each one session of shop_app idle in a transaction. ONE
# pgwarden watches all three (targets alpha, bravo, charlie in its --config.file, with labels;
# bravo is env=prod, the others env=staging) and has a rule that terminates sessions idle in a
# transaction. A real Prometheus, configured from examples/prometheus-fleet.yml, discovers the
# targets on pgwarden's /targets (http_sd_configs) and scrapes each through /probe with the
# example's relabelling (instance = the target's name); it evaluates an alert on sessions idle in
# a transaction in env="prod", which therefore fires for bravo only. A real Alertmanager,
# configured from examples/alertmanager.yml, sends it to pgwarden's webhook.
#
# Asserts: Prometheus sees up and pg_up of all three with instance = the target names; the alert
# fires for bravo and for no other target; only bravo's session ends; the same-named sessions on
# alpha and charlie, idle in a transaction for longer than the rule's min_state_age, survive and
# their clients still work; alerts naming no target, an unknown one or a look-alike of a target's
# name act on nothing. Then checks the dashboard in fleet mode against this Prometheus
# (checks/e2e/check_dashboard.py with instance=alpha and pgwarden=this pgwarden), the sharding
# example (promtool check service-discovery of examples/prometheus-shards.yml against this
# pgwarden: every target probed by exactly one shard; amtool: its alerts reach that shard's
# receiver in examples/alertmanager-shards.yml), and that examples/fleet.yml loads. Last, stops
# charlie's cluster: its pg_up goes to 0 in Prometheus while alpha's and bravo's stay 1, and
# comes back to 1 once it is restarted.
#
# Timings are shortened (1s scrapes and evaluations, the alert at 3s idle for 1s, the rule's
# min_state_age 2s, Alertmanager's group_wait/group_interval 1s); every step waits on a
# condition, with a deadline, never on a fixed sleep. Needs prometheus, prometheus-alertmanager,
# promtool, amtool, psql, curl and python3; without them it skips, unless CI=true, where that is a
# failure. FLEET_KEEP=1 keeps the work dir. Ends with "fleet: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
# shellcheck source=checks/lib/e2e-common.sh
source "$root/checks/lib/e2e-common.sh"

log=$(mktemp /tmp/pgwarden-fleet-log.XXXXXX)
check_name=fleet
# shellcheck source=checks/lib/harness.sh
source checks/lib/harness.sh

# wait_until SECONDS COMMAND...: runs COMMAND (output to $log) every 0.3s until it succeeds (0)
# or time is up (1).
wait_until() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >"$log" 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.3
  done
}
# eventually SECONDS NAME COMMAND...: PASS once COMMAND succeeds within SECONDS, else FAIL with
# the last attempt's output.
eventually() {
  local t=$1 name=$2; shift 2
  if wait_until "$t" "$@"; then pass "$name"; else echo "(not within ${t}s)" >>"$log"; fail "$name"; fi
}

# --- Tools ----------------------------------------------------------------------------------------
missing=()
for tool in prometheus prometheus-alertmanager promtool amtool psql curl python3; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "${CI:-}" = true ]; then
    echo "missing ${missing[*]} (scripts/deps.sh test installs them)" >"$log"
    fail "tools installed"
  else
    echo "SKIP: missing ${missing[*]} (scripts/deps.sh test installs them); CI=true makes this a failure"
  fi
  rm -f "$log"
  finish
fi
pgwarden_bin=${PGWARDEN_BIN:-$root/.build/debug/pgwarden}
if [ ! -x "$pgwarden_bin" ]; then
  echo "$pgwarden_bin is not executable (swift build, or set PGWARDEN_BIN)" >"$log"
  fail "pgwarden binary"
  rm -f "$log"
  finish
fi

# --- Work dir, ports, names -----------------------------------------------------------------------
W=$(mktemp -d "${PGWARDEN_TEST_WORKDIR:-/tmp}/fleet.XXXXXX")
chmod 755 "$W"
mkdir -p "$W/s" "$W/cfg"
read -r port_alpha port_bravo port_charlie pgw_port pgw2_port prom_port am_port sink_port < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(8)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))')
# The targets: name -> cluster port. Their names hash to three different shards of
# examples/prometheus-shards.yml (hashmod 3: charlie 0, alpha 1, bravo 2), so that the sharding
# check below sees every shard own a target.
targets=(alpha bravo charlie)
declare -A pgport=([alpha]=$port_alpha [bravo]=$port_bravo [charlie]=$port_charlie)
declare -A target_env=([alpha]=staging [bravo]=prod [charlie]=staging)
victim=bravo
PGW=http://127.0.0.1:$pgw_port
PROM=http://127.0.0.1:$prom_port
AM=http://127.0.0.1:$am_port
app=shop_app           # the application role, the same on every cluster
warden=pgwarden        # pgwarden's least-privilege role, the same on every cluster
db=shop                # the application database, the same on every cluster
appname=shop-worker    # the sessions' application_name, the same on every cluster
alert=FleetCheckIdleInTransaction
q() { python3 "$root/checks/fleet/query.py" "$@"; }
psql_on() { local t=$1 role=$2 dbname=$3; shift 3; psql -X -q -At -v ON_ERROR_STOP=1 -h "$W/pg_$t/socket" -p "${pgport[$t]}" -U "$role" -d "$dbname" "$@"; }
sql_on() { psql_on "$1" postgres postgres -c "$2"; }

# --- Clean-up --------------------------------------------------------------------------------------
declare -A svc_pid=() ses_pid=()
cleaned=0
cleanup() {
  [ "$cleaned" = 1 ] && return
  cleaned=1
  local t
  stop_held
  for t in "${targets[@]}"; do "$root/scripts/pg-cluster.sh" stop "$W/pg_$t" >/dev/null 2>&1 || true; done
}
print_logs() { tail_logs 40 FLEET_KEEP "$W"/*.log "$W"/s/*.out "$W"/pg_*/server.log; }
finished=0
# finish_all: stops everything, asserts nothing is left running, prints the logs on failure and
# the summary line, and exits.
finish_all() {
  local pids=("${ses_pid[@]}" "${svc_pid[@]}") left=() pid
  cleanup
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && left+=("$pid"); done
  echo "still running: ${left[*]}" >"$log"
  if [ ${#left[@]} -eq 0 ]; then pass "every process stopped (${#pids[@]})"; else fail "every process stopped"; fi
  local pg_left=() t
  for t in "${targets[@]}"; do [ -f "$W/pg_$t/data/postmaster.pid" ] && pg_left+=("$t"); done
  echo "clusters still running: ${pg_left[*]}" >"$log"
  if [ ${#pg_left[@]} -eq 0 ]; then pass "the three clusters stopped"; else fail "the three clusters stopped"; fi
  [ "$failed" -eq 0 ] || print_logs
  echo "fleet: finished in ${SECONDS}s"
  finished=1
  finish
}
on_exit() {
  local rc=$?
  if [ "$finished" = 0 ]; then   # an unexpected exit: still clean up and report
    echo "exit $rc" >"$log"
    fail "the script ran to its end"
    cleanup; print_logs
    echo "$check_name: $passed passed, $failed failed"
  fi
  if [ "${FLEET_KEEP:-}" = 1 ]; then echo "work dir kept: $W"; else rm -rf "$W"; fi
  rm -f "$log"
  [ "$failed" -eq 0 ] || exit 1
}
trap on_exit EXIT
trap 'echo interrupted >"$log"; fail "interrupted"; exit 1' INT TERM

# --- Three clusters, the same names on each -------------------------------------------------------
start_clusters() {
  local t rc=0
  declare -A starter=()
  for t in "${targets[@]}"; do
    "$root/scripts/pg-cluster.sh" start "$W/pg_$t" "${pgport[$t]}" >"$W/pg_$t.start.log" 2>&1 &
    starter[$t]=$!
  done
  for t in "${targets[@]}"; do
    wait "${starter[$t]}" || { echo "$t: $(cat "$W/pg_$t.start.log")"; rc=1; }
  done
  return $rc
}
check "three PostgreSQL clusters started (scripts/pg-cluster.sh): alpha :$port_alpha, bravo :$port_bravo, charlie :$port_charlie" \
  start_clusters
[ "$failed" -eq 0 ] || finish_all

setup_cluster() {
  local t=$1
  sql_on "$t" "CREATE ROLE $app LOGIN CONNECTION LIMIT 10" &&
  sql_on "$t" "CREATE ROLE $warden LOGIN IN ROLE pg_monitor, pg_signal_backend" &&
  sql_on "$t" "CREATE DATABASE $db CONNECTION LIMIT 50" &&
  psql_on "$t" postgres "$db" -c "CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL);
    INSERT INTO accounts VALUES (1, 100), (2, 100); GRANT SELECT, UPDATE ON accounts TO $app;"
}
for t in "${targets[@]}"; do
  check "$t: role $app (CONNECTION LIMIT 10), role $warden (pg_monitor, pg_signal_backend), database $db (CONNECTION LIMIT 50)" setup_cluster "$t"
done
[ "$failed" -eq 0 ] || finish_all

# session NAME TARGET ROLE DB SQL: a held session (checks/lib/e2e-common.sh) on TARGET.
session() { held_session "$1" "$appname" "$W/pg_$2/socket" "${pgport[$2]}" "$3" "$4" "$5"; }
# backend TARGET [STATE]: the pid of the application's session on TARGET (in STATE).
backend() {
  sql_on "$1" "SELECT pid FROM pg_stat_activity WHERE usename = '$app' AND datname = '$db'
                 AND application_name = '$appname' AND $(state_condition "${@:2}")"
}
idle_in_tx_everywhere() {
  local t
  for t in "${targets[@]}"; do [ -n "$(backend "$t" "idle in transaction")" ] || { echo "$t: no session idle in transaction"; return 1; }; done
}
for t in "${targets[@]}"; do
  session "$t" "$t" "$app" "$db" "BEGIN; UPDATE accounts SET balance = balance - 1 WHERE id = 2;"
done
eventually 15 "a session of $app in $db ($appname) idle in transaction on each of alpha, bravo, charlie" idle_in_tx_everywhere
declare -A pid=()
for t in "${targets[@]}"; do pid[$t]=$(backend "$t"); done
echo "     backends: alpha ${pid[alpha]}, bravo ${pid[bravo]}, charlie ${pid[charlie]}"
[ "$failed" -eq 0 ] || finish_all

# --- Configuration -----------------------------------------------------------------------------------
python3 -c 'import secrets; print(secrets.token_urlsafe(24))' >"$W/webhook.token"
chmod 600 "$W/webhook.token"
{
  echo "# pgwarden's config for checks/fleet.sh: three targets, one rule."
  echo "targets:"
  for t in "${targets[@]}"; do
    echo "  - name: $t"
    echo "    dsn: \"host=$W/pg_$t/socket port=${pgport[$t]} dbname=postgres user=$warden\""
    echo "    labels: {cluster: fleet-check, env: ${target_env[$t]}}"
  done
  cat <<EOF
protected_roles: [postgres]
rules:
  - name: idle-in-transaction
    match:
      alertname: $alert
      labels: {pgwarden: remediate}
    target_labels: {cluster: fleet-check}   # every target of this file
    action: terminate
    states: ["idle in transaction", "idle in transaction (aborted)"]
    min_state_age: 2s
    require_labels: [datname, usename]
    max_sessions_per_alert: 10
EOF
} >"$W/cfg/fleet.yml"

# The alert: sessions idle in a transaction for more than 3s, in production only (the env label
# comes from pgwarden's /targets through service discovery).
cat >"$W/cfg/fleet-check.rules.yml" <<EOF
groups:
  - name: fleet-check
    rules:
      - alert: $alert
        expr: |
          max without(state) (
            pg_session_state_age_max_seconds{env="prod", state=~"idle in transaction|idle in transaction \\\\(aborted\\\\)"}
          ) > 3
        for: 1s
        labels:
          severity: warning
          pgwarden: remediate
EOF

# edit IN OUT [PATTERN REPLACEMENT COUNT]...: OUT is IN with each regular expression replaced,
# where it must match exactly COUNT times (so a change to the examples fails this check instead
# of silently testing something else).
edit() {
  python3 - "$@" <<'PY'
import re, sys
src, out, edits = sys.argv[1], sys.argv[2], sys.argv[3:]
text, errors = open(src).read(), []
for i in range(0, len(edits), 3):
    pattern, repl, count = edits[i], edits[i + 1], int(edits[i + 2])
    text, n = re.subn(pattern, lambda m: m.expand(repl), text, flags=re.M)
    if n != count:
        errors.append(f"{src}: expected {count} match(es) of /{pattern}/, found {n}")
open(out, "w").write(text)
print("\n".join(errors))
sys.exit(1 if errors else 0)
PY
}
# Prometheus: examples/prometheus-fleet.yml with 1s intervals, the test's addresses, and the
# repository's rules plus the check's alert.
make_prometheus_config() {
  edit examples/prometheus-fleet.yml "$W/cfg/prometheus.yml" \
    '^(\s*)scrape_interval:\s*15s[ \t]*$' '\1scrape_interval: 1s' 1 \
    '^(\s*)scrape_timeout:\s*10s[ \t]*$' '\1scrape_timeout: 1s' 2 \
    '^(\s*)evaluation_interval:\s*15s[ \t]*$' '\1evaluation_interval: 1s' 1 \
    '^(\s*)refresh_interval:\s*1m[ \t]*$' '\1refresh_interval: 1s' 1 \
    '127\.0\.0\.1:9793' "127.0.0.1:$pgw_port" 3 \
    "'127\.0\.0\.1:9093'" "'127.0.0.1:$am_port'" 1 \
    '^(\s*)- \.\./alerts/\*\.rules\.yml[ \t]*$' "\\1- $root/alerts/*.rules.yml\\n\\1- $W/cfg/fleet-check.rules.yml" 1
}
# Alertmanager: examples/alertmanager.yml with 1s group timings, the test's pgwarden and token,
# and the humans' receiver pointed at a sink.
make_alertmanager_config() {
  edit examples/alertmanager.yml "$W/cfg/alertmanager.yml" \
    '^(\s*)group_wait:\s*(30s|10s)[ \t]*$' '\1group_wait: 1s' 2 \
    '^(\s*)group_interval:\s*(5m|1m)[ \t]*$' '\1group_interval: 1s' 2 \
    'http://127\.0\.0\.1:9793/webhook' "$PGW/webhook" 1 \
    '^(\s*)credentials_file:\s*/etc/pgwarden/webhook\.token[ \t]*$' "\\1credentials_file: $W/webhook.token" 1 \
    'http://127\.0\.0\.1:9099/alerts' "http://127.0.0.1:$sink_port/alerts" 1
}
check "Prometheus configuration from examples/prometheus-fleet.yml (1s intervals, the test's addresses)" make_prometheus_config
check "Alertmanager configuration from examples/alertmanager.yml (1s group timings, the test's webhook)" make_alertmanager_config
check "promtool check config of the generated Prometheus configuration" promtool check config "$W/cfg/prometheus.yml"
[ "$failed" -eq 0 ] || finish_all

# --- Services ---------------------------------------------------------------------------------------
"$pgwarden_bin" serve --web.listen-address="127.0.0.1:$pgw_port" --config.file="$W/cfg/fleet.yml" \
  --webhook.token-file="$W/webhook.token" </dev/null >"$W/pgwarden.log" 2>&1 &
svc_pid[pgwarden]=$!
http_ok() { curl -fsS -o /dev/null --max-time 2 "$1"; }
eventually 15 "pgwarden serves /healthz in fleet mode" http_ok "$PGW/healthz"
[ "$failed" -eq 0 ] || finish_all
# Prometheus starts once pgwarden answers, so its first service discovery finds the targets.
python3 "$root/checks/e2e/sink.py" "$sink_port" "$W/humans.jsonl" </dev/null >"$W/humans-sink.log" 2>&1 &
svc_pid[sink]=$!
prometheus-alertmanager --config.file="$W/cfg/alertmanager.yml" --storage.path="$W/am" \
  --web.listen-address="127.0.0.1:$am_port" --cluster.listen-address= </dev/null >"$W/alertmanager.log" 2>&1 &
svc_pid[alertmanager]=$!
prometheus --config.file="$W/cfg/prometheus.yml" --storage.tsdb.path="$W/prom" \
  --web.listen-address="127.0.0.1:$prom_port" </dev/null >"$W/prometheus.log" 2>&1 &
svc_pid[prometheus]=$!

# --- pgwarden's endpoints ---------------------------------------------------------------------------
sd_is() {
  local got want
  got=$(q sd-targets "$PGW") || return 1
  want=$(printf '%s\n' "alpha cluster=fleet-check env=staging" "bravo cluster=fleet-check env=prod" \
                       "charlie cluster=fleet-check env=staging")
  echo "got: $got"
  [ "$got" = "$want" ]
}
check "/targets lists alpha, bravo, charlie with their labels (Prometheus HTTP SD format)" sd_is
probe_has() { curl -fsS --max-time 5 -o "$W/probe.txt" "$PGW/probe?target=$1" && grep -x "$2" "$W/probe.txt"; }
for t in "${targets[@]}"; do
  check "/probe?target=$t answers pg_up 1" probe_has "$t" "pg_up 1"
done
code_is() {
  local want=$1 url=$2 body got
  body=$(curl -sS --max-time 5 -o "$W/body" -w '%{http_code}' "$url"); got=$body
  echo "HTTP $got: $(head -c 300 "$W/body")"
  [ "$got" = "$want" ] && { [ $# -lt 3 ] || grep -q "$3" "$W/body"; }
}
check "/probe?target=delta (not a target) answers 400 naming it" code_is 400 "$PGW/probe?target=delta" '"delta"'
check "/probe without a target answers 400" code_is 400 "$PGW/probe"
check "/probe?target=alpha&target=bravo answers 400 (one target per probe)" code_is 400 "$PGW/probe?target=alpha&target=bravo"
own_metrics() {
  curl -fsS --max-time 5 "$PGW/metrics" >"$W/metrics.txt" || return 1
  grep -qx "pgwarden_targets 3" "$W/metrics.txt" && ! grep -q "^pg_up" "$W/metrics.txt"
}
check "/metrics carries pgwarden's own metrics (pgwarden_targets 3), no target's pg_up" own_metrics

# --- Prometheus discovers and probes the fleet ------------------------------------------------------
eventually 20 "Prometheus ready" http_ok "$PROM/-/ready"
eventually 15 "Alertmanager ready" http_ok "$AM/-/ready"
[ "$failed" -eq 0 ] || finish_all
# series_are EXPR LABELS EXPECTED-LINES...: the query's series (LABELS' values and the value).
series_are() {
  local expr=$1 labels=$2 got want; shift 2
  # shellcheck disable=SC2086
  got=$(q prom "$PROM" "$expr" $labels) || return 1
  want=$(printf '%s\n' "$@")
  echo "$expr: got"; echo "$got"; echo "want"; echo "$want"
  [ "$got" = "$want" ]
}
eventually 20 "Prometheus scrapes the three targets through /probe: up{job=\"postgres\"} is 1 with instance alpha, bravo, charlie" \
  series_are 'up{job="postgres"}' "instance" "alpha 1" "bravo 1" "charlie 1"
eventually 10 "pg_up is 1 for instance alpha, bravo, charlie, with their env and cluster labels from /targets" \
  series_are 'pg_up' "instance env cluster job" "alpha staging fleet-check postgres 1" \
    "bravo prod fleet-check postgres 1" "charlie staging fleet-check postgres 1"
scrape_urls() {
  curl -fsS "$PROM/api/v1/targets?state=active" | python3 -c '
import json, sys
port = sys.argv[1]
got = sorted(t["scrapeUrl"] for t in json.load(sys.stdin)["data"]["activeTargets"] if t["labels"].get("job") == "postgres")
want = ["http://127.0.0.1:%s/probe?target=%s" % (port, n) for n in ("alpha", "bravo", "charlie")]
print(got)
sys.exit(0 if got == want else 1)' "$pgw_port"
}
check "Prometheus' targets scrape http://127.0.0.1:$pgw_port/probe?target=NAME" scrape_urls
eventually 10 "Prometheus scrapes pgwarden's own /metrics (up{job=\"pgwarden\"} 1, pgwarden_targets 3)" \
  series_are 'pgwarden_targets' "instance job" "127.0.0.1:$pgw_port pgwarden 3"
# (Over the last 10 minutes: bravo's session may already be gone, the alert does not wait.)
eventually 10 "the same-named series on all three: pg_sessions{datname=\"$db\",usename=\"$app\",state=\"idle in transaction\"} 1 per instance" \
  series_are "max_over_time(pg_sessions{datname=\"$db\",usename=\"$app\",state=\"idle in transaction\"}[10m])" "instance" \
    "alpha 1" "bravo 1" "charlie 1"
[ "$failed" -eq 0 ] || finish_all

# --- The alert fires for bravo only; pgwarden ends bravo's session only ----------------------------
alerts_are() {
  local got want
  got=$(q alerts "$PROM" "$alert") || return 1
  want=$(printf '%s\n' "$@")
  echo "got: $got"
  [ "$got" = "$want" ]
}
# The alert fires only until pgwarden has acted and the next evaluation sees the session gone:
# Prometheus' ALERTS series keep the record, where a poll of the current alerts could miss it.
eventually 30 "$alert fires in Prometheus for instance $victim (ALERTS{alertstate=\"firing\"})" \
  series_are "group by (instance) (count_over_time(ALERTS{alertname=\"$alert\",alertstate=\"firing\"}[10m]))" "instance" "$victim 1"
# sink_count STATUS INSTANCE: notifications the humans' receiver got holding that alert.
sink_count() { python3 "$root/checks/e2e/probe.py" sink "$W/humans.jsonl" "$alert" "$1" instance="$2"; }
sink_at_least_one() { local n; n=$(sink_count "$@"); echo "$1 notifications about $2: ${n:-?}"; [ "${n:-0}" -ge 1 ]; }
eventually 15 "Alertmanager notifies the humans' receiver of the firing alert about $victim" sink_at_least_one firing "$victim"
acted() {
  local got
  got=$(q actions "$PGW" "$W/webhook.token") || return 1
  echo "got: $got"
  grep -qx "$victim ${pid[$victim]} idle-in-transaction terminate success" <<<"$got"
}
eventually 20 "Alertmanager calls pgwarden's webhook, which terminates $victim's session ${pid[$victim]} (/actions: target $victim, terminate, success)" acted
gone() { [ -z "$(sql_on "$victim" "SELECT pid FROM pg_stat_activity WHERE pid = ${pid[$victim]}")" ]; }
eventually 5 "$victim's backend ${pid[$victim]} is gone from pg_stat_activity" gone
send "$victim" "SELECT 'still connected';"
exited() { ! kill -0 "$1" 2>/dev/null; }
wait_until 10 exited "${ses_pid[$victim]}"
rc=0; wait "${ses_pid[$victim]}" 2>/dev/null || rc=$?
client_saw() {
  cat "$W/s/$victim.out"
  [ "$rc" = 2 ] && grep -q "terminating connection due to administrator command" "$W/s/$victim.out" &&
    ! grep -q "still connected" "$W/s/$victim.out"
}
check "$victim's client sees the termination (psql exit $rc)" client_saw

# The others: the same role, database and application_name, idle in a transaction for longer
# than the rule's min_state_age (the rule would take them), untouched.
survived() {
  local t=$1 row
  row=$(sql_on "$t" "SELECT pid, state, now() - state_change > interval '2 seconds' FROM pg_stat_activity
                      WHERE usename = '$app' AND datname = '$db' AND application_name = '$appname'")
  echo "$t: $row"
  [ "$row" = "${pid[$t]}|idle in transaction|t" ]
}
for t in alpha charlie; do
  check "$t's same-named session ${pid[$t]} survives, idle in transaction for more than min_state_age" survived "$t"
done
only_victim() {
  local got
  got=$(q actions "$PGW" "$W/webhook.token") || return 1
  echo "got: $got"
  [ -n "$got" ] && ! grep -qvE "^$victim " <<<"$got"
}
check "pgwarden's /actions holds records of target $victim only" only_victim
check "the alert was never pending or firing for alpha or charlie (ALERTS over the last 10m: instance $victim only)" \
  series_are "group by (instance) (count_over_time(ALERTS{alertname=\"$alert\"}[10m]))" "instance" "$victim 1"
acted_count() {
  local n
  n=$(curl -fsS --max-time 5 "$PGW/metrics" | awk '$1 == "pgwarden_webhook_alerts_total{outcome=\"acted\"}" {print $2}')
  echo "acted: ${n:-none}"
  awk -v n="$n" 'BEGIN { exit !(n != "" && n >= 1) }'
}
check "pgwarden_webhook_alerts_total{outcome=\"acted\"} counts it" acted_count

# Alerts that name no target, an unknown target or a look-alike of a target's name (Cyrillic а
# in "alphа") act on nothing, whatever their datname and usename.
webhook_is() {
  local want=$1 got; shift
  got=$(q webhook "$PGW" "$W/webhook.token" "$@") || return 1
  echo "got: $got"
  [ "$got" = "$want" ]
}
for instance in - "" delta "alphа" "alpha " "ALPHA"; do
  shown="instance \"$instance\""
  [ "$instance" = - ] && shown="no instance label"
  check "an alert with $shown (datname and usename of a real session) acts on nothing: 200, outcome unknown target" \
    webhook_is "200 unknown_target" "$instance" alertname="$alert" pgwarden=remediate datname="$db" usename="$app"
done
for t in alpha charlie; do
  check "$t's session ${pid[$t]} is still there after those alerts" survived "$t"
done
bad_token() {
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST -H 'Authorization: Bearer wrong' \
    -H 'Content-Type: application/json' --data '{"version":"4","status":"firing","alerts":[]}' "$PGW/webhook")
  echo "HTTP $code"
  [ "$code" = 401 ]
}
check "the webhook refuses a wrong token (401)" bad_token

eventually 20 "$alert resolves in Prometheus once $victim's session is gone" alerts_are ""
eventually 15 "Alertmanager sends the resolved notification (humans' receiver)" sink_at_least_one resolved "$victim"
no_notification() {
  local t n
  for t in alpha charlie; do
    n=$(( $(sink_count firing "$t") + $(sink_count resolved "$t") ))
    echo "$t: $n"
    [ "$n" = 0 ] || return 1
  done
}
check "the humans' receiver got no notification about alpha or charlie" no_notification

# --- The dashboard in fleet mode ---------------------------------------------------------------------
# Situations some panels need, on alpha: a blocked session behind an active blocker, a NOLOGIN
# role's session, a session in a database that no longer allows connections. (alpha's session
# still sits idle in its transaction; pgwarden has acted; the wrong token fed the webhook-errors
# panel.)
sql_on alpha "CREATE ROLE retired LOGIN" >/dev/null
sql_on alpha "CREATE DATABASE closed" >/dev/null
session blocker alpha "$app" "$db" "BEGIN; UPDATE accounts SET balance = balance + 1 WHERE id = 1; SELECT pg_sleep(120);"
blocker_active() { [ -n "$(sql_on alpha "SELECT pid FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%pg_sleep(120)%' AND pid <> pg_backend_pid()")" ]; }
wait_until 10 blocker_active
session blocked alpha "$app" "$db" "UPDATE accounts SET balance = balance + 1 WHERE id = 1;"
session retired alpha retired "$db" "SELECT 1;"
session closed alpha "$app" closed "SELECT 1;"
idle_pair() { [ "$(sql_on alpha "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle' AND (usename = 'retired' OR datname = 'closed')")" = 2 ]; }
wait_until 10 idle_pair
sql_on alpha "ALTER ROLE retired NOLOGIN; ALTER DATABASE closed ALLOW_CONNECTIONS false" >/dev/null
# A forgotten prepared transaction and a role with its idle-in-transaction timeout switched off
# (the panels of issue 15). The cluster, and the transaction with it, goes at clean-up.
psql_on alpha postgres "$db" -c "BEGIN; SELECT 1; PREPARE TRANSACTION 'pgw-fleet-dashboard';" >/dev/null
sql_on alpha "ALTER ROLE retired SET idle_in_transaction_session_timeout = 0" >/dev/null
situations() {
  series_are "sum(pg_blocked_sessions{instance=\"alpha\"}) >= 1" "" 1 &&
  series_are "sum(pg_role_nologin_sessions{instance=\"alpha\",usename=\"retired\"}) >= 1" "" 1 &&
  series_are "sum(pg_database_disallowed_sessions{instance=\"alpha\",datname=\"closed\"}) >= 1" "" 1 &&
  series_are "sum(pg_prepared_transactions{instance=\"alpha\"}) >= 1" "" 1 &&
  series_are "count(pg_role_setting_seconds{instance=\"alpha\",usename=\"retired\"} == 0) >= 1" "" 1
}
eventually 15 "Prometheus sees alpha's blocked session, NOLOGIN role's session, session in a closed database, prepared transaction and switched-off timeout" situations
dashboard_check() {
  { curl -fsS "$PGW/metrics" && curl -fsS "$PGW/probe?target=alpha"; } >"$W/exposition.txt" || return 1
  local dashboards=("$root"/dashboards/*.json) rules=("$root"/alerts/*.rules.yml)
  python3 "$root/checks/e2e/check_dashboard.py" --prometheus "$PROM" --metrics "file://$W/exposition.txt" \
    --var instance=alpha --var "pgwarden=127.0.0.1:$pgw_port" --wait 20 --rules "${rules[@]}" -- "${dashboards[@]}" \
    >"$W/dashboards.out" 2>&1
}
dashboard_check
rc=$?
sed "s|$root/||g" "$W/dashboards.out"
passed=$((passed + $(grep -c '^PASS:' "$W/dashboards.out")))
failed=$((failed + $(grep -c '^FAIL:' "$W/dashboards.out")))
if [ "$rc" -ne 0 ] && ! grep -q '^FAIL:' "$W/dashboards.out"; then
  cp "$W/dashboards.out" "$log"; fail "checks/e2e/check_dashboard.py ran (exit $rc)"
fi

# --- The survivors' clients still work ----------------------------------------------------------------
for t in alpha charlie; do
  send "$t" "SELECT '$t still connected'; COMMIT;"
  wait_until 10 exited "${ses_pid[$t]}"
  check "$t's client still runs statements and commits" grep -q "$t still connected" "$W/s/$t.out"
done

# --- Sharding: examples/prometheus-shards.yml and examples/alertmanager-shards.yml -------------------
# Every shard is pointed at this pgwarden (shards share one targets list); promtool runs each
# shard job's service discovery and relabelling.
make_shards_config() {
  edit examples/prometheus-shards.yml "$W/cfg/prometheus-shards.yml" \
    'pgwarden-([0-9])\.example\.com:9793' "127.0.0.1:$pgw_port" 9 \
    '^(\s*)- \.\./alerts/\*\.rules\.yml[ \t]*$' "\\1- $root/alerts/*.rules.yml" 1
}
check "sharding configuration from examples/prometheus-shards.yml (every shard at this pgwarden)" make_shards_config
shard_of() { # the shard whose job kept target $1, from the promtool outputs
  grep -h "^$1 " "$W"/shard-*.sd | awk '{print $2}'
}
# discover_shards SECONDS: runs the three shard jobs' discovery at once; promtool collects what
# the discovery finds for SECONDS.
discover_shards() {
  local s rc=0
  declare -A running=()
  for s in 0 1 2; do
    timeout 60 promtool check service-discovery --timeout="$1s" "$W/cfg/prometheus-shards.yml" "postgres-shard-$s" \
      >"$W/shard-$s.json" 2>"$W/shard-$s.err" &
    running[$s]=$!
  done
  for s in 0 1 2; do
    wait "${running[$s]}" || { cat "$W/shard-$s.err"; rc=1; }
  done
  [ "$rc" = 0 ] || return 1
  for s in 0 1 2; do
    q sd "$W/shard-$s.json" >"$W/shard-$s.sd" || return 1
    echo "shard $s:"; cat "$W/shard-$s.sd"
  done
}
shards_discover() {
  # 3s is plenty for one HTTP request to this pgwarden; a loaded machine gets a second, longer try.
  { discover_shards 3 && shards_ok; } || { discover_shards 15 && shards_ok; }
}
shards_ok() {
  local t n
  for t in "${targets[@]}"; do
    n=$(cat "$W"/shard-*.sd | awk -v t="$t" '$1 == t' | wc -l)
    [ "$n" = 1 ] || { echo "$t kept by $n shard jobs"; return 1; }
    grep -qxFh "$t $(shard_of "$t") postgres $t 127.0.0.1:$pgw_port ${target_env[$t]}" "$W"/shard-*.sd ||
      { echo "$t: unexpected labels"; return 1; }
    grep -qx "$t .*" "$W/shard-$(shard_of "$t").sd" || { echo "$t: pgwarden_shard is not its job's"; return 1; }
  done
  [ "$(cat "$W"/shard-*.sd | awk '{print $2}' | sort -u | paste -sd,)" = "0,1,2" ] || { echo "not every shard owns a target"; return 1; }
}
check "promtool check service-discovery: each target is probed by exactly one shard job (hashmod 3), with instance, job=postgres, pgwarden_shard, env" \
  shards_discover
for t in "${targets[@]}"; do
  s=$(shard_of "$t")
  check "amtool: a remediation alert about $t (pgwarden_shard=${s:-?}) goes to receivers pgwarden-${s:-?} and humans" \
    amtool config routes test --config.file=examples/alertmanager-shards.yml --verify.receivers="pgwarden-${s:-?},humans" \
      alertname=PostgresIdleInTransactionTooLong pgwarden=remediate instance="$t" pgwarden_shard="${s:-?}" \
      job=postgres datname="$db" usename="$app"
done

# --- examples/fleet.yml loads ----------------------------------------------------------------------------
# Its password files pointed at a test file; pgwarden connects lazily, so its hosts need not exist.
example_loads() {
  printf 'not-a-real-password\n' >"$W/example.password" && chmod 600 "$W/example.password" &&
  edit examples/fleet.yml "$W/cfg/example-fleet.yml" '^(\s*)password_file:\s*/etc/pgwarden/\S+[ \t]*$' \
    "\\1password_file: $W/example.password" 3 || return 1
  "$pgwarden_bin" serve --web.listen-address="127.0.0.1:$pgw2_port" --config.file="$W/cfg/example-fleet.yml" \
    --webhook.token-file="$W/webhook.token" </dev/null >"$W/pgwarden-example.log" 2>&1 &
  svc_pid[example]=$!
  wait_until 15 http_ok "http://127.0.0.1:$pgw2_port/healthz" || { cat "$W/pgwarden-example.log"; return 1; }
  local got want
  got=$(q sd-targets "http://127.0.0.1:$pgw2_port")
  want=$(printf '%s\n' "db1 cluster=main env=prod" "db2 cluster=main env=prod" "reporting cluster=reporting env=prod" \
                       "staging-db1 cluster=main env=staging")
  echo "got: $got"
  kill -TERM "${svc_pid[example]}"
  [ "$got" = "$want" ]
}
check "examples/fleet.yml loads (password files replaced) and /targets lists its four targets with their labels" example_loads

# --- A stopped cluster: pg_up 0 for it alone; back to 1 after a restart ------------------------------
stopped_at=$SECONDS
"$root/scripts/pg-cluster.sh" stop "$W/pg_charlie"
check "/probe?target=charlie answers pg_up 0 once charlie's cluster is stopped" probe_has charlie "pg_up 0"
eventually 15 "Prometheus: pg_up of charlie goes to 0, alpha's and bravo's stay 1" \
  series_are 'pg_up' "instance" "alpha 1" "bravo 1" "charlie 0"
eventually 5 "the probe job's up is 1 for all three (pgwarden answers charlie's probes)" \
  series_are 'up{job="postgres"}' "instance" "alpha 1" "bravo 1" "charlie 1"
# Not a blip: the lowest pg_up of alpha and bravo since charlie stopped is 1.
window=$((SECONDS - stopped_at + 2))
check "alpha's and bravo's pg_up stayed 1 all along (min_over_time over the last ${window}s)" \
  series_are "min_over_time(pg_up{instance=~\"alpha|bravo\"}[${window}s])" "instance" "alpha 1" "bravo 1"
"$root/scripts/pg-cluster.sh" restart "$W/pg_charlie"
eventually 15 "after charlie's restart pgwarden reconnects: pg_up of all three is 1" \
  series_are 'pg_up' "instance" "alpha 1" "bravo 1" "charlie 1"

finish_all
