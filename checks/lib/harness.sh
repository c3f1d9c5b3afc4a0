# The harness of checks/alerts.sh, release.sh and deb.sh (sourced; not a check itself, so it
# lives outside checks/*.sh, which scripts/test.sh runs). The caller sets `log` (a file that
# holds each check's output) and `check_name` (the word before the closing
# "NAME: N passed, M failed" line that scripts/test.sh reads).
passed=0
failed=0

pass() { echo "PASS: $1"; passed=$((passed + 1)); }

# fail NAME: a FAIL line, then the first 80 lines of the check's output, indented.
fail() {
  echo "FAIL: $1"
  head -n 80 "$log" | sed 's/^/    /'
  [ "$(wc -l <"$log")" -le 80 ] || echo "    ... ($(wc -l <"$log") lines, truncated)"
  failed=$((failed + 1))
}

# check NAME COMMAND...: runs COMMAND, PASS if it exits 0, FAIL (with its output) otherwise.
check() {
  local name=$1; shift
  if "$@" >"$log" 2>&1; then pass "$name"; else fail "$name"; fi
}

# finish: the closing line, and the exit status (0 only when nothing failed).
finish() {
  echo "$check_name: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit
}

# fetch_metrics URL FILE: polls URL (every 0.1 s, at most 100 times) until it answers, into FILE.
fetch_metrics() {
  for _ in $(seq 100); do
    curl -fsS --max-time 5 "$1" >"$2" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
