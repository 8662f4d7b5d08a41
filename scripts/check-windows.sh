#!/usr/bin/env bash
# Checks the workspace for x86_64-pc-windows-msvc on Linux, without MSVC or a Windows machine:
#
#   check  clippy -D warnings for the Windows target over every crate and target: the core, the
#          async Rust API, the napi addon, the tests and the examples (the addon builds its
#          stream transport and the shared parts there; its native transport is Unix-only).
#   link   links the addon (a debug cdylib) with lld-link against MinGW's import libraries and
#          fails on any unresolved symbol other than the MSVC C runtime's static part (startup
#          code, security cookie, TLS index...), which MinGW does not provide and MSVC links on
#          the Windows runner. This is the check a type-check cannot do: napi-rs links no
#          node.lib on Windows, so a direct call into Node's exports (libuv's uv_* functions,
#          say) type-checks, then fails to link there. The addon resolves them at run time
#          (napi/src/uv.rs).
#
# Neither produces a usable binary: ring's C goes through clang in clang-cl mode with MinGW's
# headers, good for checking only. The release workflow builds with MSVC and tests on a Windows
# runner.
#
# Needs: rustup target add x86_64-pc-windows-msvc; apt-get install clang lld llvm mingw-w64-x86-64-dev
# Usage: scripts/check-windows.sh [check|link]   (both when no argument is given)
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=x86_64-pc-windows-msvc
MINGW_LIB=/usr/x86_64-w64-mingw32/lib
for tool in clang llvm-lib llvm-ar lld-link; do
  command -v "$tool" >/dev/null || { echo "check-windows: $tool missing (apt-get install clang lld llvm mingw-w64-x86-64-dev)" >&2; exit 2; }
done
[ -d /usr/share/mingw-w64/include ] && [ -d "$MINGW_LIB" ] || {
  echo "check-windows: MinGW headers/libraries missing (apt-get install mingw-w64-x86-64-dev)" >&2
  exit 2
}
rustup target list --installed 2>/dev/null | grep -qx "$TARGET" || {
  echo "check-windows: rust-std for $TARGET missing (rustup target add $TARGET)" >&2
  exit 2
}

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
ln -s "$(readlink -f "$(command -v clang)")" "$tmp/clang-cl" # clang's cl driver mode is chosen by its name

export CC_x86_64_pc_windows_msvc="$tmp/clang-cl"
export AR_x86_64_pc_windows_msvc=llvm-lib
export CFLAGS_x86_64_pc_windows_msvc="-imsvc /usr/share/mingw-w64/include -D__GNUC__=4 -D__GNUC_MINOR__=2"

check() {
  echo "check-windows: cargo clippy --target $TARGET --workspace --all-targets -- -D warnings"
  cargo clippy --quiet --target "$TARGET" --workspace --all-targets -- -D warnings
}

# The MSVC C runtime's static part (vcruntime/msvcrt startup objects and intrinsics).
CRT_STATIC='^(_DllMainCRTStartup|__CxxFrameHandler3|_fltused|_tls_index|_tls_used|__chkstk|__security_cookie|__security_check_cookie|__GSHandlerCheck|__report_rangecheckfailure|trunc|const type_info::`vftable'"'"')$'

link() {
  echo "check-windows: linking the addon for $TARGET with lld-link against MinGW's import libraries"
  # MSVC names import libraries foo.lib; MinGW's are libfoo.a (COFF archives lld-link reads).
  local libs="$tmp/lib"
  mkdir -p "$libs"
  for a in "$MINGW_LIB"/lib*.a; do
    local name="${a##*/lib}"
    ln -sf "$a" "$libs/${name%.a}.lib"
  done
  # Libraries MSVC's linker is told to use that MinGW does not have: empty stand-ins.
  for name in legacy_stdio_definitions oldnames; do llvm-ar rc "$libs/$name.lib"; done
  local log="$tmp/link.log"
  if CARGO_TARGET_X86_64_PC_WINDOWS_MSVC_LINKER=lld-link \
    RUSTFLAGS="-Lnative=$libs -Clink-arg=/errorlimit:0" \
    cargo build --quiet --target "$TARGET" -p node-ipc-rs-napi --target-dir target/check-windows-link >"$log" 2>&1; then
    echo "check-windows: linked"
    return 0
  fi
  local undefined
  undefined="$(grep -o 'undefined symbol: .*' "$log" | sed 's/^undefined symbol: //' | sort -u || true)"
  if [ -z "$undefined" ]; then
    cat "$log" >&2
    echo "check-windows: the link failed for another reason than unresolved symbols" >&2
    return 1
  fi
  local unexpected
  unexpected="$(grep -Ev "$CRT_STATIC" <<<"$undefined" || true)"
  if [ -n "$unexpected" ]; then
    echo "check-windows: the addon needs symbols nothing on Windows provides at link time:" >&2
    sed 's/^/  /' <<<"$unexpected" >&2
    return 1
  fi
  echo "check-windows: every symbol resolves except the MSVC C runtime's static part ($(wc -l <<<"$undefined") symbols)"
}

case "${1:-all}" in
  check) check ;;
  link) link ;;
  all)
    check
    link
    ;;
  *)
    echo "usage: $0 [check|link]" >&2
    exit 2
    ;;
esac
