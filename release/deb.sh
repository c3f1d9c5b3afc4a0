#!/usr/bin/env bash
# `make deb`: the Debian package of the release binary, .build/deb/pgwarden_<version>-<revision>_<arch>.deb,
# built with dpkg's own tools (dpkg-shlibdeps for Depends, dpkg-gencontrol, dpkg-deb); no debhelper,
# since the binary is built by release/build.sh and not by a Debian source package.
# The upstream version is Sources/PGWarden/Version.swift's `current`; the Debian revision is
# DEB_REVISION (default 1). DEB_OUTDIR changes the output directory.
# What the package holds, and where it comes from:
#   /usr/bin/pgwarden                       .build/release/pgwarden (make release), stripped
#   /lib/systemd/system/pgwarden.service    examples/pgwarden.service with its ExecStart= replaced:
#                                           arguments from /etc/default/pgwarden, a log directory
#   /etc/default/pgwarden                   release/debian/default (conffile)
#   /etc/pgwarden/pgwarden.yml              examples/pgwarden.yml with dry_run: true (conffile)
#   /etc/pgwarden/web-config.yml            examples/web-config.yml, when there is one (conffile)
#   /usr/share/man/man1/pgwarden.1.gz       release/debian/manpage.sh, from the binary's --help
#   /usr/share/doc/pgwarden/                copyright, changelog.Debian.gz, changelog.gz (CHANGELOG.md),
#                                           README.md.gz
#   /usr/share/lintian/overrides/pgwarden   release/debian/lintian-overrides, when there is one
#   DEBIAN/postinst, prerm, postrm          release/debian/ (user, /etc/pgwarden's mode, the unit)
set -euo pipefail
umask 022
cd "$(dirname "$0")/.."
root=$(pwd)
deb=$root/release/debian

die() { echo "release/deb.sh: $*" >&2; exit 1; }
for tool in dpkg-deb dpkg-shlibdeps dpkg-gencontrol strip readelf gzip awk; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found; apt-get install dpkg-dev (or: scripts/deps.sh deb)"
done

bin=$root/.build/release/pgwarden
[ -x "$bin" ] || die "$bin not found; make deb builds it (make release)"
upstream=$(sed -n 's/.*static let current = "\(.*\)".*/\1/p' Sources/PGWarden/Version.swift)
[[ "$upstream" =~ ^[0-9][A-Za-z0-9.+~]*$ ]] || die "no usable version in Sources/PGWarden/Version.swift (found '$upstream')"
revision=${DEB_REVISION:-1}
[[ "$revision" =~ ^[A-Za-z0-9.+~]+$ ]] || die "DEB_REVISION '$revision' is not a Debian revision"
version=$upstream-$revision
built=$("$bin" --version) || die "$bin --version failed"
[[ "$built" == "pgwarden, version $upstream "* ]] || die "$bin is not pgwarden $upstream; run make release"
arch=$(dpkg --print-architecture)
out=${DEB_OUTDIR:-$root/.build/deb}
package=$out/pgwarden_${version}_$arch.deb
# Dates in the package (changelog, man page, file times) are the last commit's, not the build's.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
maintainer=$(sed -n 's/^Maintainer: //p' "$deb/control")
git_revision=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)

