# Shared by the benchmark scripts (sourced).

# wait_holder NAME OUT ERR PID TRIES: waits until the session holder (holder.c) with process PID
# prints `ready` in OUT, polling every 0.2 s at most TRIES times; exits the script, with its
# standard error, if it dies or is not ready by then.
wait_holder() {
  local name=$1 out=$2 err=$3 pid=$4 tries=$5
  for _ in $(seq "$tries"); do
    grep -q '^ready' "$out" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { echo "$name: holder failed:" >&2; cat "$err" >&2; exit 1; }
    sleep 0.2
  done
  grep -q '^ready' "$out" || { echo "$name: holder not ready after $((tries / 5)) s" >&2; exit 1; }
}
