#!/usr/bin/env bash
# Builds the release binary, .build/release/pgwarden, the way it is installed and benchmarked:
# `make release`, bench/*.sh and scripts/link-order.sh all build through this script.
#
# The flags keep pgwarden's resident memory down (peak RSS at 2000 sessions ~20 -> ~15 MB; the
# figures are in README, "Memory"). Each one changes the layout or the linking, never the code:
#   --static-swift-stdlib   the Swift runtime inside the binary: no Swift libraries at run time.
#   -function-sections      every Swift function in a section of its own, so the linker can move it.
#   lld --symbol-ordering-file link/pgwarden.order
#                           the functions pgwarden runs when it starts, scrapes and handles the
#                           webhook, placed first and together. The kernel maps 64 KB around each
#                           page fault in a program file, so hot code spread among cold code keeps
#                           far more of the file resident than the code that runs. Names the file
#                           lists that no longer exist are ignored; scripts/link-order.sh rewrites it.
#   -z pack-relative-relocs (RELR) the binary's relative relocations in a few KB instead of ~900 KB
#                           that the dynamic loader reads at every start. Needs glibc >= 2.36 where
#                           the binary runs (Debian 12; older systems refuse to start it, naming
#                           GLIBC_ABI_DT_RELR).
#   libstdc++ linked statically (only the Swift runtime uses it): the few functions used instead of
#                           the whole shared library's relocated data. The Swift driver always asks
#                           for -lstdc++; a one-line linker script named libstdc++.so, found first,
#                           points that request at GCC's libstdc++.a.
# Usage: scripts/build-release.sh [extra swift build arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

libstdcxx=$(cc -print-file-name=libstdc++.a 2>/dev/null || true)
if [ ! -f "$libstdcxx" ]; then
  echo "build-release.sh: GCC's libstdc++.a not found (cc -print-file-name=libstdc++.a); install libstdc++-12-dev (Debian 12), which the Swift toolchain needs anyway" >&2
  exit 1
fi
swift_bin=$(dirname "$(readlink -f "$(command -v swift)")")
if [ ! -x "$swift_bin/ld.lld" ] && ! command -v ld.lld >/dev/null 2>&1; then
  echo "build-release.sh: ld.lld not found next to swift ($swift_bin) or on PATH; the Swift toolchain for Linux ships it" >&2
  exit 1
fi

# The linker script lives in the build directory, which `swift package clean` may remove.
shim=$root/.build/static-libstdc++
mkdir -p "$shim"
printf 'INPUT(%s)\n' "$libstdcxx" >"$shim/libstdc++.so.tmp"
mv "$shim/libstdc++.so.tmp" "$shim/libstdc++.so"

# SwiftPM does not know the ordering file and the linker script are inputs of the link: removing
# the binary makes it link again (a few seconds) whenever either may have changed.
rm -f "$root/.build/release/pgwarden"
swift build -c release --static-swift-stdlib \
  -Xswiftc -Xfrontend -Xswiftc -function-sections \
  -Xswiftc -use-ld=lld \
  -Xlinker --symbol-ordering-file="$root/link/pgwarden.order" -Xlinker --no-warn-symbol-ordering \
  -Xlinker -z -Xlinker pack-relative-relocs \
  -Xswiftc -Xclang-linker -Xswiftc -L"$shim" \
  "$@"

bin=$root/.build/release/pgwarden
if readelf -d "$bin" | grep -q 'libstdc++'; then
  echo "build-release.sh: $bin still needs the shared libstdc++; the static link did not take" >&2
  exit 1
fi
