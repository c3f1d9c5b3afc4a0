#!/usr/bin/env python3
"""Test copies of the example configuration for checks/e2e.sh, with short timings.

    make_configs.py REPO OUT --pgwarden HOST:PORT --alertmanager HOST:PORT --humans URL
        --tls-dir DIR --users FILE --scrape-auth USER:PASSWORD_FILE --webhook-auth USER:PASSWORD_FILE

Writes OUT/examples/{pgwarden,prometheus,alertmanager,web-config}.yml and OUT/alerts/*.rules.yml, mirroring
the repository layout so that prometheus.yml's `rule_files: ../alerts/*.rules.yml` needs no change.
The files are the repository's own, with only these edits (each must apply exactly as often as
stated, so a change to the examples makes this script fail instead of silently testing
production timings):

  alerts/*.rules.yml  PostgresIdleInTransactionTooLong: threshold `> 600` -> `> 5`, `for: 1m` -> `for: 2s`;
                      PostgresPreparedTransactionTooOld (when alerts/ has it): threshold `> 300` -> `> 5`,
                      `for: 1m` -> `for: 2s`
  pgwarden.yml        rule idle-in-transaction: `min_state_age: 10m` -> `3s`; rule
                      forgotten-prepared-transactions: `min_prepared_age: 30m` -> `3s` and `dry_run: true`
                      -> `dry_run: false` (the e2e shows a forgotten prepared transaction rolled back)
  prometheus.yml      scrape_interval/evaluation_interval 15s -> 1s, scrape_timeout 10s -> 1s,
                      targets 127.0.0.1:9093 / 127.0.0.1:9793 -> the test's Alertmanager / pgwarden;
                      the pgwarden job scrapes over TLS: `scheme: https`, `tls_config.ca_file`
                      (DIR/ca.crt) and `basic_auth` (--scrape-auth) added after its metrics_path
  alertmanager.yml    group_wait 30s/10s -> 1s, group_interval 5m/1m -> 1s (repeat_interval kept:
                      no repeated notification happens during the test, so every webhook call is
                      a first or a resolved notification); pgwarden webhook URL -> the test's
                      https URL, and its bearer `authorization` -> `tls_config.ca_file` and
                      `basic_auth` (--webhook-auth: with basic_auth_users the webhook's credentials
                      are basic auth, docs/web-config.md); the humans' relay URL -> the test's sink
  web-config.yml      cert_file/key_file -> DIR/pgwarden.{crt,key}; client_auth_type
                      RequireAndVerifyClientCert -> NoClientCert and client_ca_file dropped (no
                      client certificates: basic auth admits); the commented basic_auth_users
                      example -> the users of FILE (`htpasswd -nbB` lines)
Everything else (routes, matchers, group_by, rule names, expressions, policy rules, protected
roles) is used as written.
"""
import argparse
import glob
import os
import re
import sys

errors = []


def sub(text, pattern, repl, count, what, flags=0):
    new, n = re.subn(pattern, repl, text, flags=flags)
    if n != count:
        errors.append(f"{what}: expected {count} match(es) of /{pattern}/, found {n}")
    return new


