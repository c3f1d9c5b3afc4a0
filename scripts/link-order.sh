#!/usr/bin/env bash
# Rewrites link/pgwarden.order, the symbol ordering file of the release link (scripts/build-release.sh):
# the functions pgwarden runs when it starts and serves /metrics, then those the webhook adds, then
# the protocol conformance descriptors (read by every conformance lookup). The release link places
# them first and together, so the 64 KB the kernel maps around each page fault hold code that runs.
#   scripts/link-order.sh [BIN]     (BIN: a release binary to profile; default: build one)
# Environment: OUT (default link/pgwarden.order), N (sessions held while profiling, 200).
# Needs valgrind (apt-get install valgrind) and PostgreSQL (scripts/deps.sh test). Takes ~2 min.
# When to run: after changes that add or move much code on the scrape or webhook path (a new
# collector, a new dependency, a Swift toolchain upgrade); bench/rss.sh shows what it is worth. A
# stale file is harmless: names that no longer exist are ignored, and new code is merely placed
# among the cold code. The profile counts which functions run, not how long, so the file does not
# depend on the machine or its load. Commit the file it writes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
out=${OUT:-$root/link/pgwarden.order}
N=${N:-200}
command -v valgrind >/dev/null || { echo "link-order.sh: valgrind missing (apt-get install valgrind)" >&2; exit 1; }
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
[ -x "$bindir/psql" ] || { echo "link-order.sh: no PostgreSQL found; run scripts/deps.sh test" >&2; exit 1; }
swift_bin=$(dirname "$(readlink -f "$(command -v swift)")")

