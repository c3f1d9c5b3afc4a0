#!/usr/bin/env bash
# Installs what pgwarden's build, tests, demo and benchmarks need from Debian's packages,
# only when something is missing. Usage: scripts/deps.sh [build|deb|test|bench|demo]
set -euo pipefail
need=${1:-test}

packages=(libpq-dev libmicrohttpd-dev libyaml-dev libgnutls28-dev libcrypt-dev pkg-config)
commands=(pkg-config)
case "$need" in
  build) ;;
  # make deb: dpkg-deb, dpkg-shlibdeps, dpkg-gencontrol (dpkg-dev; strip comes with its binutils).
  deb) packages+=(dpkg-dev)
       commands+=(dpkg-deb dpkg-shlibdeps dpkg-gencontrol strip) ;;
  # checks/deb.sh also lints, installs (adduser in postinst) and verifies the unit and man page.
  test) packages+=(postgresql postgresql-client prometheus prometheus-alertmanager curl python3 systemd openssl apache2-utils
                   dpkg-dev lintian adduser man-db)
        commands+=(psql promtool amtool prometheus prometheus-alertmanager curl python3 systemd-analyze openssl htpasswd
                   dpkg-deb dpkg-shlibdeps lintian adduser man) ;;
  demo) packages+=(postgresql postgresql-client prometheus prometheus-alertmanager curl python3)
        commands+=(psql promtool amtool prometheus prometheus-alertmanager curl python3) ;;
  bench) packages+=(postgresql postgresql-client prometheus-postgres-exporter curl python3 openssl)
         commands+=(psql prometheus-postgres-exporter curl python3) ;;
  *) echo "deps.sh: unknown set '$need' (use build, deb, test, bench or demo)" >&2; exit 2 ;;
esac

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
for cmd in "${commands[@]}"; do command -v "$cmd" >/dev/null 2>&1 || true; done
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { [ "$need" = build ] || missing+=(postgresql); }

if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
echo "deps.sh: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "deps.sh: missing ${missing[*]} and not root (no sudo): install them with apt-get" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian's postinst may start services on the default ports; pgwarden's scripts use their own.
for svc in postgresql prometheus prometheus-alertmanager prometheus-postgres-exporter; do
  $SUDO service "$svc" stop >/dev/null 2>&1 || true
done
