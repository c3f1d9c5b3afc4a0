#!/usr/bin/env bash
# Checks the monitoring files: Prometheus rules and their unit tests (alerts/), the example
# Prometheus and Alertmanager configurations and systemd unit (examples/) and the Grafana
# dashboards (dashboards/).
# Run by `make test` (scripts/test.sh) from the repository root; runs alone too: bash checks/alerts.sh
# Without promtool/amtool the checks are skipped, unless CI=true, where that is a failure.
set -uo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp /tmp/pgwarden-alerts.XXXXXX)
tmpdir=$(mktemp -d /tmp/pgwarden-alerts-dir.XXXXXX)
trap 'rm -rf "$log" "$tmpdir"' EXIT

check_name=alerts
# shellcheck source=checks/lib/harness.sh
source checks/lib/harness.sh

# promtool/amtool are required in CI and skipped (with a note) elsewhere.
have_tools=1
for tool in promtool amtool python3; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    if [ "${CI:-}" = true ]; then
      echo "missing $tool (apt-get install prometheus prometheus-alertmanager python3)" >"$log"
      fail "$tool installed"
    else
      echo "SKIP: $tool not installed (apt-get install prometheus prometheus-alertmanager python3); CI=true makes this a failure"
    fi
    have_tools=0
  fi
done
if [ "$have_tools" = 0 ]; then
  echo "alerts: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]; exit
fi