if [ $# -gt 0 ]; then
  bin=$1
else
  "$root/scripts/build-release.sh" >&2
  bin=$root/.build/release/pgwarden
fi

work=$(mktemp -d /tmp/pgwarden-link-order.XXXXXX)
chmod 755 "$work"
holder_pid="" warden_pid=""
cleanup() {
  [ -n "$warden_pid" ] && kill "$warden_pid" 2>/dev/null || true
  [ -n "$holder_pid" ] && kill "$holder_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  "$root/scripts/pg-cluster.sh" stop "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# valgrind 3.19 cannot read the DWARF 5 the Swift toolchain writes: profile a copy without it
# (same code, same addresses, same symbol table).
"$swift_bin/llvm-objcopy" --strip-debug "$bin" "$work/pgwarden"

cc -O2 -o "$work/holder" "$root/bench/holder.c" -I"$(pg_config --includedir)" -L"$(pg_config --libdir)" -lpq
port=$("$root/scripts/pg-cluster.sh" start "$work/pg" 0 "max_connections = $((N + 50))")
sql() { "$bindir/psql" -X -h "$work/pg/socket" -p "$port" -U postgres -d postgres -qAt -v ON_ERROR_STOP=1 "$@"; }
sql -c "CREATE DATABASE benchapp" >/dev/null
for r in 1 2 3 4; do sql -c "CREATE ROLE bench_app$r LOGIN" >/dev/null; done
"$work/holder" "host=$work/pg/socket port=$port" "$N" 600 >"$work/holder.out" 2>"$work/holder.err" &
holder_pid=$!
for _ in $(seq 240); do grep -q '^ready' "$work/holder.out" 2>/dev/null && break; sleep 0.25; done
grep -q '^ready' "$work/holder.out" || { echo "link-order.sh: holder failed" >&2; cat "$work/holder.err" >&2; exit 1; }

alert() {  # alert ALERTNAME: an Alertmanager notification with one firing alert
  printf '{"version":"4","status":"firing","receiver":"x","groupKey":"k","truncatedAlerts":0,"groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://x","alerts":[{"status":"firing","labels":{"alertname":"%s","pgwarden":"remediate"},"annotations":{},"startsAt":"2026-01-01T00:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"","fingerprint":"abc"}]}' "$1"
}
# A dry-run policy that matches the alerts sent below (dry run: nothing is signalled).
cat >"$work/policy.yml" <<'EOF'
protected_roles: [postgres]
dry_run: true
rules:
  - name: idle-in-transaction
    match: {alertname: PostgresIdleInTransactionTooLong, labels: {pgwarden: remediate}}
    action: terminate
    states: ["idle in transaction", "idle in transaction (aborted)"]
  - name: blockers
    match: {alertname: OrderBlocking}
    action: cancel_then_terminate
    grace_period: 1s
    only_blocking: true
EOF

profile() {  # profile MODE [pgwarden arguments...]
  local mode=$1 wport k
  shift
  wport=$(free_port)
  valgrind --tool=callgrind --demangle=no --dump-instr=no --callgrind-out-file="$work/cg.$mode" \
    "$work/pgwarden" --web.listen-address "127.0.0.1:$wport" \
    --dsn "host=127.0.0.1 port=$port user=postgres password=postgres dbname=postgres" \
    --db.statement-timeout 60s --db.connect-timeout 60s "$@" \
    >"$work/$mode.log" 2>&1 &
  warden_pid=$!
  for _ in $(seq 600); do
    curl -fsS -o /dev/null --max-time 5 "http://127.0.0.1:$wport/healthz" 2>/dev/null && break
    kill -0 "$warden_pid" 2>/dev/null || { cat "$work/$mode.log" >&2; exit 1; }
    sleep 0.2
  done
  for _ in 1 2 3; do
    k=()
    for _ in 1 2 3 4; do curl -fsS -o /dev/null --max-time 300 "http://127.0.0.1:$wport/metrics" & k+=($!); done
    wait "${k[@]}"
  done
  if [ "$mode" = webhook ]; then
    for a in Nothing PostgresIdleInTransactionTooLong OrderBlocking; do
      alert "$a" | curl -fsS -o /dev/null --max-time 300 -H 'Content-Type: application/json' --data-binary @- \
        "http://127.0.0.1:$wport/webhook"
    done
    curl -fsS -o /dev/null --max-time 300 "http://127.0.0.1:$wport/metrics"
  fi
  kill -TERM "$warden_pid"
  wait "$warden_pid" || true
  warden_pid=""
  [ -s "$work/cg.$mode" ] || { echo "link-order.sh: no profile for $mode" >&2; cat "$work/$mode.log" >&2; exit 1; }
}
profile exporter
# Under valgrind pgwarden runs ~50x slower: deadlines long enough that no request times out.
profile webhook --config.file "$work/policy.yml" --webhook.allow-unauthenticated --webhook.timeout 300s

mkdir -p "$(dirname "$out")"
python3 - "$work/pgwarden" "$work/cg.exporter" "$work/cg.webhook" >"$out.tmp" <<'EOF'
import re, subprocess, sys
binary = sys.argv[1]

def executed(path):
    """Functions of `binary` that ran, from a callgrind profile (names stay mangled)."""
    obs, fns, found = {}, {}, set()
    ob = cob = None
    for line in open(path, errors="replace"):
        m = re.match(r"^(ob|cob|fn|cfn)=\((\d+)\)(?: (.*))?$", line.rstrip("\n"))
        if not m:
            continue
        kind, ident, name = m.groups()
        if kind in ("ob", "cob"):
            if name:
                obs[ident] = name
            if kind == "ob":
                ob, cob = obs[ident], None
            else:
                cob = obs[ident]
            continue
        if name:
            fns[ident] = name
        owner = ob if kind == "fn" else (cob or ob)
        if kind == "cfn":
            cob = None
        if owner == binary:
            found.add(re.sub(r"'\d+$", "", fns[ident]))
    return {f for f in found if not f.startswith("0x")}

exporter = executed(sys.argv[2])
webhook = executed(sys.argv[3]) - exporter
nm = subprocess.run(["nm", "--defined-only", binary], capture_output=True, text=True, check=True).stdout
conformances = {l.split()[-1] for l in nm.splitlines() if l.split()[-1].endswith("Mc")}
print("\n".join(sorted(exporter) + sorted(webhook) + sorted(conformances - exporter - webhook)))
EOF
mv "$out.tmp" "$out"
echo "link-order.sh: wrote $out ($(wc -l <"$out") symbols)" >&2