mkdir -p "$out"
work=$(mktemp -d "$out/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
tree=$work/pgwarden     # the package's files, DEBIAN/ included
src=$work/src           # what dpkg-shlibdeps and dpkg-gencontrol read: debian/control, debian/changelog
mkdir -p "$tree/DEBIAN" "$src/debian"

# The binary, stripped as dh_strip strips executables.
install -D -m 755 "$bin" "$tree/usr/bin/pgwarden"
strip --remove-section=.comment --remove-section=.note "$tree/usr/bin/pgwarden"

# The unit: the example's [Unit], [Service] hardening and [Install] as they are, with the man page
# as Documentation=; its header comment, and its ExecStart= with the comments right above it,
# replaced.
unit=$tree/lib/systemd/system/pgwarden.service
mkdir -p "$(dirname "$unit")"
awk '
  BEGIN { header = 1 }
  header && /^\[/ {
    header = 0
    print "# pgwarden.service, from the pgwarden Debian package. Its flags and connection string are in"
    print "# /etc/default/pgwarden. Change the rest with a drop-in (systemctl edit pgwarden), not here:"
    print "# upgrades replace this file."
    print "# Reload the policy and re-read the secret files: systemctl reload pgwarden (SIGHUP)."
  }
  header { next }
  cont { cont = /\\$/; next }
  /^#/ { held = held $0 "\n"; next }
  /^ExecStart=/ {
    held = ""; n++; cont = /\\$/
    print "# PGWARDEN_ARGS (split at blanks), DATA_SOURCE_NAME and PGPASSFILE: /etc/default/pgwarden."
    print "EnvironmentFile=-/etc/default/pgwarden"
    print "ExecStart=/usr/bin/pgwarden $PGWARDEN_ARGS"
    print "# The one directory pgwarden may write to (ProtectSystem=strict), for --audit.file."
    print "LogsDirectory=pgwarden"
    print "LogsDirectoryMode=0750"
    next
  }
  { printf "%s", held; held = ""; print }
  /^Description=/ { print "Documentation=man:pgwarden(1)" }
  END {
    printf "%s", held
    if (n != 1) { print "examples/pgwarden.service: " n + 0 " ExecStart= lines, expected one" > "/dev/stderr"; exit 1 }
  }
' examples/pgwarden.service >"$unit" || die "cannot derive the unit from examples/pgwarden.service"
grep -qx 'User=pgwarden' "$unit" || die "examples/pgwarden.service no longer runs as User=pgwarden"
chmod 644 "$unit"

# Conffiles. The policy turns dry run on at the top level: an installed package signals no session
# before the operator has read it.
install -d -m 755 "$tree/etc/pgwarden" "$tree/etc/default"
awk '
  /^dry_run:[ \t]*(true|false)[ \t]*(#.*)?$/ {
    n++
    print "# The Debian package installs this policy with dry_run: true (examples/pgwarden.yml has false):"
    print "# every rule only reports what it would do, and no session is signalled until the rules below"
    print "# are right for this server and this line says false."
    print "dry_run: true"
    next
  }
  { print }
  END { if (n != 1) { print "examples/pgwarden.yml: " n + 0 " top-level dry_run: lines, expected one" > "/dev/stderr"; exit 1 } }
' examples/pgwarden.yml >"$tree/etc/pgwarden/pgwarden.yml" || die "cannot derive the policy from examples/pgwarden.yml"
chmod 644 "$tree/etc/pgwarden/pgwarden.yml"
web_config=""
if [ -f examples/web-config.yml ]; then
  install -m 644 examples/web-config.yml "$tree/etc/pgwarden/web-config.yml"
  "$bin" --help | grep -qE -- '^  --web\.config\.file( |$)' && web_config=1
fi
awk -v web_config="$web_config" '
  $0 == "#@web-config@" {
    if (web_config) {
      print ""
      print "# TLS, client certificates and basic auth for every endpoint: /etc/pgwarden/web-config.yml"
      print "# says how (the paths in it are relative to /etc/pgwarden)."
      print "#   --web.config.file=/etc/pgwarden/web-config.yml"
    }
    next
  }
  { print }
' "$deb/default" >"$tree/etc/default/pgwarden"
chmod 644 "$tree/etc/default/pgwarden"
(cd "$tree" && find etc -type f | LC_ALL=C sort | sed 's|^|/|') >"$tree/DEBIAN/conffiles"

# Documentation and the man page.
doc=$tree/usr/share/doc/pgwarden
install -D -m 644 "$deb/copyright" "$doc/copyright"
cat >"$src/debian/changelog" <<EOF
pgwarden ($version) unstable; urgency=medium

  * pgwarden $upstream, packaged by make deb from revision $git_revision.
    The changes in pgwarden itself are in changelog.gz.

 -- $maintainer  $(date -u -R -d "@$SOURCE_DATE_EPOCH")
EOF
gzip -9n <"$src/debian/changelog" >"$doc/changelog.Debian.gz"
gzip -9n <CHANGELOG.md >"$doc/changelog.gz"
gzip -9n <README.md >"$doc/README.md.gz"
man=$tree/usr/share/man/man1
mkdir -p "$man"
"$deb/manpage.sh" "$tree/usr/bin/pgwarden" "$upstream" "$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%d)" >"$work/pgwarden.1"
gzip -9n <"$work/pgwarden.1" >"$man/pgwarden.1.gz"
if [ -f "$deb/lintian-overrides" ]; then
  install -D -m 644 "$deb/lintian-overrides" "$tree/usr/share/lintian/overrides/pgwarden"
fi
chmod 644 "$doc"/* "$man"/*

# Maintainer scripts, Depends (dpkg-shlibdeps on the binary), the control file, md5sums.
install -m 755 "$deb/postinst" "$deb/prerm" "$deb/postrm" "$tree/DEBIAN/"
cp "$deb/control" "$src/debian/control"
(cd "$src" && dpkg-shlibdeps -T"$work/substvars" "$tree/usr/bin/pgwarden")
# dpkg-shlibdeps goes by the symbols the binary takes from each library, not by version needs that
# no symbol carries: packed relocations (Package.swift) need GLIBC_ABI_DT_RELR, glibc 2.36 or later.
if readelf -V "$tree/usr/bin/pgwarden" | grep -q 'Name: GLIBC_ABI_DT_RELR'; then
  echo 'misc:Depends=libc6 (>= 2.36)' >>"$work/substvars"
else
  echo 'misc:Depends=' >>"$work/substvars"
fi
(cd "$src" && dpkg-gencontrol -ppgwarden -T"$work/substvars" -P"$tree" -f"$work/files")
(cd "$tree" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -printf '%P\0' |
  LC_ALL=C sort -z | xargs -0 md5sum >DEBIAN/md5sums)
chmod 644 "$tree/DEBIAN/control" "$tree/DEBIAN/conffiles" "$tree/DEBIAN/md5sums"

find "$tree" -newermt "@$SOURCE_DATE_EPOCH" -print0 | xargs -0r touch --no-dereference --date="@$SOURCE_DATE_EPOCH"
dpkg-deb --root-owner-group --build "$tree" "$package" >/dev/null
echo "$package"