shopt -s nullglob
rule_files=(alerts/*.rules.yml)
test_files=(alerts/*.test.yml)
dashboards=(dashboards/*.json)
[ ${#rule_files[@]} -gt 0 ] || { echo "no alerts/*.rules.yml" >"$log"; fail "rule files present"; }
[ ${#test_files[@]} -gt 0 ] || { echo "no alerts/*.test.yml" >"$log"; fail "rule test files present"; }
[ ${#dashboards[@]} -gt 0 ] || { echo "no dashboards/*.json" >"$log"; fail "dashboards present"; }

# 1. Rules are valid, without lint warnings either.
lint_clean() {
  local out
  out=$(promtool check rules --lint=all --lint-fatal "$@" 2>&1); local rc=$?
  echo "$out"
  [ $rc -eq 0 ] && ! grep -qiE 'warn|fail' <<<"$out"
}
[ ${#rule_files[@]} -gt 0 ] && check "promtool check rules ${rule_files[*]}" lint_clean "${rule_files[@]}"

# 2. Rule unit tests (each test file names its rule files itself).
for t in "${test_files[@]}"; do
  check "promtool test rules $t" promtool test rules "$t"
done

# 3. Remediation alerts carry pgwarden="remediate" and keep datname/usename (pgwarden's webhook
#    relies on both); the other alerts do not carry the label.
remediation_labels() {
  python3 - "${rule_files[@]}" <<'PY'
import re, sys
want = {"PostgresIdleInTransactionTooLong", "PostgresLongRunningQuery", "PostgresSessionsBlockedTooLong",
        "PostgresRoleOverConnectionLimit", "PostgresNologinRoleSessions", "PostgresPreparedTransactionTooOld"}
seen, bad = set(), []
for path in sys.argv[1:]:
    text = open(path).read()
    # Split into rules at "- alert:" / "- record:" lines.
    for block in re.split(r"\n(?=\s*- (?:alert|record):)", text):
        m = re.match(r"\s*- alert:\s*(\S+)", block)
        if not m:
            continue
        name = m.group(1)
        remediate = re.search(r"^\s+pgwarden:\s*[\"']?remediate[\"']?\s*$", block, re.M) is not None
        if name in want:
            seen.add(name)
            if not remediate:
                bad.append(f"{name}: missing label pgwarden: remediate")
            if re.search(r"\b(by|without)\s*\([^)]*\b(datname|usename)\b", block.split("expr:", 1)[1].split("labels:", 1)[0]):
                bad.append(f"{name}: expression aggregates away datname/usename")
        elif remediate:
            bad.append(f"{name}: has pgwarden: remediate but is not a remediation alert")
for name in sorted(want - seen):
    bad.append(f"{name}: alert missing")
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
}
[ ${#rule_files[@]} -gt 0 ] && check "remediation alerts labelled pgwarden=remediate" remediation_labels

# 3b. Fleet mode: every alert and recording rule keeps `instance` (the target's name, which
#     pgwarden's webhook reads to know which server an alert is about) and the other target
#     labels: no by(...) without instance, no without(...) naming instance, job or
#     pgwarden_shard (alerts/pgwarden.fleet.test.yml shows the labels carried through).
rules_keep_instance() {
  python3 - "${rule_files[@]}" <<'PY'
import re, sys
bad = []
for path in sys.argv[1:]:
    for block in re.split(r"\n(?=\s*- (?:alert|record):)", open(path).read()):
        m = re.match(r"\s*- (alert|record):\s*(\S+)", block)
        if not m or "expr:" not in block:
            continue
        expr = re.split(r"\n\s*(?:for|labels|annotations|keep_firing_for):", block.split("expr:", 1)[1])[0]
        for kind, names in re.findall(r"\b(by|without)\s*\(([^)]*)\)", expr):
            names = {n.strip() for n in names.split(",") if n.strip()}
            if kind == "by" and "instance" not in names:
                bad.append(f"{path}: {m.group(2)}: by({', '.join(sorted(names))}) drops instance")
            if kind == "without" and names & {"instance", "job", "pgwarden_shard"}:
                bad.append(f"{path}: {m.group(2)}: without(...) drops {', '.join(sorted(names & {'instance', 'job', 'pgwarden_shard'}))}")
        # An aggregation with neither by nor without drops every label.
        for agg in re.finditer(r"\b(sum|min|max|avg|group|count|stddev|stdvar|quantile|count_values)\s*\(", expr):
            depth, i = 0, agg.end() - 1
            while i < len(expr):
                depth += {"(": 1, ")": -1}.get(expr[i], 0)
                if depth == 0:
                    break
                i += 1
            if not re.match(r"\s*(by|without)\b", expr[i + 1:]):
                bad.append(f"{path}: {m.group(2)}: {agg.group(1)}(...) without by/without drops instance")
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
}
[ ${#rule_files[@]} -gt 0 ] && check "rules keep instance and the target labels (no by() without instance, no without(instance|job|pgwarden_shard))" rules_keep_instance

# 4. Alertmanager example: valid, and routes remediation alerts to pgwarden (and to the humans).
check "amtool check-config examples/alertmanager.yml" amtool check-config examples/alertmanager.yml
routes_ok() {
  amtool config routes test --config.file=examples/alertmanager.yml --verify.receivers=pgwarden,humans \
    alertname=PostgresIdleInTransactionTooLong pgwarden=remediate datname=app usename=app &&
  amtool config routes test --config.file=examples/alertmanager.yml --verify.receivers=humans \
    alertname=PostgresDown instance=127.0.0.1:9793
}
check "alertmanager routing (pgwarden=remediate -> pgwarden webhook)" routes_ok

# 5. Prometheus example: syntax, then with its rule_files resolved (paths relative to the file).
check "promtool check config --syntax-only examples/prometheus.yml" promtool check config --syntax-only examples/prometheus.yml
rule_files_resolve() {
  local out
  out=$(promtool check config examples/prometheus.yml 2>&1); local rc=$?
  echo "$out"
  [ $rc -eq 0 ] && grep -qE 'SUCCESS: [1-9][0-9]* rule files? found' <<<"$out"
}
check "promtool check config examples/prometheus.yml (rule_files resolve)" rule_files_resolve

# 5b. Fleet mode examples (docs/fleet-setup.md): the Prometheus configurations of one pgwarden
#     for a fleet and of three shards, valid with their rule_files resolved; the shards'
#     Alertmanager configuration valid and routing each shard's remediation alerts to that
#     shard's webhook (and to the humans), an alert without pgwarden_shard to the humans only;
#     and the two shard files agreeing (checks/fleet.sh runs their service discovery against a
#     live pgwarden).
config_with_rules() {
  local out
  out=$(promtool check config "$1" 2>&1); local rc=$?
  echo "$out"
  [ $rc -eq 0 ] && grep -qE 'SUCCESS: [1-9][0-9]* rule files? found' <<<"$out"
}
for f in examples/prometheus-fleet.yml examples/prometheus-shards.yml; do
  check "promtool check config $f (rule_files resolve)" config_with_rules "$f"
done
check "amtool check-config examples/alertmanager-shards.yml" amtool check-config examples/alertmanager-shards.yml
shard_routes_ok() {
  local s
  for s in 0 1 2; do
    amtool config routes test --config.file=examples/alertmanager-shards.yml --verify.receivers="pgwarden-$s,humans" \
      alertname=PostgresIdleInTransactionTooLong pgwarden=remediate instance=db1 pgwarden_shard="$s" datname=app usename=app ||
      return 1
  done
  amtool config routes test --config.file=examples/alertmanager-shards.yml --verify.receivers=humans \
    alertname=PostgresIdleInTransactionTooLong pgwarden=remediate instance=db1 datname=app usename=app &&
  amtool config routes test --config.file=examples/alertmanager-shards.yml --verify.receivers=humans \
    alertname=PostgresDown instance=db1 pgwarden_shard=1
}
check "alertmanager-shards.yml routing (pgwarden_shard=N -> pgwarden-N and humans; no shard -> humans)" shard_routes_ok
shards_agree() {
  python3 - examples/prometheus-shards.yml examples/alertmanager-shards.yml <<'PY'
import re, sys
prom, am = open(sys.argv[1]).read(), open(sys.argv[2]).read()
bad = []
jobs = {}
for block in re.split(r"\n(?=\s*- job_name:)", prom)[1:]:
    m = re.match(r"\s*- job_name:\s*(\S+)", block)
    if "hashmod" not in block:
        continue
    one = lambda pattern: re.findall(pattern, block, re.M)
    shard = one(r"^\s*replacement:\s*'(\d+)'\s*$")
    jobs[m.group(1)] = {
        "modulus": one(r"^\s*modulus:\s*(\d+)\s*$"), "keep": one(r"^\s*regex:\s*'(\d+)'\s*$"), "shard": shard,
        "sd": one(r"^\s*- url:\s*http://([^/\s]+)/targets\s*$"),
        "address": [a for a in one(r"^\s*replacement:\s*(\S+:\d+)\s*$")]}
n = len(jobs)
receivers = dict(re.findall(r"^\s*- name:\s*(pgwarden-\d+)\s*\n\s*webhook_configs:\s*\n\s*- url:\s*http://([^/\s]+)/webhook", am, re.M))
routes = re.findall(r"^\s*- receiver:\s*(pgwarden-\d+)\s*\n\s*matchers:\s*\[[^\]]*'pgwarden_shard=\"(\d+)\"'", am, re.M)
if n < 2:
    bad.append(f"{sys.argv[1]}: {n} shard jobs")
seen = set()
for name, j in sorted(jobs.items()):
    for key in ("modulus", "keep", "shard", "sd", "address"):
        if len(j[key]) != 1:
            bad.append(f"{name}: expected one {key}, found {j[key]}")
    if any(len(j[k]) != 1 for k in ("modulus", "keep", "shard", "sd", "address")):
        continue
    s = j["keep"][0]
    seen.add(s)
    if j["modulus"][0] != str(n):
        bad.append(f"{name}: modulus {j['modulus'][0]}, but there are {n} shard jobs")
    if j["shard"][0] != s:
        bad.append(f"{name}: keeps shard {s} but labels its series pgwarden_shard={j['shard'][0]}")
    if j["sd"][0] != j["address"][0]:
        bad.append(f"{name}: discovers on {j['sd'][0]} but probes through {j['address'][0]}")
    if receivers.get(f"pgwarden-{s}") != j["address"][0]:
        bad.append(f"{name}: Alertmanager's pgwarden-{s} posts to {receivers.get(f'pgwarden-{s}')}, not {j['address'][0]}")
if seen != {str(i) for i in range(n)}:
    bad.append(f"shards kept: {sorted(seen)}, expected 0..{n - 1}")
if sorted(routes) != sorted((f"pgwarden-{i}", str(i)) for i in range(n)):
    bad.append(f"Alertmanager routes {routes}: expected pgwarden_shard=\"N\" -> pgwarden-N for N in 0..{n - 1}")
print("\n".join(bad) if bad else f"{n} shards agree")
sys.exit(1 if bad else 0)
PY
}
check "prometheus-shards.yml and alertmanager-shards.yml agree (modulus, shard numbers, addresses, routes)" shards_agree

# 6. systemd unit example: systemd-analyze has nothing to say about it (it warns, and still
#    exits 0, on unknown keys and bad values), and pgwarden knows every flag its ExecStart passes
#    (with a built binary: PGWARDEN_BIN, or .build/debug/pgwarden). Outside CI, what is missing
#    is skipped with a note.
unit_clean() {
  local bin=${PGWARDEN_BIN:-.build/debug/pgwarden} unit=$tmpdir/pgwarden.service exe out
  # verify wants ExecStart's program to exist: the binary, or /bin/true in its place.
  exe=/bin/true
  [ -x "$bin" ] && exe=$(realpath "$bin")
  sed "s|/usr/local/bin/pgwarden|$exe|" examples/pgwarden.service >"$unit"
  out=$(systemd-analyze verify "$unit" 2>&1); local rc=$?
  echo "$out"
  # Only what it says about this unit counts (not units it loads as dependencies); it names
  # the unit by its path or by its name.
  [ $rc -eq 0 ] && ! grep -qE '(^|/)pgwarden\.service:' <<<"$out" || return 1
  grep -q '^CPUWeight=' examples/pgwarden.service || { echo "no CPUWeight= (see the comment above it)"; return 1; }
  if [ "$exe" = /bin/true ]; then
    echo "no pgwarden binary at $bin: ExecStart's flags not checked"
    return 1
  fi
  local help flags flag
  help=$("$bin" serve --help 2>&1)
  flags=$(sed -n '/^ExecStart=/,/^[A-Z]/p' examples/pgwarden.service | grep -oE -- '--[a-z][a-z.-]*' | sort -u)
  [ -n "$flags" ] || { echo "no flags found in ExecStart"; return 1; }
  for flag in $flags; do
    grep -qE -- "(^|[ ,])$flag([ ,=<]|$)" <<<"$help" || { echo "pgwarden serve does not know $flag"; return 1; }
  done
  echo "flags known: $flags"
}
unit_bin=${PGWARDEN_BIN:-.build/debug/pgwarden}
if command -v systemd-analyze >/dev/null 2>&1 && { [ -x "$unit_bin" ] || [ "${CI:-}" = true ]; }; then
  check "examples/pgwarden.service (systemd-analyze verify, ExecStart flags)" unit_clean
elif command -v systemd-analyze >/dev/null 2>&1; then
  echo "SKIP: examples/pgwarden.service: no pgwarden binary at $unit_bin (build it, or set PGWARDEN_BIN); CI=true makes this a failure"
elif [ "${CI:-}" = true ]; then
  echo "missing systemd-analyze (apt-get install systemd)" >"$log"; fail "systemd-analyze installed"
else
  echo "SKIP: systemd-analyze not installed (apt-get install systemd); CI=true makes this a failure"
fi

# 7. Dashboards: JSON parses; panels have descriptions; every expr names only exported metrics or
#    recording rules and filters on $instance/$datname/$usename where the metric has those labels.
#    The exprs (variables substituted) are then checked as PromQL by promtool.
dashboard_lint() {
  python3 - "$tmpdir/dashboard-exprs.rules.yml" "${rule_files[@]}" -- "${dashboards[@]}" <<'PY'
import json, re, sys
args = sys.argv[1:]
out_rules = args[0]
rule_paths = args[1:args.index("--")]
dash_paths = args[args.index("--") + 1:]

# Exported metrics and their labels relevant to dashboard filters (besides instance).
DU, D, U = {"datname", "usename"}, {"datname"}, {"usename"}
metrics = {
    "up": set(), "pg_up": set(), "pg_server_version_num": set(),
    "pg_sessions": DU, "pg_session_state_age_max_seconds": DU, "pg_session_transaction_age_max_seconds": DU,
    "pg_idle_in_transaction_age_seconds_bucket": U, "pg_idle_in_transaction_age_seconds_sum": U,
    "pg_idle_in_transaction_age_seconds_count": U,
    "pg_backends": set(),
    "pg_role_connection_limit": U, "pg_role_sessions": U, "pg_role_over_connection_limit": U,
    "pg_role_nologin_sessions": U,
    "pg_database_connection_limit": D, "pg_database_sessions": D, "pg_database_over_connection_limit": D,
    "pg_database_disallowed_sessions": D,
    "pg_blocked_sessions": DU, "pg_blocked_wait_max_seconds": DU, "pg_blocking_sessions": DU,
    "pg_max_connections": set(), "pg_superuser_reserved_connections": set(), "pg_reserved_connections": set(),
    "pg_setting_idle_in_transaction_session_timeout_seconds": set(), "pg_setting_idle_session_timeout_seconds": set(),
    "pg_setting_statement_timeout_seconds": set(), "pg_setting_transaction_timeout_seconds": set(),
    "pg_prepared_transactions": D, "pg_prepared_transaction_age_max_seconds": D,
    "pg_xmin_horizon_age_xids": set(), "pg_session_xmin_age_max_xids": DU,
    "pg_role_setting_seconds": DU, "pg_session_backend_age_max_seconds": DU, "pg_sessions_waiting": DU,
    "pg_database_sessions_killed_total": D, "pg_database_sessions_abandoned_total": D,
    "pg_database_sessions_fatal_total": D,
    "pgwarden_scrape_duration_seconds": set(), "pgwarden_scrape_errors_total": set(), "pgwarden_build_info": set(),
    "pgwarden_actions_total": set(), "pgwarden_webhook_requests_total": set(),
    "pgwarden_last_action_timestamp_seconds": set(),
    "process_cpu_seconds_total": set(), "process_resident_memory_bytes": set(), "process_virtual_memory_bytes": set(),
    "process_start_time_seconds": set(), "process_threads": set(), "process_open_fds": set(), "process_max_fds": set(),
    "pgwarden_http_connections": set(), "pgwarden_http_requests_cut_total": set(),
    "pgwarden_web_config_last_reload_successful": set(),
}
# pgwarden's own series (its /metrics): filtered on $pgwarden, the pgwarden processes, since in
# fleet mode their instance is pgwarden's address, not a target's name. `up` is pgwarden's own
# with job="pgwarden", a target's otherwise.
OWN = {"pgwarden_build_info", "pgwarden_actions_total", "pgwarden_webhook_requests_total",
       "pgwarden_last_action_timestamp_seconds", "pgwarden_http_connections", "pgwarden_http_requests_cut_total",
       "pgwarden_web_config_last_reload_successful"} | {m for m in metrics if m.startswith("process_")}
for path in rule_paths:
    for name in re.findall(r"^\s*-?\s*record:\s*[\"']?([A-Za-z_:][A-Za-z0-9_:]*)", open(path).read(), re.M):
        metrics[name] = set()

KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan",
            "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
            "bottomk", "topk", "quantile"}
LABEL_LISTS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
MATCHER = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*,?')

def skip_string(s, i):
    q = s[i]; i += 1
    while i < len(s) and s[i] != q:
        i += 2 if s[i] == "\\" else 1
    return i + 1

def skip_group(s, i, open_, close):
    depth = 0
    while i < len(s):
        c = s[i]
        if c in "\"'`":
            i = skip_string(s, i); continue
        if c == open_: depth += 1
        elif c == close:
            depth -= 1
            if depth == 0: return i + 1
        i += 1
    raise ValueError(f"unbalanced {open_}")

def selectors(expr):
    """Yields (metric, {label: (op, value)}) for every vector selector of expr."""
    i, n = 0, len(expr)
    while i < n:
        c = expr[i]
        if c in "\"'`":
            i = skip_string(expr, i); continue
        if c == "[":
            i = skip_group(expr, i, "[", "]"); continue
        if c == "$":
            m = re.compile(r"\$\{?[A-Za-z0-9_]+\}?").match(expr, i); i = m.end() if m else i + 1; continue
        if c.isdigit() or (c == "." and i + 1 < n and expr[i + 1].isdigit()):
            m = re.compile(r"[0-9.eE+\-xXa-fA-F]+[smhdwy]?").match(expr, i); i = m.end(); continue
        m = IDENT.match(expr, i)
        if not m:
            if c == "{":
                raise ValueError("selector without a metric name")
            i += 1; continue
        name, i = m.group(0), m.end()
        j = i
        while j < n and expr[j].isspace(): j += 1
        if name in LABEL_LISTS:
            if j < n and expr[j] == "(":
                i = skip_group(expr, j, "(", ")")
            continue
        if name in KEYWORDS:
            continue
        if j < n and expr[j] == "(":   # a function call
            continue
        labels = {}
        if j < n and expr[j] == "{":
            end = skip_group(expr, j, "{", "}")
            body, k = expr[j + 1:end - 1], 0
            while k < len(body):
                mm = MATCHER.match(body, k)
                if not mm:
                    if body[k:].strip(): raise ValueError(f"cannot parse matchers {{{body}}}")
                    break
                labels[mm.group(1)] = (mm.group(2), mm.group(3)); k = mm.end()
            i = end
        yield name, labels

def panels_of(items):
    for p in items:
        yield p
        yield from panels_of(p.get("panels", []))

errors, exprs = [], []
for path in dash_paths:
    try:
        dash = json.load(open(path))
    except Exception as e:
        errors.append(f"{path}: not valid JSON: {e}"); continue
    variables = {v.get("name"): v for v in dash.get("templating", {}).get("list", [])}
    if variables.get("datasource", {}).get("type") != "datasource" or variables["datasource"].get("query") != "prometheus":
        errors.append(f"{path}: no datasource variable of type datasource (query prometheus)")
    for var in ("instance", "pgwarden", "datname", "usename"):
        if var not in variables:
            errors.append(f"{path}: no template variable {var}")
    ids = set()
    for p in panels_of(dash.get("panels", [])):
        title = p.get("title", "?")
        if p.get("type") == "row":
            continue
        if p.get("id") in ids:
            errors.append(f"{path}: panel {title!r}: duplicate id {p.get('id')}")
        ids.add(p.get("id"))
        if not str(p.get("description", "")).strip():
            errors.append(f"{path}: panel {title!r}: no description")
        targets = p.get("targets", [])
        if not targets:
            errors.append(f"{path}: panel {title!r}: no targets")
        for t in targets:
            expr = t.get("expr", "")
            if not expr.strip():
                errors.append(f"{path}: panel {title!r}: target {t.get('refId')} without expr"); continue
            exprs.append((title, expr))
            try:
                found = list(selectors(expr))
            except ValueError as e:
                errors.append(f"{path}: panel {title!r}: {e}: {expr}"); continue
            if not found:
                errors.append(f"{path}: panel {title!r}: no metric in {expr}")
            for name, labels in found:
                if name not in metrics:
                    errors.append(f"{path}: panel {title!r}: unknown metric {name} in {expr}"); continue
                own = name in OWN or (name == "up" and labels.get("job") == ("=", "pgwarden"))
                for label in {"instance"} | metrics[name]:
                    var = "pgwarden" if own and label == "instance" else label
                    if labels.get(label) != ("=~", f"${var}"):
                        errors.append(f"{path}: panel {title!r}: {name} lacks {label}=~\"${var}\" in {expr}")
                if name.endswith("_bucket") and re.search(r"\b(rate|irate|increase)\s*\(\s*" + name, expr):
                    errors.append(f"{path}: panel {title!r}: gauge histogram {name} must not be rate()d")

# The exprs as recording rules, for promtool to parse (variables replaced by plausible values).
with open(out_rules, "w") as f:
    f.write("groups:\n  - name: dashboard-exprs\n    rules:\n")
    for k, (title, expr) in enumerate(exprs):
        e = re.sub(r"\$\{?__(rate_)?interval\}?", "1m", expr)
        e = re.sub(r"\$\{?__range\}?", "1h", e)
        e = re.sub(r"\$\{?[A-Za-z0-9_]+\}?", ".*", e)
        f.write(f"      - record: dashboard:expr_{k}\n        expr: {json.dumps(e)}\n")
print("\n".join(errors) if errors else f"{len(exprs)} exprs in {len(dash_paths)} dashboard(s) OK")
sys.exit(1 if errors else 0)
PY
}
if [ ${#dashboards[@]} -gt 0 ]; then
  for d in "${dashboards[@]}"; do
    check "$d parses as JSON" python3 -m json.tool "$d"
  done
  check "dashboard panels: descriptions, known metrics, \$instance/\$pgwarden/\$datname/\$usename filters" dashboard_lint
  if [ -s "$tmpdir/dashboard-exprs.rules.yml" ]; then
    check "dashboard exprs are valid PromQL (promtool)" promtool check rules "$tmpdir/dashboard-exprs.rules.yml"
  fi
fi

echo "alerts: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
