#!/usr/bin/env bash
# Type-checks the workspace (core, Rust API, addon) for x86_64-pc-windows-msvc on Linux, without
# MSVC: the Rust side needs only the target's rust-std (`rustup target add x86_64-pc-windows-msvc`);
# ring's build script compiles C, which here goes through clang in clang-cl mode with MinGW's CRT
# headers (a stand-in good enough to compile ring's C for a check, never for a real build —
# the release workflow builds with MSVC on a Windows runner).
#
# Needs: apt-get install clang llvm mingw-w64-x86-64-dev
# Usage: scripts/check-windows.sh [extra cargo check args, e.g. --all-targets]
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in clang llvm-lib; do
  command -v "$tool" >/dev/null || { echo "check-windows: $tool missing (apt-get install clang llvm mingw-w64-x86-64-dev)" >&2; exit 2; }
done
[ -d /usr/share/mingw-w64/include ] || { echo "check-windows: MinGW headers missing (apt-get install mingw-w64-x86-64-dev)" >&2; exit 2; }

bin="$(mktemp -d)"
trap 'rm -rf "$bin"' EXIT
ln -s "$(readlink -f "$(command -v clang)")" "$bin/clang-cl" # clang's cl driver mode is chosen by its name

export CC_x86_64_pc_windows_msvc="$bin/clang-cl"
export AR_x86_64_pc_windows_msvc=llvm-lib
export CFLAGS_x86_64_pc_windows_msvc="-imsvc /usr/share/mingw-w64/include -D__GNUC__=4 -D__GNUC_MINOR__=2"
exec cargo check --target x86_64-pc-windows-msvc --workspace "$@"
