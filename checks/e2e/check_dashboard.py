#!/usr/bin/env python3
"""Checks Grafana dashboards against a live Prometheus that scrapes pgwarden (checks/e2e.sh).

    check_dashboard.py --prometheus URL --metrics URL [--cacert FILE] [--basic-auth USER:PASSWORD_FILE]
                       --var instance=VALUE [--wait SECONDS] --rules alerts/*.rules.yml -- dashboards/*.json

For every dashboard:
  - every metric a panel query names is one pgwarden exports (a name in a live scrape of
    --metrics, histogram series included), a recording rule of --rules, or Prometheus's `up`;
  - every query template variable (label_values(...)) returns values, the --var values among them;
  - every panel query, template variables substituted as Grafana would for the default selection
    (--var values; "All" variables by their allValue, else .*; $__rate_interval 1m,
    $__interval 15s, $__range 1h), returns at least one series.
--cacert and --basic-auth are used for --metrics only (pgwarden over TLS with basic_auth_users).
Queries without data are retried until --wait seconds have passed (scrapes and rule evaluations
may still be catching up). Prints one PASS:/FAIL: line per check; exits 1 on any failure.
Python standard library only.
"""
import argparse
import base64
import json
import re
import ssl
import sys
import time
import urllib.parse
import urllib.request

KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan", "by", "without", "on", "ignoring",
            "group_left", "group_right", "atan2"}


def get_json(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read().decode())


def exported_names(metrics_url, cacert=None, basic_auth=None):
    headers = {}
    if basic_auth:
        user, password_file = basic_auth.split(":", 1)
        password = open(password_file).read().strip()
        headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    context = ssl.create_default_context(cafile=cacert) if cacert else None
    req = urllib.request.Request(metrics_url, headers=headers)
    with urllib.request.urlopen(req, timeout=10, context=context) as r:
        text = r.read().decode()
    names = set()
    for line in text.splitlines():
        m = re.match(r"#\s*TYPE\s+(\S+)", line)
        if m:
            names.add(m.group(1))
        elif line and not line.startswith("#"):
            names.add(re.match(r"[A-Za-z_:][A-Za-z0-9_:]*", line).group(0))
    return names


def recording_rules(paths):
    names = set()
    for path in paths:
        names.update(re.findall(r"^\s*-?\s*record:\s*[\"']?([A-Za-z_:][A-Za-z0-9_:]*)", open(path).read(), re.M))
    return names


def metric_names(expr):
    """The metric names of expr's vector selectors (a small PromQL scanner: enough for dashboards)."""
    s = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)
    s = re.sub(r"\{[^}]*\}", " ", s)                     # label matchers
    s = re.sub(r"\[[^\]]*\]", " ", s)                    # ranges and subqueries
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", s)
    s = re.sub(r"\boffset\s+-?[0-9a-z]+", " ", s)
    s = re.sub(r"\$\{?\w+\}?", " ", s)
    names = []
    for m in re.finditer(r"(?<![\w.:])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?", s):
        if m.group(2) or m.group(1).lower() in KEYWORDS:
            continue  # a function or aggregation call, or a keyword
        names.append(m.group(1))
    return names


def panels_of(items):
    for p in items:
        yield p
        yield from panels_of(p.get("panels", []))


def substitute(expr, values):
    def repl(m):
        name = m.group(1) or m.group(2)
        if name not in values:
            raise KeyError(name)
        return values[name]
    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)", repl, expr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prometheus", required=True)
    ap.add_argument("--metrics", required=True)
    ap.add_argument("--cacert")
    ap.add_argument("--basic-auth")
    ap.add_argument("--var", action="append", default=[])
    ap.add_argument("--wait", type=float, default=20)
    ap.add_argument("--rules", nargs="*", default=[])
    ap.add_argument("dashboards", nargs="+")
    a = ap.parse_args()
    given = dict(v.split("=", 1) for v in a.var)
    known = exported_names(a.metrics, a.cacert, a.basic_auth) | recording_rules(a.rules) | {"up"}
    failed = 0

    def report(ok, what, detail=""):
        nonlocal failed
        print(("PASS: " if ok else "FAIL: ") + what + ("" if ok or not detail else f"\n    {detail}"))
        failed += 0 if ok else 1

    for path in a.dashboards:
        dash = json.load(open(path))
        variables = dash.get("templating", {}).get("list", [])
        values = {"__rate_interval": "1m", "__interval": "15s", "__range": "1h", "__range_s": "3600"}
        for var in variables:
            name = var.get("name")
            if name in given:
                values[name] = given[name]
            elif var.get("includeAll"):
                values[name] = var.get("allValue") or ".*"
            elif var.get("type") == "datasource":
                values[name] = var.get("query", "")

        # Template variables: label_values([selector,] label) returns values (the given one among them).
        for var in variables:
            if var.get("type") != "query":
                continue
            q = var.get("query")
            q = q.get("query") if isinstance(q, dict) else q
            m = re.fullmatch(r"\s*label_values\(\s*(?:(.+?)\s*,\s*)?(\w+)\s*\)\s*", q or "")
            if not m:
                report(False, f"{path}: variable {var.get('name')}: query {q!r} is not label_values(...)")
                continue
            selector, label = m.group(1), m.group(2)
            params = {}
            try:
                if selector:
                    params["match[]"] = substitute(selector, values)
            except KeyError as e:
                report(False, f"{path}: variable {var.get('name')}: unknown variable ${e.args[0]} in {q!r}")
                continue
            deadline = time.time() + a.wait
            while True:
                got = get_json(f"{a.prometheus}/api/v1/label/{label}/values?" + urllib.parse.urlencode(params))["data"]
                ok = bool(got) and (var["name"] not in given or given[var["name"]] in got)
                if ok or time.time() > deadline:
                    break
                time.sleep(1)
            report(ok, f"{path}: variable ${var['name']} ({q}) has values", f"got {got}")

        # Panel queries.
        targets = []
        for p in panels_of(dash.get("panels", [])):
            if p.get("type") == "row":
                continue
            for t in p.get("targets", []):
                if t.get("expr", "").strip() and not t.get("hide"):
                    targets.append((p.get("title", "?"), t.get("refId", "?"), t["expr"]))

        unknown = sorted({f"{n} (panel {title!r})" for title, _, expr in targets for n in metric_names(expr)
                          if n not in known})
        report(not unknown, f"{path}: panels only name metrics pgwarden exports or recording rules of {' '.join(a.rules)}",
               "unknown: " + ", ".join(unknown))

        pending = {}
        for title, ref, expr in targets:
            try:
                pending[(title, ref)] = substitute(expr, values)
            except KeyError as e:
                report(False, f"{path}: panel {title!r} [{ref}]: unknown variable ${e.args[0]} in {expr}")
        results = {}
        deadline = time.time() + a.wait
        while True:
            for key, query in pending.items():
                if results.get(key, (False,))[0]:
                    continue
                try:
                    body = get_json(f"{a.prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": query}))
                    series = body["data"]["result"]
                    results[key] = (len(series) > 0, f"{len(series)} series" if series else "no data")
                except Exception as e:  # a bad query is a failure, with Prometheus's message
                    detail = e.read().decode() if hasattr(e, "read") else str(e)
                    results[key] = (False, detail)
            if all(r[0] for r in results.values()) or time.time() > deadline:
                break
            time.sleep(1)
        for (title, ref), query in pending.items():
            ok, detail = results[(title, ref)]
            report(ok, f"{path}: panel {title!r} [{ref}] returns data ({detail})", f"query: {query}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
