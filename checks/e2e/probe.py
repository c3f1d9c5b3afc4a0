#!/usr/bin/env python3
"""Small read-only probes for checks/e2e.sh (stdlib only). Each prints one value and exits 0,
or exits 1 when the service cannot be asked.

  probe.py [--cacert FILE] [--basic-auth USER:PASSWORD_FILE] COMMAND ...

--cacert verifies https services with that CA; --basic-auth is sent to https URLs (pgwarden).

  probe.py prom-alert PROM_URL ALERTNAME [LABEL=VALUE...]   state of the matching alert:
                                                            firing, pending or inactive
  probe.py prom-value PROM_URL EXPR                         sum of an instant query's values
                                                            (nothing when the result is empty)
  probe.py am-alerts AM_URL ALERTNAME [LABEL=VALUE...]      number of active matching alerts
  probe.py metric METRICS_URL NAME [LABEL=VALUE...]         sum of the matching samples (0 if none)
  probe.py actions PGWARDEN_URL PID                         the /actions records of that backend,
                                                            as rule:action:result words (needs
                                                            --basic-auth with the webhook's user)
  probe.py prepared-actions PGWARDEN_URL GID                the same for the prepared transaction
                                                            with that gid
  probe.py sink FILE ALERTNAME STATUS [LABEL=VALUE...]      notifications in the humans' sink
                                                            holding that alert with that status
"""
import base64
import json
import re
import ssl
import sys
import urllib.parse
import urllib.request


context = None  # ssl context with --cacert
authorization = None  # Authorization header of --basic-auth


def get(url):
    headers = {"Authorization": authorization} if authorization and url.startswith("https:") else {}
    req = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(req, timeout=5, context=context if url.startswith("https:") else None) as r:
        return r.read().decode()


def labels_match(labels, wanted):
    return all(labels.get(k) == v for k, v in wanted.items())


def parse_wanted(items):
    return dict(item.split("=", 1) for item in items)


def unescape(value):
    return re.sub(r'\\(.)', lambda m: "\n" if m.group(1) == "n" else m.group(1), value)


def samples(text):
    """Yields (name, labels, value) from Prometheus text exposition."""
    line_re = re.compile(r'^([A-Za-z_:][A-Za-z0-9_:]*)(\{(.*)\})?\s+(\S+)')
    label_re = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"')
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = line_re.match(line)
        if m:
            yield m.group(1), {k: unescape(v) for k, v in label_re.findall(m.group(3) or "")}, float(m.group(4))


def main(argv):
    global context, authorization
    argv = argv[1:]
    while argv and argv[0] in ("--cacert", "--basic-auth"):
        option, value, argv = argv[0], argv[1], argv[2:]
        if option == "--cacert":
            context = ssl.create_default_context(cafile=value)
        else:
            user, password_file = value.split(":", 1)
            password = open(password_file).read().strip()
            authorization = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    cmd, args = argv[0], argv[1:]
    if cmd == "prom-alert":
        url, name, wanted = args[0], args[1], parse_wanted(args[2:])
        data = json.loads(get(url + "/api/v1/alerts"))["data"]["alerts"]
        states = [a["state"] for a in data if a["labels"].get("alertname") == name and labels_match(a["labels"], wanted)]
        print("firing" if "firing" in states else "pending" if "pending" in states else "inactive")
    elif cmd == "prom-value":
        url, expr = args
        data = json.loads(get(url + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})))["data"]["result"]
        if data:
            print(sum(float(r["value"][1]) for r in data))
    elif cmd == "am-alerts":
        url, name, wanted = args[0], args[1], parse_wanted(args[2:])
        data = json.loads(get(url + "/api/v2/alerts?" + urllib.parse.urlencode({"filter": f'alertname="{name}"'})))
        print(sum(1 for a in data if a["status"]["state"] == "active" and labels_match(a["labels"], wanted)))
    elif cmd == "metric":
        url, name, wanted = args[0], args[1], parse_wanted(args[2:])
        total = sum(v for n, labels, v in samples(get(url)) if n == name and labels_match(labels, wanted))
        print(int(total) if total == int(total) else total)
    elif cmd == "actions":
        url, pid = args
        data = json.loads(get(url + "/actions?limit=500"))["actions"]
        print(" ".join(f'{a["rule"]}:{a["action"]}:{a["result"]}' for a in data if str(a.get("pid")) == pid))
    elif cmd == "prepared-actions":
        url, gid = args
        data = json.loads(get(url + "/actions?limit=500"))["actions"]
        print(" ".join(f'{a["rule"]}:{a["action"]}:{a["result"]}' for a in data if a.get("gid") == gid))
    elif cmd == "sink":
        path, name, status, wanted = args[0], args[1], args[2], parse_wanted(args[3:])
        count = 0
        try:
            lines = open(path).read().splitlines()
        except FileNotFoundError:
            lines = []
        for line in lines:
            note = json.loads(line)
            if any(a["status"] == status and a["labels"].get("alertname") == name and labels_match(a["labels"], wanted)
                   for a in note.get("alerts", [])):
                count += 1
        print(count)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except (OSError, ValueError, KeyError) as e:
        print(f"probe.py: {e}", file=sys.stderr)
        sys.exit(1)
