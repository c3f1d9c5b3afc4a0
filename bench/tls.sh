#!/usr/bin/env bash
# Scrapes over TLS against plain HTTP, pgwarden and postgres_exporter side by side: both read the
# same exporter-toolkit web configuration (--web.config.file) with the same certificate, against
# one throwaway cluster holding N sessions (bench/rss.sh's holder).
#   bench/tls.sh [BIN]     (no BIN: build .build/release/pgwarden with release/build.sh)
# Environment: N (2000), SCRAPES (200 per row).
# Each row: SCRAPES sequential scrapes, either each on a new connection (a full TLS handshake per
# scrape: what Prometheus does when its scrape interval is longer than the exporter's idle timeout,
# 10 s for pgwarden) or all on one kept-alive connection. Reported: median and p99 latency, the
# exporter's CPU per scrape, and its peak RSS (VmHWM) after the run. Loopback only.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
N=${N:-2000}
SCRAPES=${SCRAPES:-200}
work=$(mktemp -d /tmp/pgwarden-tls-bench.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  RSS_WORK=$work/rss "$here/rss.sh" teardown >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

"$root/scripts/deps.sh" bench
command -v openssl >/dev/null || { echo "tls.sh: openssl missing (apt-get install openssl)" >&2; exit 1; }
if [ $# -gt 0 ]; then bin=$1; else "$root/release/build.sh" >&2; bin=$root/.build/release/pgwarden; fi

RSS_WORK=$work/rss N=$N "$here/rss.sh" setup >&2
port=$(cat "$work/rss/port")
dsn_kv="host=127.0.0.1 port=$port user=postgres password=postgres dbname=postgres sslmode=disable gssencmode=disable"
dsn_url="postgresql://postgres:postgres@127.0.0.1:$port/postgres?sslmode=disable"

# One CA and a server certificate for 127.0.0.1 (ECDSA P-256, as exporters' docs suggest).
tls=$work/tls
mkdir -p "$tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=bench CA" \
  -keyout "$tls/ca.key" -out "$tls/ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
  -keyout "$tls/server.key" -out "$tls/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$tls/ext"
openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" -CAcreateserial -days 2 \
  -extfile "$tls/ext" -out "$tls/server.crt" 2>/dev/null
printf 'tls_server_config:\n  cert_file: %s\n  key_file: %s\n' "$tls/server.crt" "$tls/server.key" >"$tls/web.yml"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start() {  # start NAME SCHEME CMD... -> sets url, pid
  local name=$1 scheme=$2 p
  shift 2
  p=$(free_port)
  "$@" --web.listen-address "127.0.0.1:$p" >"$work/$name.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  url="$scheme://127.0.0.1:$p/metrics"
  for _ in $(seq 100); do
    curl -fsS --cacert "$tls/ca.crt" -o /dev/null --max-time 10 "$url" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "tls.sh: $name did not answer on $url" >&2; cat "$work/$name.log" >&2; exit 1
}

measure() {  # measure LABEL URL PID
  python3 - "$1" "$2" "$3" "$SCRAPES" "$tls/ca.crt" <<'PY'
import http.client, os, ssl, statistics, sys, time, urllib.parse
label, url, pid, count, ca = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
u = urllib.parse.urlparse(url)
context = ssl.create_default_context(cafile=ca) if u.scheme == "https" else None
ticks = os.sysconf("SC_CLK_TCK")
def cpu():
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])
def connect():
    if context:
        return http.client.HTTPSConnection(u.hostname, u.port, context=context, timeout=30)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=30)
for mode in ("new connection", "kept alive"):
    times, conn = [], None
    start = cpu()
    for _ in range(count):
        t0 = time.perf_counter()
        if conn is None or mode == "new connection":
            if conn: conn.close()
            conn = connect()
        conn.request("GET", u.path)
        r = conn.getresponse(); r.read()
        if r.status != 200: sys.exit(f"{label}: HTTP {r.status}")
        times.append((time.perf_counter() - t0) * 1000)
    conn.close()
    used = (cpu() - start) / ticks * 1000 / count
    hwm = next(int(l.split()[1]) for l in open(f"/proc/{pid}/status") if l.startswith("VmHWM")) / 1024
    times.sort()
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    print(f"| {label} | {mode} | {count} | {statistics.median(times):.2f} | {p99:.2f} | {used:.2f} | {hwm:.1f} |")
PY
}

echo "pgwarden vs prometheus-postgres-exporter, plain HTTP and TLS (same certificate, same web configuration"
echo "format), N=$N sessions, $SCRAPES scrapes per row; load average at start: $(cut -d' ' -f1 /proc/loadavg)."
echo
echo "| exporter | connection | runs | median ms | p99 ms | CPU ms/scrape | peak RSS MB |"
echo "|---|---|---:|---:|---:|---:|---:|"
start pgwarden-http http "$bin" --dsn "$dsn_kv"
measure "pgwarden, HTTP" "$url" "$pid"
start pgwarden-tls https "$bin" --dsn "$dsn_kv" --web.config.file "$tls/web.yml"
measure "pgwarden, TLS" "$url" "$pid"
start exporter-http http env DATA_SOURCE_NAME="$dsn_url" prometheus-postgres-exporter
measure "postgres_exporter, HTTP" "$url" "$pid"
start exporter-tls https env DATA_SOURCE_NAME="$dsn_url" prometheus-postgres-exporter --web.config.file "$tls/web.yml"
measure "postgres_exporter, TLS" "$url" "$pid"
echo
echo "Load average at the end: $(cut -d' ' -f1 /proc/loadavg)."
