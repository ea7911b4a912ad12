#!/usr/bin/env bash
# Puts a shared LIBXSMM at .deps/libxsmm/libxsmm.so.1 (idempotent), for `lacuna bench spmm`'s libxsmm peer.
# Debian's libxsmm-dev (1.17) ships only static archives (built -fPIC), and P/Invoke needs a shared library, so
# the archive is linked whole into one, with libxsmmnoblas.a standing in for the BLAS it can call (spmdm does
# not), and only the libxsmm_* symbols exported (its BLAS stand-ins must not shadow OpenBLAS's).
# Needs libxsmm-dev and gcc (install-deps.sh installs both). LACUNA_LIBXSMM (the file or its folder) overrides.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/.deps/libxsmm"
lib="$dest/libxsmm.so.1"
archive=/usr/lib/libxsmm.a
noblas=/usr/lib/libxsmmnoblas.a
version="$(dpkg-query -W -f='${Version}' libxsmm-dev 2>/dev/null || true)"
if [ -z "$version" ] || [ ! -f "$archive" ] || [ ! -f "$noblas" ]; then
  echo "deps: libxsmm: libxsmm-dev is not installed ($archive missing)" >&2; exit 1
fi
if [ -f "$lib" ] && [ "$(cat "$dest/VERSION" 2>/dev/null)" = "$version" ]; then
  echo "deps: libxsmm $version present ($lib)"
  exit 0
fi
command -v gcc >/dev/null 2>&1 || { echo "deps: libxsmm: gcc is needed to link $archive into a shared library" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
printf '{ global: libxsmm_*; local: *; };\n' > "$work/exports.map"
gcc -shared -o "$work/libxsmm.so.1" -Wl,-soname,libxsmm.so.1 -Wl,--version-script="$work/exports.map" \
  -Wl,--whole-archive "$archive" "$noblas" -Wl,--no-whole-archive -lpthread -lrt -ldl -lm
mkdir -p "$dest"
install -m 0644 "$work/libxsmm.so.1" "$lib.tmp"
mv -f "$lib.tmp" "$lib"
echo "$version" > "$dest/VERSION"
echo "deps: libxsmm $version linked into $lib"
