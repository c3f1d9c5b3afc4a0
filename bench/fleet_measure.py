#!/usr/bin/env python3
"""Measurement helpers for bench/fleet.sh (standard library only).

  fleet_measure.py free-ports COUNT
      COUNT distinct free TCP ports on 127.0.0.1, one a line (all bound at once, then released).
  fleet_measure.py run SPEC OUT
      Scrape rounds. SPEC (JSON): {"rounds", "warmup", "par", "postmasters": [pid...],
      "cluster_ports": [port...], "tools": [{"name", "pids": [pid...], "urls": [url...],
      "targets": [name...]}]}. A round asks every tool, one after another (the order rotates
      each round), for each of its URLs once: PAR requests at a time (1: one after another), each
      on a new connection, timed from connect to the last body byte. Around each tool's part of a
      round: CPU (utime+stime) of the tool's processes, and of every PostgreSQL process of the
      clusters (the postmasters' children, and through the postmasters' cutime/cstime the
      children that exited meanwhile). After the last round: each process's VmHWM, VmRSS, Pss,
      USS (smaps_rollup), file descriptors, threads and TCP connections to the clusters' ports.
      Writes the result as JSON to OUT; a failed request (not HTTP 200, a timeout, `pg_up 0`)
      is counted and reported, not retried.
  fleet_measure.py backends PORTS_PIDS_JSON
      Memory of PostgreSQL backends: reads {"CLASS": [pid...]} and prints, per class, the
      median Pss and USS (private) in kB and the count, from /proc/PID/smaps_rollup.
  fleet_measure.py report RESULT [BASELINE_TOOL FLEET_TOOL ...]
      Markdown tables of RESULT; each BASELINE_TOOL FLEET_TOOL pair adds a per-target latency
      comparison (FLEET_TOOL's median per target over BASELINE_TOOL's, same cluster).
"""
import concurrent.futures
import http.client
import json
import math
import os
import re
import socket
import statistics
import sys
import time

TICKS = os.sysconf("SC_CLK_TCK")
UP = re.compile(rb"^pg_up(?:\{[^}\n]*\})? (\S+)$", re.M)


def stat_fields(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def proc_ticks(pid):
    """utime + stime of a process (all its threads); 0 once it is gone."""
    try:
        f = stat_fields(pid)
        return int(f[11]) + int(f[12])
    except (OSError, IndexError, ValueError):
        return 0


def server_ticks(postmasters):
    """CPU of every PostgreSQL process of the clusters: each postmaster (with the CPU of its
    children that exited and were reaped: cutime, cstime) and its live children."""
    total = 0
    for pm in postmasters:
        try:
            f = stat_fields(pm)
            total += int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])
            with open(f"/proc/{pm}/task/{pm}/children") as c:  # the postmaster forks from its main thread
                children = c.read().split()
        except (OSError, IndexError, ValueError):
            continue
        total += sum(proc_ticks(int(child)) for child in children)
    return total


def status_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def rollup(pid):
    """Pss and USS (Private_Clean + Private_Dirty) in kB."""
    vals = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 2 and parts[0].endswith(":") and parts[1].isdigit():
                    vals[parts[0][:-1]] = int(parts[1])
    except OSError:
        pass
    return vals.get("Pss", 0), vals.get("Private_Clean", 0) + vals.get("Private_Dirty", 0)


def tcp_peers():
    """socket inode -> remote port, for established IPv4 TCP sockets."""
    peers = {}
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    p = line.split()
                    if p[3] == "01":  # ESTABLISHED
                        peers[p[9]] = int(p[2].rsplit(":", 1)[1], 16)
        except OSError:
            pass
    return peers


