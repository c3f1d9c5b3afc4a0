#!/usr/bin/env bash
# `make release`: builds the installed binary, .build/release/pgwarden, with a plain
# `swift build -c release`. The release tuning is not here: it is in Package.swift (the
# executable's release-only linker settings), so `swift build -c release` alone builds the same
# binary; docs/development.md (Release build) says what each piece does and docs/benchmarks.md
# what it is worth. This script only checks what that build needs, so that a missing piece
# fails with a clear message instead of a linker error, and that the tuning took.
# Usage: release/build.sh [extra swift build arguments...]
# Environment: RELR=0 leaves the relocations unpacked (read by Package.swift).
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
# release/static-libstdc++/libstdc++.so sends the link to GCC's libstdc++.a, found the way the
# Swift driver's link (the toolchain's clang) finds it.
compiler=$swift_bin/clang
[ -x "$compiler" ] || compiler=cc
libstdcxx=$("$compiler" -print-file-name=libstdc++.a 2>/dev/null || true)
if [ ! -f "$libstdcxx" ]; then
  echo "release/build.sh: GCC's libstdc++.a not found ($compiler -print-file-name=libstdc++.a); install libstdc++-12-dev (Debian 12), which the Swift toolchain needs anyway" >&2
  exit 1
fi

swift build -c release "$@"

bin=$root/.build/release/pgwarden
dynamic=$(readelf -d "$bin")
if grep -qE 'NEEDED.*(libstdc\+\+|libswift)' <<<"$dynamic"; then
  echo "release/build.sh: $bin still needs the shared libstdc++ or Swift runtime; Package.swift's release linker settings did not take" >&2
  exit 1
fi
if ! grep -q '(RELR)' <<<"$dynamic"; then
  why="glibc $(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}') < 2.36"
  [ "${RELR:-1}" = 0 ] && why="RELR=0"
  echo "release/build.sh: $why: relative relocations left unpacked (about 1 MB more resident)" >&2
fi
