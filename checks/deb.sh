#!/usr/bin/env bash
# Checks the Debian package (`make deb`, release/deb.sh) on this machine: builds it, runs lintian,
# installs it with apt-get, runs the installed pgwarden as its user with the installed policy
# against a real PostgreSQL, verifies the unit, the user, the conffiles and their owners and modes,
# upgrades it to a new revision with a conffile edited, removes and purges it, and checks that
# nothing is left. It must run as root, on a machine without pgwarden installed (it refuses to
# start otherwise, and touches nothing); whatever happens, it purges what it installed.
# Run by `make test` (scripts/test.sh), which exports PGWARDEN_TEST_PGHOST/PGPORT for its cluster;
# run alone (bash checks/deb.sh) it starts a throwaway cluster of its own. Missing tools are
# skipped with a note, except under CI=true, where that is a failure.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export DEBIAN_FRONTEND=noninteractive

work=$(mktemp -d /tmp/pgwarden-deb.XXXXXX)
chmod 755 "$work"
log=$work/log
own_cluster=""
pgw_pid=""
installed=""   # set once this check has started installing: cleanup then purges
start=$(date +%s)

# What the package, its scripts or the service may leave on the machine: none of it may exist
# before the check (or it would be someone's installation), nor after the purge.
leftovers() {
  local path
  for path in /usr/bin/pgwarden /etc/pgwarden /etc/default/pgwarden /var/log/pgwarden \
    /lib/systemd/system/pgwarden.service /usr/share/doc/pgwarden /usr/share/man/man1/pgwarden.1.gz \
    /usr/share/lintian/overrides/pgwarden /etc/systemd/system/pgwarden.service \
    /etc/systemd/system/multi-user.target.wants/pgwarden.service \
    /var/lib/systemd/deb-systemd-helper-enabled/pgwarden.service.dsh-also \
    /var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/pgwarden.service \
    /var/lib/systemd/deb-systemd-helper-masked/pgwarden.service; do
    if [ -e "$path" ] || [ -L "$path" ]; then echo "left: $path"; fi
  done
  getent passwd pgwarden >/dev/null && echo "left: user pgwarden"
  getent group pgwarden >/dev/null && echo "left: group pgwarden"
  local status
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' pgwarden 2>/dev/null)
  case "$status" in ""|"un "*|"pn "*) ;; *) echo "left: dpkg status of pgwarden '$status'" ;; esac
  return 0
}

