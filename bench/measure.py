#!/usr/bin/env python3
"""Measurement helpers for bench/run.sh (standard library only). Each prints one JSON line.

  measure.py http URL COUNT PID POSTMASTER_PID
      COUNT sequential GETs of URL (a new TCP connection each, the same for both exporters):
      per-scrape latency from connect to the last body byte; CPU of process PID (utime+stime, all threads) and of every server process
      (children of POSTMASTER_PID) over the loop; PID's VmHWM after the loop.
  measure.py psql COUNT POSTMASTER_PID SQLFILE -- PSQL_ARGS...
      Runs the statement in SQLFILE COUNT times over one psql session with \\timing on and
      reports psql's per-statement times (sent until result received; no process start-up).
      Statements of a multi-statement file are joined with \\; so they go in one message.
  measure.py merge FILE
      Summary (median, p99, CPU per run, peak RSS) of the JSON lines that rounds of http or
      psql printed to FILE.
  measure.py extract-sql SERVER_LOG
      The longest statement pgwarden logged (log_min_duration_statement = 0), prefix %a.
"""
import http.client
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

TICKS = os.sysconf("SC_CLK_TCK")


def proc_cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # after the comm field: state is fields[0]; utime, stime are the 14th, 15th stat fields
    return int(fields[11]) + int(fields[12])


def children_cpu_ticks(ppid):
    total = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == ppid or int(name) == ppid:
                total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total


def vm_hwm_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def summary(times_ms):
    s = sorted(times_ms)
    p99 = s[max(0, math.ceil(0.99 * len(s)) - 1)]
    return {"count": len(s), "median_ms": statistics.median(s), "p99_ms": p99,
            "mean_ms": statistics.fmean(s), "min_ms": s[0], "max_ms": s[-1]}


def scrape(host, port, path, timeout=30.0):
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    t0 = time.perf_counter()
    conn.request("GET", path, headers={"Accept": "text/plain"})
    resp = conn.getresponse()
    body = resp.read()
    t1 = time.perf_counter()
    conn.close()
    if resp.status != 200:
        raise SystemExit(f"measure.py: GET {path} on port {port}: HTTP {resp.status}: {body[:200]!r}")
    return (t1 - t0) * 1000.0, body


def cmd_http(url, count, pid, pmpid):
    m = re.match(r"http://([^:/]+):(\d+)(/.*)", url)
    host, port, path = m.group(1), int(m.group(2)), m.group(3)
    cpu0, srv0 = proc_cpu_ticks(pid), children_cpu_ticks(pmpid)
    times, size, up = [], 0, None
    for _ in range(count):
        ms, body = scrape(host, port, path)
        times.append(ms)
        size = len(body)
    cpu1, srv1 = proc_cpu_ticks(pid), children_cpu_ticks(pmpid)
    mu = re.search(rb"^pg_up (\S+)$", body, re.M)
    up = mu.group(1).decode() if mu else "?"
    print(json.dumps({"samples": times, "cpu_ticks": cpu1 - cpu0, "server_ticks": srv1 - srv0,
                      "peak_rss_mb": vm_hwm_kb(pid) / 1024.0, "body_bytes": size, "pg_up": up}))


