# What the end-to-end checks (e2e.sh, fleet.sh) share: held psql sessions, stopping their
# processes, their logs. Sourced; needs $W, the check's work directory, with a subdirectory s/,
# and associative arrays ses_pid and svc_pid.
#
# held_session NAME APPNAME SOCKET_DIR PORT ROLE DB SQL: a psql client of ROLE in DB, with
# application_name APPNAME, that runs SQL and keeps its connection until `send NAME STATEMENTS`
# gives it more to run (it then ends) or $W/stop appears. Its output goes to $W/s/NAME.out.
held_session() {
  local name=$1 appname=$2 socket=$3 port=$4 role=$5 dbname=$6 statements=$7
  ( printf '%s\n' "$statements"
    while [ ! -e "$W/s/$name.next" ] && [ ! -e "$W/stop" ]; do sleep 0.1; done
    [ -e "$W/s/$name.next" ] && cat "$W/s/$name.next" ) \
  | PGAPPNAME=$appname psql -X -q -At -v ON_ERROR_STOP=1 -h "$socket" -p "$port" -U "$role" -d "$dbname" \
      >"$W/s/$name.out" 2>&1 &
  ses_pid[$name]=$!
}

# send NAME STATEMENTS: the held session NAME runs STATEMENTS and ends.
send() { printf '%s\n' "$2" >"$W/s/$1.next.tmp" && mv "$W/s/$1.next.tmp" "$W/s/$1.next"; }

# state_condition [STATE]: the SQL condition on pg_stat_activity.state for `backend` lookups:
# the given state, or any (a backend that is not a background process) without one.
state_condition() { if [ $# -ge 1 ]; then echo "state = '$1'"; else echo "state IS NOT NULL"; fi; }

# stop_held: ends the held sessions (their feeders see $W/stop, their clients get EOF) and every
# process in ses_pid and svc_pid: TERM, then KILL for those still there after 10 seconds.
stop_held() {
  touch "$W/stop"
  local pid
  for pid in "${ses_pid[@]}" "${svc_pid[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  local deadline=$((SECONDS + 10))
  for pid in "${ses_pid[@]}" "${svc_pid[@]}"; do
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
  done
  wait 2>/dev/null
}

# tail_logs LINES KEEP_VARIABLE FILE...: the last LINES lines of each FILE that exists, then how
# to keep the work directory (the check's KEEP_VARIABLE=1).
tail_logs() {
  local lines=$1 keep=$2 f
  shift 2
  for f in "$@"; do
    [ -f "$f" ] || continue
    echo "----- ${f#"$W"/} (last $lines lines) -----"
    tail -n "$lines" "$f"
  done
  echo "----- ($keep=1 keeps the work dir, with the generated configuration in cfg/) -----"
}
