#!/usr/bin/env bash
# Builds the release binary, .build/release/pgwarden, the way it is installed and benchmarked:
# `make release`, bench/*.sh and scripts/link-order.sh all build through this script.
#
# The flags keep pgwarden's resident memory down (peak RSS at 2000 sessions ~20 -> ~15 MB; the
# figures are in README, "Benchmarks", and bench/rss.sh measures them). Each one changes the layout or the linking, never the code:
#   --static-swift-stdlib   the Swift runtime inside the binary: no Swift libraries at run time.
#   -function-sections      every Swift function in a section of its own, so the linker can move it.
#   lld --symbol-ordering-file link/pgwarden.order
#                           the functions pgwarden runs when it starts, scrapes and handles the
#                           webhook, placed first and together. The kernel maps 64 KB around each
#                           page fault in a program file, so hot code spread among cold code keeps
#                           far more of the file resident than the code that runs. Names the file
#                           lists that no longer exist are ignored; scripts/link-order.sh rewrites it.
#   -z pack-relative-relocs (RELR) the binary's relative relocations in a few KB instead of ~900 KB
#                           that the dynamic loader reads at every start. Only when the build
#                           machine has glibc >= 2.36 (Debian 12); the binary then needs 2.36 too
#                           (an older glibc refuses to start it, naming GLIBC_ABI_DT_RELR).
#   libstdc++ linked statically (only the Swift runtime uses it): the few functions used instead of
#                           the whole shared library's relocated data. The Swift driver always asks
#                           for -lstdc++; a one-line linker script named libstdc++.so, found first,
#                           points that request at GCC's libstdc++.a.
# Usage: scripts/build-release.sh [extra swift build arguments...]   (RELR=0: see below)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

swift_path=$(command -v swift || true)
[ -n "$swift_path" ] || { echo "build-release.sh: swift is not on PATH; install the Swift toolchain (swift.org) and add its usr/bin to PATH" >&2; exit 1; }
swift_bin=$(dirname "$(readlink -f "$swift_path")")
if [ ! -x "$swift_bin/ld.lld" ] && ! command -v ld.lld >/dev/null 2>&1; then
  echo "build-release.sh: ld.lld not found next to swift ($swift_bin) or on PATH; the Swift toolchain for Linux ships it" >&2
  exit 1
fi
# The toolchain's clang finds GCC's libstdc++.a the way the Swift driver's link does.
compiler=$swift_bin/clang
[ -x "$compiler" ] || compiler=cc
libstdcxx=$("$compiler" -print-file-name=libstdc++.a 2>/dev/null || true)
if [ ! -f "$libstdcxx" ]; then
  echo "build-release.sh: GCC's libstdc++.a not found ($compiler -print-file-name=libstdc++.a); install libstdc++-12-dev (Debian 12), which --static-swift-stdlib needs anyway" >&2
  exit 1
fi

# RELR needs the dynamic loader's support (glibc 2.36); on an older build machine the relocations
# stay unpacked, and the binary runs wherever that glibc does.
# RELR=0 in the environment leaves them unpacked on purpose (to run the binary on an older glibc).
relr=(-Xlinker -z -Xlinker pack-relative-relocs)
glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}' || true)
if [ "${RELR:-1}" = 0 ]; then
  relr=()
elif [ -z "$glibc" ] || [ "$(printf '%s\n2.36\n' "$glibc" | sort -V | head -n 1)" != 2.36 ]; then
  echo "build-release.sh: glibc ${glibc:-unknown} < 2.36: relative relocations left unpacked (about 1 MB more resident)" >&2
  relr=()
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
  "${relr[@]}" \
  -Xswiftc -Xclang-linker -Xswiftc -L"$shim" \
  "$@"

bin=$root/.build/release/pgwarden
dynamic=$(readelf -d "$bin")
if grep -q 'libstdc++' <<<"$dynamic"; then
  echo "build-release.sh: $bin still needs the shared libstdc++; the static link did not take" >&2
  exit 1
fi
