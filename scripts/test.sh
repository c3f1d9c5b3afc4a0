#!/usr/bin/env bash
# make test: installs what is missing, builds, starts a throwaway PostgreSQL on a random port,
# runs every test suite against it, and tears it down at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

scripts/deps.sh test
scripts/stamp-build.sh
swift build --build-tests 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' || true
test -x .build/debug/pgwarden || { echo "test.sh: build failed" >&2; exit 1; }

work=$(mktemp -d /tmp/pgwarden-test.XXXXXX)
chmod 755 "$work"
cleanup() {
  "$root/scripts/pg-cluster.sh" stop "$work/pg" || true
  rm -rf "$work"
}
trap cleanup EXIT

port=$(scripts/pg-cluster.sh start "$work/pg")
export PGWARDEN_TEST_PGHOST=127.0.0.1
export PGWARDEN_TEST_PGPORT=$port
export PGWARDEN_TEST_SOCKET_DIR=$work/pg/socket
export PGWARDEN_TEST_CLUSTER_SCRIPT=$root/scripts/pg-cluster.sh
export PGWARDEN_TEST_WORKDIR=$work
export PGWARDEN_BIN=$root/.build/debug/pgwarden
echo "test.sh: PostgreSQL on 127.0.0.1:$port"

status=0
swift test --skip-build 2>&1 | tee "$work/swift-test.log" || status=$?
grep -qE "Test run with [0-9]+ tests? .*passed" "$work/swift-test.log" || status=1
swift_total=$(grep -oE "Test run with [0-9]+ tests?" "$work/swift-test.log" | tail -n 1 | grep -oE "[0-9]+" || echo 0)
# One line per failed test ("✘ Test name() failed after …"); the run's own summary line
# ("✘ Test run with N tests … failed") is not a test.
swift_failed=$(grep -E "^✘ Test [^ ]+.* failed after" "$work/swift-test.log" | grep -cvE "^✘ Test run with " || true)
passed=$((swift_total - swift_failed))
failed=$swift_failed
[ "$status" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1

for extra in checks/*.sh; do
  [ -e "$extra" ] || continue
  echo "test.sh: running $extra"
  bash "$extra" 2>&1 | tee "$work/extra.log" || status=1
  line=$(grep -E "^[a-z0-9]+: [0-9]+ passed, [0-9]+ failed$" "$work/extra.log" | tail -n 1)
  if [ -z "$line" ]; then
    echo "test.sh: $extra printed no 'N passed, M failed' line" >&2
    status=1
    failed=$((failed + 1))
    continue
  fi
  passed=$((passed + $(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')))
  failed=$((failed + $(echo "$line" | sed -E 's/.* ([0-9]+) failed$/\1/')))
done
[ "$failed" -gt 0 ] && status=1
echo "total: $passed passed, $failed failed"
exit $status
