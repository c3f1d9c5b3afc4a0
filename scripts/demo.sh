#!/usr/bin/env bash
# make demo: installs what is missing, builds, starts a throwaway PostgreSQL with sessions in
# several states, and runs pgwarden against it (webhook in dry-run) until Ctrl-C.
# DEMO_SECONDS=N stops it by itself after N seconds; DEMO_PORT picks pgwarden's port (default 9793).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

scripts/deps.sh demo
echo "demo: building pgwarden"
swift build 2>&1 | grep -E "error|warning: unre|Compiling pgwarden|Build complete" || true
bin=$root/.build/debug/pgwarden
test -x "$bin" || { echo "demo: build failed" >&2; exit 1; }

work=$(mktemp -d /tmp/pgwarden-demo.XXXXXX)
chmod 755 "$work"
holders=()
pgwarden_pid=""
cleanup() {
  [ -n "$pgwarden_pid" ] && kill "$pgwarden_pid" 2>/dev/null || true
  for pid in "${holders[@]}"; do kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true; done
  "$root/scripts/pg-cluster.sh" stop "$work/pg" || true
  rm -rf "$work"
  echo "demo: stopped and cleaned up"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

port=$(scripts/pg-cluster.sh start "$work/pg")
sock=$work/pg/socket
psql_admin() { psql -h "$sock" -p "$port" -U postgres -d "${DB:-postgres}" -qAtX -v ON_ERROR_STOP=1 "$@"; }
echo "demo: PostgreSQL on 127.0.0.1:$port"

psql_admin <<'SQL'
CREATE ROLE app LOGIN PASSWORD 'app';
CREATE ROLE batch LOGIN PASSWORD 'batch' CONNECTION LIMIT 20;
CREATE ROLE retired LOGIN PASSWORD 'retired';
CREATE ROLE backup LOGIN PASSWORD 'backup';
CREATE DATABASE shop CONNECTION LIMIT 20;
SQL
DB=shop psql_admin <<'SQL'
CREATE TABLE orders (id int PRIMARY KEY, total numeric);
INSERT INTO orders SELECT g, g * 1.5 FROM generate_series(1, 100) g;
GRANT ALL ON orders TO app, batch, retired, backup;
SQL

# hold ROLE DB SQL: a session that runs SQL, then stays open. Each holder is its own process
# group (setsid), detached from our output, so cleanup can end the psql and its feeder together.
hold() {
  setsid bash -c '( printf "%s\n" "$1"; exec sleep 86400 ) | psql -h "$2" -p "$3" -U "$4" -d "$5" -qX' \
    _ "$3" "$sock" "$port" "$1" "$2" </dev/null >/dev/null 2>&1 &
  holders+=($!)
}
for _ in 1 2 3; do hold app shop "SELECT 1;"; done
hold app shop "BEGIN; SELECT * FROM orders WHERE id = 1;"
hold batch shop "BEGIN; UPDATE orders SET total = total WHERE id = 2;"
hold batch shop "BEGIN; SELECT 1/0;"
hold app shop "SELECT pg_sleep(86400);"
hold batch shop "BEGIN; LOCK TABLE orders IN SHARE MODE;"
sleep 0.5
hold app shop "UPDATE orders SET total = 0 WHERE id = 3;"
hold backup shop "BEGIN; SELECT count(*) FROM orders;"
hold retired shop "SELECT 1;"
for _ in 1 2 3 4 5 6; do hold batch postgres "SELECT 1;"; done
sleep 1
psql_admin -c "ALTER ROLE retired NOLOGIN" -c "ALTER ROLE batch CONNECTION LIMIT 4"

token=$work/webhook.token
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$token"
listen=127.0.0.1:${DEMO_PORT:-9793}
"$bin" --web.listen-address "$listen" \
  --dsn "host=$sock port=$port user=postgres dbname=postgres" \
  --config.file examples/pgwarden.yml --webhook.token-file "$token" --webhook.dry-run </dev/null &
pgwarden_pid=$!
for _ in $(seq 50); do curl -fs "http://$listen/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

cat <<MSG

demo: pgwarden is running
  metrics:  curl http://$listen/metrics
  landing:  http://$listen/
  sessions: $bin sessions --dsn "host=$sock port=$port user=postgres dbname=postgres" --database shop
  webhook (dry run): curl -H "Authorization: Bearer \$(cat $token)" -H 'Content-Type: application/json' \\
      -d '{"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"PostgresIdleInTransactionTooLong","datname":"shop"}}]}' \\
      http://$listen/webhook
Sessions held: idle, idle in transaction, aborted, a long query, a lock blocker and its waiter,
a NOLOGIN role's session, role 'batch' over its lowered connection limit. Ctrl-C stops everything.

MSG
curl -fs "http://$listen/metrics" | grep -E '^pg_(up|sessions\{datname="shop"|role_over|role_nologin|blocked_sessions)' || true

if [ -n "${DEMO_SECONDS:-}" ]; then
  sleep "$DEMO_SECONDS"
else
  wait "$pgwarden_pid"
fi