def cmd_psql(count, pmpid, sqlfile, psql_args):
    sql = open(sqlfile).read().strip().rstrip(";")
    statements = [s.strip() for s in sql.split(";\n") if s.strip()]
    one = " \\;\n".join(statements) + ";\n"
    # \prompt (reading stdin under -f) pauses psql before and after the loop, while its backend
    # is alive, so the server's CPU is read with that backend still counted.
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write("\\prompt 'START\\n' go\n\\timing on\n")
        f.write(one * count)
        f.write("\\timing off\n\\prompt 'DONE\\n' go\n")
        script = f.name
    try:
        proc = subprocess.Popen(psql_args + ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-o", "/dev/null", "-f", script],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines, marks = [], {}
        deadline = time.monotonic() + 600
        for line in proc.stdout:
            if time.monotonic() > deadline:
                proc.kill()
                raise SystemExit("measure.py: psql took over 600 s")
            word = line.strip()
            if word in ("START", "DONE"):
                marks[word] = children_cpu_ticks(pmpid)
                proc.stdin.write("\n")
                proc.stdin.flush()
                if word == "DONE":
                    proc.stdin.close()
            else:
                lines.append(line)
        err = proc.stderr.read()
        proc.wait(timeout=60)
    finally:
        os.unlink(script)
    if proc.returncode != 0 or len(marks) != 2:
        raise SystemExit(f"measure.py: psql failed: {err.strip()[:500]}")
    out_text = "".join(lines)
    times = [float(x) for x in re.findall(r"^Time: ([0-9.]+) ms", out_text, re.M)]
    if len(times) != count:
        raise SystemExit(f"measure.py: expected {count} timings from psql, got {len(times)}")
    print(json.dumps({"samples": times, "server_ticks": marks["DONE"] - marks["START"]}))


def cmd_merge(path):
    """Merges the JSON lines of several rounds of one tool into its summary."""
    rounds = [json.loads(line) for line in open(path) if line.strip()]
    times = [t for r in rounds for t in r["samples"]]
    out = summary(times)
    out["server_cpu_ms_per_scrape"] = sum(r["server_ticks"] for r in rounds) * 1000.0 / TICKS / len(times)
    if "cpu_ticks" in rounds[0]:
        out["cpu_ms_per_scrape"] = sum(r["cpu_ticks"] for r in rounds) * 1000.0 / TICKS / len(times)
        out["peak_rss_mb"] = max(r["peak_rss_mb"] for r in rounds)
        out["body_bytes"] = rounds[-1]["body_bytes"]
        out["pg_up"] = "1" if all(r["pg_up"] == "1" for r in rounds) else "0"
    print(json.dumps(out))


def cmd_extract_sql(logfile):
    """pgwarden's scrape statement from the server log, runnable in psql.

    pgwarden prepares it once and then executes it with two parameters ($1: the pids of its
    other connections; $2: the configuration load time it holds settings for), so the log shows
    `execute pgwarden_scrape: <sql>` followed by a `DETAIL:  parameters: $1 = '...', $2 = ...`
    entry; the parameters are inlined as literals. The logged $2 is the load time pgwarden held
    before the reload that turned the statement log on, so in psql the settings branch runs
    every time: the cost of pgwarden's first scrape on a connection or after a reload."""
    text = open(logfile, errors="replace").read()
    # Entries start with the %m timestamp; continuation lines of a statement do not.
    entries = re.split(r"\n(?=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", text)
    best, params = "", {}
    for i, e in enumerate(entries):
        m = re.search(r"\] pgwarden LOG:  duration: [0-9.]+ ms  (?:statement|execute [^:]+): (.*)", e, re.S)
        if m and "pg_stat_get_activity" in m.group(1) and len(m.group(1)) >= len(best):
            best, params = m.group(1), {}
            if i + 1 < len(entries):
                d = re.search(r"DETAIL:  parameters: (.*)", entries[i + 1], re.S)
                if d:
                    params = dict(re.findall(r"\$(\d+) = ('(?:[^']|'')*'|NULL)", d.group(1)))
    if not best:
        raise SystemExit("measure.py: no pgwarden statement in the server log")
    for n in sorted(params, key=int, reverse=True):
        best = best.replace("$" + n, params[n])
    print(best.rstrip("\n"))


def main(argv):
    if len(argv) < 2:
        raise SystemExit(__doc__)
    if argv[1] == "http":
        cmd_http(argv[2], int(argv[3]), int(argv[4]), int(argv[5]))
    elif argv[1] == "psql":
        sep = argv.index("--")
        cmd_psql(int(argv[2]), int(argv[3]), argv[4], argv[sep + 1:])
    elif argv[1] == "merge":
        cmd_merge(argv[2])
    elif argv[1] == "extract-sql":
        cmd_extract_sql(argv[2])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