def rewrite_block(text, start_pattern, edits, what):
    """Applies `edits` (pattern, repl, count) inside the YAML list item starting with start_pattern."""
    parts = re.split(r"\n(?=\s*- )", text)
    hits = [i for i, part in enumerate(parts) if re.match(start_pattern, part.lstrip("\n").split("\n", 1)[0])]
    if len(hits) != 1:
        errors.append(f"{what}: expected one block /{start_pattern}/, found {len(hits)}")
        return text, False
    # The block runs until the next item at the same or a lower indentation.
    i = hits[0]
    indent = len(parts[i].lstrip("\n")) - len(parts[i].lstrip("\n").lstrip(" "))
    j = i + 1
    while j < len(parts):
        p = parts[j].lstrip("\n")
        if len(p) - len(p.lstrip(" ")) <= indent:
            break
        j += 1
    block = "\n".join(parts[i:j])
    for pattern, repl, count in edits:
        block = sub(block, pattern, repl, count, what, re.M)
    return "\n".join(parts[:i] + [block] + parts[j:]), True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("repo")
    ap.add_argument("out")
    ap.add_argument("--pgwarden", required=True)
    ap.add_argument("--alertmanager", required=True)
    ap.add_argument("--humans", required=True)
    ap.add_argument("--tls-dir", required=True)
    ap.add_argument("--users", required=True)
    ap.add_argument("--scrape-auth", required=True)
    ap.add_argument("--webhook-auth", required=True)
    a = ap.parse_args()
    ca = os.path.join(a.tls_dir, "ca.crt")
    scrape_user, scrape_password = a.scrape_auth.split(":", 1)
    webhook_user, webhook_password = a.webhook_auth.split(":", 1)
    os.makedirs(os.path.join(a.out, "examples"), exist_ok=True)
    os.makedirs(os.path.join(a.out, "alerts"), exist_ok=True)

    # Alert rules: all files copied, the idle-in-transaction and prepared-transaction alerts shortened.
    found = 0
    prepared = 0
    for path in sorted(glob.glob(os.path.join(a.repo, "alerts", "*.rules.yml"))):
        text = open(path).read()
        if re.search(r"^\s*- alert:\s*PostgresIdleInTransactionTooLong[ \t]*$", text, re.M):
            text, ok = rewrite_block(text, r"\s*- alert:\s*PostgresIdleInTransactionTooLong[ \t]*$",
                                     [(r"\)\s*>\s*600[ \t]*$", ") > 5", 1), (r"^(\s*)for:\s*1m[ \t]*$", r"\1for: 2s", 1)],
                                     f"{path} PostgresIdleInTransactionTooLong")
            found += ok
        if re.search(r"^\s*- alert:\s*PostgresPreparedTransactionTooOld[ \t]*$", text, re.M):
            text, ok = rewrite_block(text, r"\s*- alert:\s*PostgresPreparedTransactionTooOld[ \t]*$",
                                     [(r"(pg_prepared_transaction_age_max_seconds\s*>\s*)300[ \t]*$", r"\g<1>5", 1),
                                      (r"^(\s*)for:\s*1m[ \t]*$", r"\1for: 2s", 1)],
                                     f"{path} PostgresPreparedTransactionTooOld")
            prepared += ok
        open(os.path.join(a.out, "alerts", os.path.basename(path)), "w").write(text)
    if found != 1:
        errors.append(f"alerts/*.rules.yml: expected the alert PostgresIdleInTransactionTooLong once, found {found}")
    if prepared > 1:
        errors.append(f"alerts/*.rules.yml: expected the alert PostgresPreparedTransactionTooOld at most once, found {prepared}")

    # Policy: the idle-in-transaction rule acts on sessions idle for 3s instead of 10m.
    text = open(os.path.join(a.repo, "examples", "pgwarden.yml")).read()
    text, _ = rewrite_block(text, r"\s*- name:\s*idle-in-transaction[ \t]*$",
                            [(r"^(\s*)min_state_age:\s*10m[ \t]*$", r"\1min_state_age: 3s", 1)],
                            "examples/pgwarden.yml rule idle-in-transaction")
    text, _ = rewrite_block(text, r"\s*- name:\s*forgotten-prepared-transactions[ \t]*$",
                            [(r"^(\s*)min_prepared_age:\s*30m[ \t]*$", r"\1min_prepared_age: 3s", 1),
                             (r"^(\s*)dry_run:\s*true[ \t]*$", r"\1dry_run: false", 1)],
                            "examples/pgwarden.yml rule forgotten-prepared-transactions")
    open(os.path.join(a.out, "examples", "pgwarden.yml"), "w").write(text)

    # Prometheus: 1s scrapes and evaluations, the test's ports.
    text = open(os.path.join(a.repo, "examples", "prometheus.yml")).read()
    text = sub(text, r"^(\s*)scrape_interval:\s*15s[ \t]*$", r"\1scrape_interval: 1s", 1, "prometheus.yml", re.M)
    text = sub(text, r"^(\s*)scrape_timeout:\s*10s[ \t]*$", r"\1scrape_timeout: 1s", 1, "prometheus.yml", re.M)
    text = sub(text, r"^(\s*)evaluation_interval:\s*15s[ \t]*$", r"\1evaluation_interval: 1s", 1, "prometheus.yml", re.M)
    text = sub(text, r"'127\.0\.0\.1:9093'", f"'{a.alertmanager}'", 1, "prometheus.yml")
    text = sub(text, r"'127\.0\.0\.1:9793'", f"'{a.pgwarden}'", 1, "prometheus.yml")
    text = sub(text, r"^(\s*)(metrics_path:\s*/metrics)[ \t]*$",
               lambda m: "\n".join([m.group(1) + m.group(2), m.group(1) + "scheme: https",
                                    m.group(1) + "tls_config:", m.group(1) + f"  ca_file: {ca}",
                                    m.group(1) + "basic_auth:", m.group(1) + f"  username: {scrape_user}",
                                    m.group(1) + f"  password_file: {scrape_password}"]),
               1, "prometheus.yml", re.M)
    open(os.path.join(a.out, "examples", "prometheus.yml"), "w").write(text)

    # Alertmanager: notifications within a second, the test's pgwarden, token and humans' sink.
    text = open(os.path.join(a.repo, "examples", "alertmanager.yml")).read()
    text = sub(text, r"^(\s*)group_wait:\s*(30s|10s)[ \t]*$", r"\1group_wait: 1s", 2, "alertmanager.yml", re.M)
    text = sub(text, r"^(\s*)group_interval:\s*(5m|1m)[ \t]*$", r"\1group_interval: 1s", 2, "alertmanager.yml", re.M)
    text = sub(text, r"http://127\.0\.0\.1:9793/webhook", f"https://{a.pgwarden}/webhook", 1, "alertmanager.yml")
    text = sub(text, r"^(\s*)authorization:[ \t]*\n\s*type:\s*Bearer[ \t]*\n"
                     r"\s*credentials_file:\s*/etc/pgwarden/webhook\.token[ \t]*$",
               lambda m: "\n".join([m.group(1) + "tls_config:", m.group(1) + f"  ca_file: {ca}",
                                    m.group(1) + "basic_auth:", m.group(1) + f"  username: {webhook_user}",
                                    m.group(1) + f"  password_file: {webhook_password}"]),
               1, "alertmanager.yml", re.M)
    text = sub(text, r"http://127\.0\.0\.1:9099/alerts", a.humans, 1, "alertmanager.yml")
    open(os.path.join(a.out, "examples", "alertmanager.yml"), "w").write(text)

    # Web configuration: the test's certificate, no client certificates, the test's users.
    text = open(os.path.join(a.repo, "examples", "web-config.yml")).read()
    cert, key = os.path.join(a.tls_dir, "pgwarden.crt"), os.path.join(a.tls_dir, "pgwarden.key")
    text = sub(text, r"^(\s*)cert_file:\s*tls/pgwarden\.crt[ \t]*$", lambda m: f"{m.group(1)}cert_file: {cert}", 1,
               "web-config.yml", re.M)
    text = sub(text, r"^(\s*)key_file:\s*tls/pgwarden\.key[ \t]*$", lambda m: f"{m.group(1)}key_file: {key}", 1,
               "web-config.yml", re.M)
    text = sub(text, r"^(\s*)client_auth_type:\s*RequireAndVerifyClientCert[ \t]*$", r"\1client_auth_type: NoClientCert",
               1, "web-config.yml", re.M)
    text = sub(text, r"^\s*client_ca_file:\s*tls/clients-ca\.crt[ \t]*\n", "", 1, "web-config.yml", re.M)
    users = [line.strip().split(":", 1) for line in open(a.users) if line.strip()]
    text = sub(text, r"^# basic_auth_users:[ \t]*\n#   prometheus: \$2y\$10\$\.\.\.[ \t]*$",
               lambda m: "\n".join(["basic_auth_users:"] + [f"  {u}: '{h}'" for u, h in users]),
               1, "web-config.yml", re.M)
    open(os.path.join(a.out, "examples", "web-config.yml"), "w").write(text)

    if errors:
        print("make_configs.py: the examples no longer have the expected shape:", file=sys.stderr)
        for e in errors:
            print("  " + e, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
