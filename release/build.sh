#!/usr/bin/env bash
# `make release`: builds the installed binary, .build/release/pgwarden. The release tuning lives
# here and only here; each flag changes the layout or the linking, never the code, and
# docs/benchmarks.md has what each is worth (bench/rss.sh measures it):
#   --static-swift-stdlib   the Swift runtime inside the binary: no Swift libraries to install,
#                           and only the runtime pages pgwarden uses become resident.
#   -z pack-relative-relocs (RELR) the binary's relative relocations packed, instead of the large
#                           table the dynamic loader reads (and keeps resident) at every start. Only
#                           when the build machine has glibc >= 2.36 (Debian 12); the binary then
#                           needs 2.36 too. RELR=0 in the environment leaves them unpacked.
#   libstdc++ linked statically (only the Swift runtime uses it): the few functions used instead of
#                           the whole shared library's relocated data. The Swift driver always asks
#                           for -lstdc++; a one-line linker script named libstdc++.so, found first,
#                           points that request at GCC's libstdc++.a.
# The malloc arena cap is the fourth piece of tuning; it is code (Sources/PGWardenCLI/MallocArenas.swift)
# because it applies to every build. A plain `swift build -c release` works too, without these.
# Usage: release/build.sh [extra swift build arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

swift_path=$(command -v swift || true)
[ -n "$swift_path" ] || { echo "release/build.sh: swift is not on PATH; install the Swift toolchain (swift.org) and add its usr/bin to PATH" >&2; exit 1; }
swift_bin=$(dirname "$(readlink -f "$swift_path")")
if [ ! -x "$swift_bin/ld.lld" ] && ! command -v ld.lld >/dev/null 2>&1; then
  echo "release/build.sh: ld.lld not found next to swift ($swift_bin) or on PATH; the Swift toolchain for Linux ships it" >&2
  exit 1
fi
# The toolchain's clang finds GCC's libstdc++.a the way the Swift driver's link does.
compiler=$swift_bin/clang
[ -x "$compiler" ] || compiler=cc
libstdcxx=$("$compiler" -print-file-name=libstdc++.a 2>/dev/null || true)
if [ ! -f "$libstdcxx" ]; then
  echo "release/build.sh: GCC's libstdc++.a not found ($compiler -print-file-name=libstdc++.a); install libstdc++-12-dev (Debian 12), which --static-swift-stdlib needs anyway" >&2
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
  echo "release/build.sh: glibc ${glibc:-unknown} < 2.36: relative relocations left unpacked (about 1 MB more resident)" >&2
  relr=()
fi

# The linker script lives in the build directory, which `swift package clean` may remove.
shim=$root/.build/static-libstdc++
mkdir -p "$shim"
printf 'INPUT(%s)\n' "$libstdcxx" >"$shim/libstdc++.so.tmp"
mv "$shim/libstdc++.so.tmp" "$shim/libstdc++.so"

# SwiftPM does not know the linker script is an input of the link: removing the binary makes it
# link again (a few seconds).
rm -f "$root/.build/release/pgwarden"
swift build -c release --static-swift-stdlib \
  -Xswiftc -use-ld=lld \
  "${relr[@]}" \
  -Xswiftc -Xclang-linker -Xswiftc -L"$shim" \
  "$@"

bin=$root/.build/release/pgwarden
dynamic=$(readelf -d "$bin")
if grep -q 'libstdc++' <<<"$dynamic"; then
  echo "release/build.sh: $bin still needs the shared libstdc++; the static link did not take" >&2
  exit 1
fi
