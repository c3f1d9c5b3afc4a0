#!/usr/bin/env python3
"""Small probes for checks/fleet.sh (Python standard library only). Each prints its answer as
sorted lines and exits 0, or exits 1 when the service cannot be asked.

  query.py prom PROM_URL EXPR LABEL...        one line per series of an instant query: the
                                              values of LABEL... ("-" when absent), then the
                                              sample value
  query.py alerts PROM_URL ALERTNAME          one line per pending or firing alert of that
                                              name: its instance label, then its state
  query.py actions PGWARDEN_URL TOKEN_FILE    one line per record of pgwarden's /actions:
                                              target pid rule action result
  query.py webhook PGWARDEN_URL TOKEN_FILE INSTANCE LABEL=VALUE...
                                              posts a firing notification with one alert
                                              (INSTANCE "-": no instance label) and prints the
                                              HTTP status and each alert's outcome
  query.py sd FILE                            the targets `promtool check service-discovery`
                                              kept (FILE holds its JSON): instance
                                              pgwarden_shard job __param_target __address__ env
  query.py sd-targets URL                     pgwarden's /targets: name, then its labels as
                                              k=v, sorted
"""
import json
import sys
import urllib.error
import urllib.parse
import urllib.request


def get(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.read().decode()


def token_header(path):
    return {"Authorization": "Bearer " + open(path).read().strip()}


def main(argv):
    cmd, args = argv[1], argv[2:]
    lines = []
    if cmd == "prom":
        url, expr, labels = args[0], args[1], args[2:]
        data = json.loads(get(url + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})))["data"]["result"]
        for r in data:
            lines.append(" ".join([r["metric"].get(l, "-") for l in labels] + [r["value"][1]]))
    elif cmd == "alerts":
        url, name = args
        for a in json.loads(get(url + "/api/v1/alerts"))["data"]["alerts"]:
            if a["labels"].get("alertname") == name:
                lines.append(f'{a["labels"].get("instance", "-")} {a["state"]}')
    elif cmd == "actions":
        url, token = args
        for a in json.loads(get(url + "/actions?limit=500", token_header(token)))["actions"]:
            lines.append(f'{a.get("target", "-")} {a["pid"]} {a["rule"]} {a["action"]} {a["result"]}')
    elif cmd == "webhook":
        url, token, instance, extra = args[0], args[1], args[2], args[3:]
        labels = dict(item.split("=", 1) for item in extra)
        if instance != "-":
            labels["instance"] = instance
        body = json.dumps({"version": "4", "status": "firing", "receiver": "pgwarden", "groupLabels": {},
                           "commonLabels": labels, "commonAnnotations": {}, "externalURL": "http://fleet.check",
                           "alerts": [{"status": "firing", "labels": labels, "annotations": {},
                                       "startsAt": "2026-01-01T00:00:00Z", "fingerprint": "f1ee7c4ec0000001"}]})
        req = urllib.request.Request(url + "/webhook", data=body.encode(), method="POST",
                                     headers={"Content-Type": "application/json", **token_header(token)})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                status, text = r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read().decode()
        outcomes = [a.get("outcome", "?") for a in json.loads(text).get("alerts", [])] if status == 200 else []
        print(" ".join([str(status)] + [o.replace(" ", "_") for o in outcomes]))
        return 0
    elif cmd == "sd":
        for t in json.load(open(args[0])):
            l = t.get("labels") or {}
            if l:  # dropped targets have no labels
                lines.append(" ".join(l.get(k, "-") for k in
                                      ("instance", "pgwarden_shard", "job", "__param_target", "__address__", "env")))
    elif cmd == "sd-targets":
        for group in json.loads(get(args[0] + "/targets")):
            for name in group["targets"]:
                lines.append(" ".join([name] + [f"{k}={v}" for k, v in sorted(group["labels"].items())]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    print("\n".join(sorted(lines)))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except (OSError, ValueError, KeyError, IndexError) as e:
        print(f"query.py: {e}", file=sys.stderr)
        sys.exit(1)