cleanup() {
  if [ -n "$pgw_pid" ]; then kill "$pgw_pid" 2>/dev/null; wait "$pgw_pid" 2>/dev/null; fi
  if [ -n "$installed" ]; then
    dpkg --purge pgwarden >/dev/null 2>&1
    # Whatever a failed purge left (the check made sure none of it existed before).
    getent passwd pgwarden >/dev/null && deluser --system --quiet pgwarden >/dev/null 2>&1
    getent group pgwarden >/dev/null && delgroup --system --quiet pgwarden >/dev/null 2>&1
    rm -rf /etc/pgwarden /etc/default/pgwarden /var/log/pgwarden /etc/systemd/system/pgwarden.service \
      /etc/systemd/system/multi-user.target.wants/pgwarden.service \
      /var/lib/systemd/deb-systemd-helper-enabled/pgwarden.service.dsh-also \
      /var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/pgwarden.service \
      /var/lib/systemd/deb-systemd-helper-masked/pgwarden.service
    local left
    left=$(leftovers)
    [ -z "$left" ] || { echo "deb.sh: cleanup could not undo everything:"; echo "$left"; } >&2
  fi
  [ -n "$own_cluster" ] && "$root/scripts/pg-cluster.sh" stop "$work/pg" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

check_name=deb
# shellcheck source=checks/lib/harness.sh
source "$root/checks/lib/harness.sh"
# skip_or_fail WHAT HOW: outside CI a note; under CI=true a failure.
skip_or_fail() {
  if [ "${CI:-}" = true ]; then
    echo "$2" >"$log"; fail "$1"
  else
    echo "SKIP: $1 ($2); CI=true makes this a failure"
  fi
}

# Preconditions: root, the tools, and a machine without pgwarden.
if [ "$(id -u)" -ne 0 ]; then
  skip_or_fail "the package checks need root" "run as root: they install and purge a package"
  finish
fi
missing=()
for tool in dpkg-deb dpkg-shlibdeps lintian systemd-analyze adduser setpriv curl python3 make; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  skip_or_fail "tools installed: ${missing[*]}" "scripts/deps.sh test installs them"
  finish
fi
left=$(leftovers)
if [ -n "$left" ]; then
  echo "$left" >"$log"
  fail "no pgwarden package, user or file on this machine before the check (nothing touched)"
  finish
fi

upstream=$(sed -n 's/.*static let current = "\(.*\)".*/\1/p' Sources/PGWarden/Version.swift)
arch=$(dpkg --print-architecture)
deb=$root/.build/deb/pgwarden_${upstream}-1_${arch}.deb

# 1. make deb builds the package, named after Version.swift and dpkg's architecture.
build() {
  rm -f "$deb"
  make deb || return 1
  [ -f "$deb" ] || { echo "no $deb"; return 1; }
}
check "make deb builds $(basename "$deb")" build
if [ ! -f "$deb" ]; then finish; fi

contents() {
  local list
  list=$(dpkg-deb -c "$deb" | awk '{print $1, $2, $6}') || return 1
  echo "$list"
  local want
  for want in "-rwxr-xr-x root/root ./usr/bin/pgwarden" "-rw-r--r-- root/root ./lib/systemd/system/pgwarden.service" \
    "-rw-r--r-- root/root ./etc/default/pgwarden" "-rw-r--r-- root/root ./etc/pgwarden/pgwarden.yml" \
    "-rw-r--r-- root/root ./usr/share/doc/pgwarden/copyright" "-rw-r--r-- root/root ./usr/share/doc/pgwarden/changelog.Debian.gz" \
    "-rw-r--r-- root/root ./usr/share/doc/pgwarden/changelog.gz" "-rw-r--r-- root/root ./usr/share/doc/pgwarden/README.md.gz" \
    "-rw-r--r-- root/root ./usr/share/man/man1/pgwarden.1.gz"; do
    grep -qxF -- "$want" <<<"$list" || { echo "missing: $want"; return 1; }
  done
  if [ -f examples/web-config.yml ]; then
    grep -qxF -- "-rw-r--r-- root/root ./etc/pgwarden/web-config.yml" <<<"$list" || { echo "missing: web-config.yml"; return 1; }
  fi
  local conffiles expected
  conffiles=$(dpkg-deb --ctrl-tarfile "$deb" | tar -xOf - ./conffiles) || return 1
  expected=$(printf '%s\n' /etc/default/pgwarden /etc/pgwarden/pgwarden.yml)
  [ -f examples/web-config.yml ] && expected=$(printf '%s\n%s\n' "$expected" /etc/pgwarden/web-config.yml)
  echo "conffiles: $conffiles"
  [ "$conffiles" = "$(LC_ALL=C sort <<<"$expected")" ]
}
check "the package holds the binary, unit, conffiles (DEBIAN/conffiles), docs and man page" contents

control() {
  local fields
  fields=$(dpkg-deb -f "$deb" Package Version Architecture Depends) || return 1
  echo "$fields"
  grep -qx "Version: $upstream-1" <<<"$fields" && grep -qx "Architecture: $arch" <<<"$fields" || return 1
  # adduser (postinst), and the package of each library the binary needs, as this machine has them.
  local deps so dep
  deps=adduser
  for so in $(readelf -d .build/release/pgwarden | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    dep=$(dpkg -S "*/$so" 2>/dev/null | grep -v '^diversion' | head -n 1 | cut -d: -f1)
    [ -n "$dep" ] || { echo "no package has $so"; return 1; }
    deps="$deps $dep"
  done
  echo "expected: $deps"
  for dep in $deps; do
    grep -qE "^Depends: (.*, )?$dep( |,|$)" <<<"$fields" || { echo "Depends lacks $dep"; return 1; }
  done
  # Packed relocations need glibc 2.36, which no symbol tells dpkg-shlibdeps.
  if readelf -d .build/release/pgwarden | grep -q '(RELR)'; then
    grep -qE '^Depends: (.*, )?libc6 \(>= 2\.36\)' <<<"$fields" || { echo "RELR binary without libc6 (>= 2.36)"; return 1; }
  fi
}
check "control: version, architecture, Depends from dpkg-shlibdeps (the package of every NEEDED library, libc6 >= 2.36 for RELR)" control

stripped() {
  dpkg-deb --fsys-tarfile "$deb" | tar -xOf - ./usr/bin/pgwarden >"$work/pgwarden" || return 1
  chmod 755 "$work/pgwarden"
  local sections
  sections=$(readelf -SW "$work/pgwarden") || return 1
  grep -q ' \.text ' <<<"$sections" || { echo "no .text section?"; return 1; }
  ! grep -E '\.symtab|\.debug_' <<<"$sections"
}
check "/usr/bin/pgwarden is stripped (no .symtab, no .debug_*)" stripped

man_page() {
  dpkg-deb --fsys-tarfile "$deb" | tar -xOf - ./usr/share/man/man1/pgwarden.1.gz | gzip -dc >"$work/pgwarden.1" || return 1
  local text subs sub flag
  text=$(sed 's/\\-/-/g' "$work/pgwarden.1")
  subs=$("$work/pgwarden" --help | sed -n '/^SUBCOMMANDS:$/,/^$/p' | awk 'NR > 1 && NF { print $1 }')
  [ -n "$subs" ] || { echo "no subcommands in --help"; return 1; }
  local help count=0
  for sub in "" $subs; do
    # shellcheck disable=SC2086
    help=$("$work/pgwarden" $sub --help) || { echo "pgwarden $sub --help failed"; return 1; }
    for flag in $(grep -oE '^  --[a-z][a-z.-]*' <<<"$help"); do
      grep -qF -- "\\fB$flag\\fR" <<<"$text" || { echo "man page lacks $flag (pgwarden $sub --help)"; return 1; }
      count=$((count + 1))
    done
  done
  echo "$count flags of pgwarden and its subcommands ($subs) found in the man page"
  [ "$count" -gt 0 ] || return 1
  LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$work/pgwarden.1" 2>&1 >/dev/null | tee "$work/man.err"
  [ ! -s "$work/man.err" ]
}
check "the man page has every flag of every subcommand's --help, and man has no warnings" man_page

# 2. lintian: no error, no warning that is not overridden (information tags are shown).
# It runs as nobody (lintian advises against root) on a copy of the package in the work directory.
lint() {
  cp "$deb" "$work/lint.deb" && chmod 644 "$work/lint.deb" || return 1
  (cd "$work" && env HOME="$work" setpriv --reuid=nobody --regid=nogroup --clear-groups -- \
    lintian --display-info --fail-on error,warning lint.deb)
}
check "lintian: no errors or warnings beyond the overrides (usr/share/lintian/overrides/pgwarden)" lint
grep -E '^[EWIP]: ' "$log" | sed 's/^/    lintian: /'

# 3. Install with apt-get (Depends resolved from this machine's packages).
installed=1
install_deb() {
  apt-get install -y "$deb" </dev/null &&
    [ "$(dpkg-query -W -f='${db:Status-Abbrev} ${Version}' pgwarden)" = "ii  $upstream-1" ]
}
check "apt-get install ./$(basename "$deb")" install_deb

version() {
  local text
  text=$(/usr/bin/pgwarden --version) || return 1
  echo "$text"
  [[ "$text" == "pgwarden, version $upstream ("* ]]
}
check "/usr/bin/pgwarden --version" version

user() {
  local entry group uid
  entry=$(getent passwd pgwarden) || { echo "no user pgwarden"; return 1; }
  group=$(getent group pgwarden) || { echo "no group pgwarden"; return 1; }
  echo "$entry"; echo "$group"
  IFS=: read -r _ _ uid gid _ home shell <<<"$entry"
  [ "$gid" = "$(cut -d: -f3 <<<"$group")" ] && [ "$home" = /nonexistent ] && [ ! -e /nonexistent ] &&
    [ "$uid" -lt 1000 ] && [ "$shell" = /usr/sbin/nologin ]
}
check "system user and group pgwarden (home /nonexistent, not created; nologin)" user

# owner_mode PATH OWNER:GROUP MODE
owner_mode() {
  local got
  got=$(stat -c '%U:%G %a' "$1") || return 1
  echo "$1: $got"
  [ "$got" = "$2 $3" ]
}
files() {
  owner_mode /etc/pgwarden root:pgwarden 750 && owner_mode /etc/pgwarden/pgwarden.yml root:root 644 &&
    owner_mode /etc/default/pgwarden root:root 644 && owner_mode /usr/bin/pgwarden root:root 755 || return 1
  if [ -f examples/web-config.yml ]; then
    owner_mode /etc/pgwarden/web-config.yml root:root 644 || return 1
  fi
  local conffiles
  conffiles=$(dpkg-query -W -f='${Conffiles}\n' pgwarden)
  echo "$conffiles"
  grep -q '^ /etc/pgwarden/pgwarden.yml [0-9a-f]\{32\}$' <<<"$conffiles" &&
    grep -q '^ /etc/default/pgwarden [0-9a-f]\{32\}$' <<<"$conffiles"
}
check "/etc/pgwarden root:pgwarden 0750; conffiles root 0644, registered as conffiles" files

policy() {
  # The example with one change, dry_run: true at the top level, under a comment saying why.
  local installed=/etc/pgwarden/pgwarden.yml
  diff examples/pgwarden.yml "$installed"
  [ "$(grep -c '^dry_run:' "$installed")" = 1 ] && grep -qx 'dry_run: true' "$installed" || return 1
  grep -B 3 -x 'dry_run: true' "$installed" | grep -q '^# The Debian package installs this policy with dry_run: true' ||
    { echo "no comment above dry_run: true"; return 1; }
  diff <(grep -v '^#' examples/pgwarden.yml | sed -E 's/^dry_run:.*/dry_run: true/') <(grep -v '^#' "$installed")
}
check "/etc/pgwarden/pgwarden.yml is the example with dry_run: true at the top level" policy

unit() {
  local unit=/lib/systemd/system/pgwarden.service out
  out=$(systemd-analyze verify "$unit" 2>&1); local rc=$?
  echo "$out"
  [ $rc -eq 0 ] && ! grep -qE '(^|/)pgwarden\.service:' <<<"$out" || return 1
  grep -qx 'ExecStart=/usr/bin/pgwarden $PGWARDEN_ARGS' "$unit" && grep -qx 'EnvironmentFile=-/etc/default/pgwarden' "$unit" &&
    grep -qx 'User=pgwarden' "$unit" && grep -qx 'Group=pgwarden' "$unit" || { echo "ExecStart, EnvironmentFile, User or Group"; return 1; }
  # Every directive of the example's [Service] but ExecStart (the hardening included) is kept.
  local line count=0
  while IFS= read -r line; do
    grep -qxF -- "$line" "$unit" || { echo "the example's '$line' is not in the unit"; return 1; }
    count=$((count + 1))
  done < <(sed -n '/^\[Service\]/,/^\[/p' examples/pgwarden.service | grep -E '^[A-Z][A-Za-z]*=' | grep -v '^ExecStart=')
  echo "$count directives of the example's [Service] kept"
  [ "$count" -ge 5 ] && grep -qx 'ProtectSystem=strict' "$unit" || return 1
  # Enabled by deb-systemd-helper, as on a system that runs systemd.
  [ "$(readlink /etc/systemd/system/multi-user.target.wants/pgwarden.service)" = /lib/systemd/system/pgwarden.service ] ||
    { echo "not enabled (multi-user.target.wants)"; return 1; }
}
check "the unit: systemd-analyze verify is silent, arguments from /etc/default/pgwarden, the example's hardening kept, enabled" unit

default_flags() {
  # The flags /etc/default/pgwarden names, in its settings or its comments, are pgwarden's.
  local help flags flag
  help=$(/usr/bin/pgwarden serve --help)
  flags=$(grep -oE -- '--[a-z][a-z.-]*[a-z]' /etc/default/pgwarden | sort -u)
  echo "$flags"
  [ -n "$flags" ] || return 1
  for flag in $flags; do
    grep -qE -- "^  $flag( |$)" <<<"$help" || { echo "pgwarden serve does not know $flag"; return 1; }
  done
  # Only NAME=value settings; the one that is set is PGWARDEN_ARGS.
  grep -vE '^(#|$)' /etc/default/pgwarden | tee "$work/settings"
  [ "$(cat "$work/settings")" = 'PGWARDEN_ARGS=""' ]
}
check "/etc/default/pgwarden: PGWARDEN_ARGS=\"\" and every flag it names exists" default_flags

# 4. The installed binary, run the way the unit runs it (as pgwarden, PGWARDEN_ARGS, PGPASSFILE in
#    /etc/pgwarden), with the installed policy and a token in /etc/pgwarden: /metrics has pg_up 1,
#    and the webhook runs the policy in dry run.
if [ -n "${PGWARDEN_TEST_PGPORT:-}" ]; then
  host=${PGWARDEN_TEST_PGHOST:-127.0.0.1}
  port=$PGWARDEN_TEST_PGPORT
elif port=$(scripts/pg-cluster.sh start "$work/pg" 2>"$log"); then
  own_cluster=1
  host=127.0.0.1
else
  fail "a throwaway PostgreSQL starts"
  port=""
fi
if [ -n "$port" ]; then
  wport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  token=deb-check-$RANDOM$RANDOM
  printf '%s\n' "$token" >/etc/pgwarden/webhook.token
  chown root:pgwarden /etc/pgwarden/webhook.token && chmod 0640 /etc/pgwarden/webhook.token
  echo "$host:$port:postgres:postgres:postgres" >/etc/pgwarden/pgpass
  chown pgwarden:pgwarden /etc/pgwarden/pgpass && chmod 0600 /etc/pgwarden/pgpass
  (
    set -a; . /etc/default/pgwarden; set +a
    # shellcheck disable=SC2086
    exec env HOME=/nonexistent PGPASSFILE=/etc/pgwarden/pgpass \
      setpriv --reuid=pgwarden --regid=pgwarden --clear-groups -- /usr/bin/pgwarden $PGWARDEN_ARGS \
      --web.listen-address "127.0.0.1:$wport" --dsn "host=$host port=$port user=postgres dbname=postgres" \
      --config.file /etc/pgwarden/pgwarden.yml --webhook.token-file /etc/pgwarden/webhook.token --target.name deb-check
  ) >"$work/pgwarden.log" 2>&1 </dev/null &
  pgw_pid=$!
  scrape() {
    fetch_metrics "http://127.0.0.1:$wport/metrics" "$work/metrics" || true
    cat "$work/pgwarden.log"
    [ "$(ps -o user= -p "$pgw_pid")" = pgwarden ] || { echo "not running as pgwarden"; return 1; }
    grep -x 'pg_up 1' "$work/metrics" && grep -E '^pg_max_connections [0-9]+' "$work/metrics"
  }
  check "the installed pgwarden, as user pgwarden with /etc/pgwarden/pgpass, serves /metrics with pg_up 1" scrape
  dry_run() {
    local body='{"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"PostgresIdleInTransactionTooLong","pgwarden":"remediate","instance":"deb-check","datname":"postgres","usename":"nobody"}}]}'
    curl -sS --max-time 10 -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
      -d "$body" "http://127.0.0.1:$wport/webhook" | tee "$work/webhook.json"
    echo
    python3 -c '
import json, sys
alert = json.load(open(sys.argv[1]))["alerts"][0]
sys.exit(0 if alert["rule"] == "idle-in-transaction" and alert["dry_run"] is True else 1)' "$work/webhook.json" &&
      grep -q 'msg="webhook enabled" config.file=/etc/pgwarden/pgwarden.yml dry_run=true ' "$work/pgwarden.log"
  }
  check "the installed policy loads in dry run, and a matching alert's rule runs in dry run (webhook answer)" dry_run
  stop() {
    kill -TERM "$pgw_pid"; wait "$pgw_pid"; local status=$?
    pgw_pid=""
    [ "$status" -eq 0 ]
  }
  check "SIGTERM stops it with status 0" stop
fi

# 5. Upgrade to a new revision: a conffile the operator edited keeps the edit, the user and
#    /etc/pgwarden's owner and mode stay, files the operator added stay.
upgrade() {
  local uid deb2
  uid=$(id -u pgwarden)
  echo "# edited by checks/deb.sh" >>/etc/pgwarden/pgwarden.yml
  deb2=$(DEB_REVISION=2 DEB_OUTDIR=$work/deb2 release/deb.sh) || return 1
  apt-get install -y "$deb2" </dev/null || return 1
  [ "$(dpkg-query -W -f='${db:Status-Abbrev} ${Version}' pgwarden)" = "ii  $upstream-2" ] || { echo "not 2"; return 1; }
  tail -n 1 /etc/pgwarden/pgwarden.yml | grep -qx '# edited by checks/deb.sh' || { echo "edit lost"; return 1; }
  [ ! -e /etc/pgwarden/pgwarden.yml.dpkg-dist ] && [ ! -e /etc/pgwarden/pgwarden.yml.dpkg-new ] || { echo "dpkg-dist/new"; return 1; }
  [ "$(id -u pgwarden)" = "$uid" ] && owner_mode /etc/pgwarden root:pgwarden 750 && [ -f /etc/pgwarden/webhook.token ]
}
check "upgrade to $upstream-2 keeps the edited policy, the user and /etc/pgwarden" upgrade

# 6. Remove: the binary goes, the conffiles and the user stay, the unit is masked.
remove() {
  apt-get remove -y pgwarden </dev/null || return 1
  [ "$(dpkg-query -W -f='${db:Status-Abbrev}' pgwarden)" = "rc " ] || { echo "status not rc"; return 1; }
  [ ! -e /usr/bin/pgwarden ] && [ ! -e /lib/systemd/system/pgwarden.service ] && [ -f /etc/pgwarden/pgwarden.yml ] &&
    [ -f /etc/default/pgwarden ] && getent passwd pgwarden >/dev/null &&
    [ "$(readlink /etc/systemd/system/pgwarden.service)" = /dev/null ]
}
check "apt-get remove: binary and unit gone, conffiles and user kept, unit masked" remove

# 7. Purge: nothing left.
purge() {
  apt-get purge -y pgwarden </dev/null || return 1
  local left
  left=$(leftovers)
  echo "$left"
  [ -z "$left" ] || return 1
  # dpkg -l knows nothing of it, or lists it as not installed (status n).
  dpkg -l pgwarden 2>&1
  ! dpkg -l pgwarden 2>/dev/null | grep -qE '^[a-z][^n][a-z ] +pgwarden '
}
check "apt-get purge: no binary, /etc/pgwarden, conffile, unit, enablement, user, group or dpkg record left" purge
echo "deb: took $(($(date +%s) - start)) s"
finish