def proc_info(pid, cluster_ports, peers):
    fds, conns = 0, 0
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            fds += 1
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:["):
                if peers.get(link[8:-1]) in cluster_ports:
                    conns += 1
    except OSError:
        pass
    pss, uss = rollup(pid)
    return {"pid": pid, "vm_hwm_kb": status_kb(pid, "VmHWM"), "vm_rss_kb": status_kb(pid, "VmRSS"),
            "pss_kb": pss, "uss_kb": uss, "threads": status_kb(pid, "Threads"), "fds": fds,
            "pg_connections": conns}


def fetch(url, timeout):
    """(ms, body bytes, error or None); a new connection per request, as bench/measure.py does."""
    m = re.match(r"http://([^:/]+):(\d+)(/.*)", url)
    host, port, path = m.group(1), int(m.group(2)), m.group(3)
    t0 = time.perf_counter()
    try:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
        conn.request("GET", path, headers={"Accept": "text/plain"})
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
    except (OSError, http.client.HTTPException) as e:
        return (time.perf_counter() - t0) * 1000.0, 0, f"{type(e).__name__}: {e}"
    ms = (time.perf_counter() - t0) * 1000.0
    if resp.status != 200:
        return ms, len(body), f"HTTP {resp.status}: {body[:120]!r}"
    up = UP.search(body)
    if up is not None and up.group(1) != b"1":
        return ms, len(body), f"pg_up {up.group(1).decode()}"
    return ms, len(body), None


def cmd_free_ports(count):
    socks = []
    for _ in range(count):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    for s in socks:
        print(s.getsockname()[1])
    for s in socks:
        s.close()


def cmd_run(spec_path, out_path):
    spec = json.load(open(spec_path))
    tools, pms = spec["tools"], spec["postmasters"]
    rounds, warmup, par = spec["rounds"], spec["warmup"], max(1, spec.get("par", 1))
    timeout = spec.get("timeout", 30.0)
    res = {t["name"]: {"samples": [[] for _ in t["urls"]], "cpu_ticks": 0, "server_ticks": 0,
                       "errors": [], "body_bytes": [0] * len(t["urls"]), "seconds": 0.0} for t in tools}
    loads = []
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=par) if par > 1 else None
    started = time.monotonic()
    for r in range(warmup + rounds):
        measured = r >= warmup
        k = r % len(tools)
        for tool in tools[k:] + tools[:k]:
            acc = res[tool["name"]]
            cpu0 = sum(proc_ticks(p) for p in tool["pids"])
            srv0 = server_ticks(pms) if measured else 0
            t0 = time.monotonic()
            if pool is None:
                outcomes = [fetch(u, timeout) for u in tool["urls"]]
            else:
                outcomes = list(pool.map(lambda u: fetch(u, timeout), tool["urls"]))
            elapsed = time.monotonic() - t0
            cpu1 = sum(proc_ticks(p) for p in tool["pids"])
            srv1 = server_ticks(pms) if measured else 0
            for p in tool["pids"]:
                if not os.path.exists(f"/proc/{p}"):
                    raise SystemExit(f"fleet_measure.py: {tool['name']}: process {p} is gone")
            if not measured:
                continue
            acc["cpu_ticks"] += cpu1 - cpu0
            acc["server_ticks"] += srv1 - srv0
            acc["seconds"] += elapsed
            for i, (ms, size, err) in enumerate(outcomes):
                acc["samples"][i].append(ms)
                acc["body_bytes"][i] = size or acc["body_bytes"][i]
                if err:
                    acc["errors"].append(f"round {r - warmup + 1}, {tool['targets'][i]}: {err}")
        if measured:
            loads.append(float(open("/proc/loadavg").read().split()[0]))
    if pool:
        pool.shutdown()
    peers = tcp_peers()
    ports = set(spec["cluster_ports"])
    for t in tools:
        res[t["name"]]["procs"] = [proc_info(p, ports, peers) for p in t["pids"]]
        res[t["name"]]["targets"] = t["targets"]
    out = {"rounds": rounds, "warmup": warmup, "par": par, "load_min": min(loads), "load_max": max(loads),
           "load_median": statistics.median(loads), "seconds": time.monotonic() - started,
           "tools": [t["name"] for t in tools], "results": res}
    json.dump(out, open(out_path, "w"))


def cmd_backends(path):
    classes = json.load(open(path))
    out = {}
    for cls, pids in classes.items():
        vals = [rollup(p) for p in pids]
        vals = [v for v in vals if v[0] > 0]
        if vals:
            out[cls] = {"count": len(vals), "pss_kb": statistics.median(v[0] for v in vals),
                        "uss_kb": statistics.median(v[1] for v in vals)}
    print(json.dumps(out))


