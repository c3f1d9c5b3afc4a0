#!/usr/bin/env python3
"""Stands in for the humans' relay of examples/alertmanager.yml during checks/e2e.sh: accepts
Alertmanager webhook notifications and appends each, as one JSON line, to FILE.

    sink.py PORT FILE
"""
import http.server
import json
import sys

port, path = int(sys.argv[1]), sys.argv[2]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(path, "a") as f:
            f.write(json.dumps(json.loads(body)) + "\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, fmt, *args):
        sys.stderr.write("sink: " + (fmt % args) + "\n")


http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
