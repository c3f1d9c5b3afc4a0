#!/usr/bin/env python3
"""Helpers for bench/webhook.sh (standard library only).

  webhook_measure.py payload ALERTNAME OUT
      Writes an Alertmanager webhook notification (version 4) with one firing alert.
  webhook_measure.py check-response BODY_FILE HTTP_CODE N [RESULT]
      Prints "ok" if the code is 200 and the body reports N sessions, all with result RESULT
      (default "success"); otherwise "fail: WHAT".
  webhook_measure.py psql-time OUTPUT_FILE N
      psql's output (-qAt, \\timing on) of a pg_terminate_backend query: prints the "Time:" in
      ms, a tab, and "ok" if there were N rows, all "t", otherwise "fail: WHAT".
  webhook_measure.py table N TARGET_MS TIMES_FILE
      TIMES_FILE holds lines "VARIANT<TAB>MS<TAB>ok|fail: WHAT"; prints the markdown table rows
      (all runs, failed or not), pgwarden's first with the verdict: PASS if its median is at most
      TARGET_MS and no run failed its check, else MISS.
  webhook_measure.py failures TIMES_FILE
      One line per variant with failed checks: how many, and the distinct reasons.
  webhook_measure.py server-log LOG APPLICATION_NAME
      Statement durations the server logged (log_min_duration_statement = 0, log_line_prefix
      '%m [%p] %a ') for APPLICATION_NAME, one line each, with the gap since the previous one.
"""
import datetime
import json
import math
import re
import statistics
import sys


def payload(alertname, out):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    labels = {"alertname": alertname, "severity": "warning", "pgwarden": "remediate"}
    body = {
        "version": "4",
        "groupKey": '{}:{alertname="%s"}' % alertname,
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "pgwarden",
        "groupLabels": {"alertname": alertname},
        "commonLabels": labels,
        "commonAnnotations": {"summary": "benchmark"},
        "externalURL": "http://127.0.0.1:9093",
        "alerts": [{
            "status": "firing",
            "labels": labels,
            "annotations": {"summary": "benchmark"},
            "startsAt": now,
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://127.0.0.1:9090/graph",
            "fingerprint": "0123456789abcdef",
        }],
    }
    with open(out, "w") as f:
        json.dump(body, f)


def check_response(body_file, code, n, want="success"):
    body = open(body_file, errors="replace").read()
    one_line = re.sub(r"\s+", " ", body)[:300]
    if code != "200":
        return f"fail: HTTP {code}: {one_line}"
    try:
        doc = json.loads(body)
        sessions = doc["alerts"][0]["sessions"]
    except (ValueError, KeyError, IndexError, TypeError) as e:
        return f"fail: unexpected response ({e}): {one_line}"
    results = {}
    for s in sessions:
        results[s["result"]] = results.get(s["result"], 0) + 1
    if results.get(want, 0) != n or len(sessions) != n:
        return (f"fail: expected {n} sessions with result {want}, got {results} (outcome "
                f"{doc['alerts'][0].get('outcome')!r})")
    return "ok"


def psql_time(path, n):
    rows, ms = [], None
    for line in open(path):
        line = line.strip()
        m = re.match(r"Time: ([0-9.]+) ms", line)
        if m:
            ms = float(m.group(1))
        elif line:
            rows.append(line)
    if ms is None:
        sys.exit(f"no 'Time:' line in the psql output: {open(path).read()[:500]}")
    if len(rows) != n or any(r != "t" for r in rows):
        counts = {r: rows.count(r) for r in sorted(set(rows))}
        print(f"{ms}\tfail: expected {n} rows 't', got {len(rows)} rows {counts}")
    else:
        print(f"{ms}\tok")


def pct(sorted_values, p):
    return sorted_values[max(0, math.ceil(p * len(sorted_values)) - 1)]


def table(n, target, path):
    """Rows: pgwarden's first (its median gets the verdict; any failed check is a MISS too)."""
    times, failed = {}, {}
    for line in open(path):
        variant, ms, status = line.rstrip("\n").split("\t", 2)
        times.setdefault(variant, []).append(float(ms))
        failed[variant] = failed.get(variant, 0) + (status != "ok")
    for variant in sorted(times, key=lambda v: (not v.startswith("pgwarden"), "dry" in v, v)):
        s = sorted(times[variant])
        verdict = ""
        if variant.startswith("pgwarden") and "dry" not in variant:
            ok = statistics.median(s) <= target and failed[variant] == 0
            verdict = " **PASS**" if ok else " **MISS**"
        print(f"| {n} | {variant} | {len(s)} | {statistics.median(s):.2f}{verdict} | {pct(s, 0.9):.2f} | {s[-1]:.2f} |")


def failures(path):
    failed, total = {}, {}
    for line in open(path):
        variant, _, status = line.rstrip("\n").split("\t", 2)
        total[variant] = total.get(variant, 0) + 1
        if status != "ok":
            failed.setdefault(variant, []).append(status.removeprefix("fail: "))
    for variant, reasons in failed.items():
        distinct = sorted(set(reasons))
        print(f"- {variant}: {len(reasons)}/{total[variant]} runs FAILED the check: " + " | ".join(distinct[:3]))


LINE = re.compile(r"^(\S+ \S+) \S+ \[(\d+)\] (\S*) (LOG|ERROR|WARNING|FATAL):\s+(.*)$")


def server_log(path, app):
    prev, others = None, 0
    for raw in open(path, errors="replace"):
        m = LINE.match(raw.rstrip("\n"))
        if not m or m.group(3) != app:
            continue
        stamp = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f")
        gap = "" if prev is None else f"(+{(stamp - prev).total_seconds() * 1000:.0f} ms) "
        prev = stamp
        text = re.sub(r"\s+", " ", m.group(5))
        d = re.match(r"duration: ([0-9.]+) ms\s+(.*)", text)
        if d:
            print(f"  {float(d.group(1)):9.3f} ms  {gap}{d.group(2)[:100]}")
        else:
            others += 1
            if others <= 5:
                print(f"  {m.group(4)}: {gap}{text[:110]}")
    if others > 5:
        print(f"  ... and {others - 5} more ERROR/WARNING lines")


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "payload" and len(argv) == 4:
        payload(argv[2], argv[3])
    elif cmd == "check-response" and len(argv) in (5, 6):
        print(check_response(argv[2], argv[3], int(argv[4]), *argv[5:]))
    elif cmd == "psql-time" and len(argv) == 4:
        psql_time(argv[2], int(argv[3]))
    elif cmd == "table" and len(argv) == 5:
        table(argv[2], float(argv[3]), argv[4])
    elif cmd == "failures" and len(argv) == 3:
        failures(argv[2])
    elif cmd == "server-log" and len(argv) == 4:
        server_log(argv[2], argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