def pct(s, q):
    s = sorted(s)
    return s[max(0, math.ceil(q * len(s)) - 1)]


def mb(kb):
    return kb / 1024.0


def cmd_report(path, pairs):
    d = json.load(open(path))
    rounds = d["rounds"]
    print(f"{rounds} rounds (after {d['warmup']} not recorded), {d['par']} request(s) at a time; "
          f"load average {d['load_min']:.1f}–{d['load_max']:.1f} (median {d['load_median']:.1f}) during the rounds.")
    print()
    print("| exporter | processes | targets | PG conns | requests | median ms | p90 ms | p99 ms "
          "| CPU ms/round | server CPU ms/round | peak RSS MB (sum VmHWM) | PSS MB (sum) | threads | fds | body KB/target | failed |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in d["tools"]:
        r = d["results"][name]
        s = [x for per in r["samples"] for x in per]
        procs = r["procs"]
        body = statistics.mean(r["body_bytes"]) / 1024.0
        print(f"| {name} | {len(procs)} | {len(r['targets'])} | {sum(p['pg_connections'] for p in procs)} | {len(s)} "
              f"| {statistics.median(s):.2f} | {pct(s, 0.9):.2f} | {pct(s, 0.99):.2f} "
              f"| {r['cpu_ticks'] * 1000.0 / TICKS / rounds:.1f} | {r['server_ticks'] * 1000.0 / TICKS / rounds:.1f} "
              f"| {mb(sum(p['vm_hwm_kb'] for p in procs)):.1f} | {mb(sum(p['pss_kb'] for p in procs)):.1f} "
              f"| {sum(p['threads'] for p in procs)} | {sum(p['fds'] for p in procs)} | {body:.1f} | {len(r['errors'])} |")
    for i in range(0, len(pairs) - 1, 2):
        base, fleet = d["results"][pairs[i]], d["results"][pairs[i + 1]]
        print()
        print(f"Per target: **{pairs[i + 1]}** against **{pairs[i]}** (same cluster; ratio of medians):")
        print()
        print("| target | baseline median ms | baseline p90 ms | fleet median ms | fleet p90 ms | ratio |")
        print("|---|---:|---:|---:|---:|---:|")
        ratios = []
        for j, tname in enumerate(fleet["targets"]):
            b = base["samples"][base["targets"].index(tname)]
            f = fleet["samples"][j]
            ratio = statistics.median(f) / statistics.median(b)
            ratios.append(ratio)
            print(f"| {tname} | {statistics.median(b):.2f} | {pct(b, 0.9):.2f} | {statistics.median(f):.2f} "
                  f"| {pct(f, 0.9):.2f} | {ratio:.2f} |")
        fb = [x for j, tname in enumerate(fleet["targets"])
              for x in base["samples"][base["targets"].index(tname)]]
        ff = [x for per in fleet["samples"] for x in per]
        print(f"| all | {statistics.median(fb):.2f} | {pct(fb, 0.9):.2f} | {statistics.median(ff):.2f} "
              f"| {pct(ff, 0.9):.2f} | {statistics.median(ff) / statistics.median(fb):.2f} |")
        print()
        print(f"Ratios over the targets: median {statistics.median(ratios):.2f}, "
              f"lowest {min(ratios):.2f}, highest {max(ratios):.2f}.")
    errs = [(n, e) for n in d["tools"] for e in d["results"][n]["errors"]]
    if errs:
        print()
        print(f"Failed requests ({len(errs)}), first ones:")
        for n, e in errs[:10]:
            print(f"- {n}: {e}")


def main(argv):
    if len(argv) < 2:
        raise SystemExit(__doc__)
    cmd = argv[1]
    if cmd == "free-ports":
        cmd_free_ports(int(argv[2]))
    elif cmd == "run":
        cmd_run(argv[2], argv[3])
    elif cmd == "backends":
        cmd_backends(argv[2])
    elif cmd == "report":
        cmd_report(argv[2], argv[3:])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
