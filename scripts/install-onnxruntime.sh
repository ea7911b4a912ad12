#!/usr/bin/env bash
# Puts ONNX Runtime 1.30.0's native CPU library at .deps/onnxruntime/libonnxruntime.so.1 (idempotent).
# NuGet has no ONNX Runtime package here, so the library comes out of the npm package onnxruntime-node
# (bin/napi-v6/linux/x64/), fetched with `npm pack` (a plain npm install runs a postinstall that fails) or,
# without npm, straight from the registry with curl. The tarball's SHA-256 is checked either way.
# bench/Lacuna.Bench finds the library here; LACUNA_ONNXRUNTIME (the file or its folder) overrides.
set -euo pipefail
VERSION=1.30.0
TGZ_SHA256=6e3390d6b783e7be946fad629292799da28d0b42f84856e50d2c1b0383291e75
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/.deps/onnxruntime"
lib="$dest/libonnxruntime.so.1"
if [ -f "$lib" ] && [ "$(cat "$dest/VERSION" 2>/dev/null)" = "$VERSION" ]; then
  echo "deps: onnxruntime $VERSION present ($lib)"
  exit 0
fi
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ;;
  *) echo "deps: onnxruntime: only linux/x64 is fetched by this script (got $(uname -s)-$(uname -m))" >&2; exit 1 ;;
esac
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tgz="$work/onnxruntime-node-$VERSION.tgz"
echo "deps: fetching onnxruntime-node $VERSION (about 110 MB)"
if command -v npm >/dev/null 2>&1; then
  (cd "$work" && npm pack --silent "onnxruntime-node@$VERSION" >/dev/null)
else
  curl -fsSL --retry 3 -o "$tgz" "https://registry.npmjs.org/onnxruntime-node/-/onnxruntime-node-$VERSION.tgz"
fi
[ -f "$tgz" ] || { echo "deps: onnxruntime-node-$VERSION.tgz was not downloaded" >&2; exit 1; }
got="$(sha256sum "$tgz" | cut -d' ' -f1)"
if [ "$got" != "$TGZ_SHA256" ]; then
  echo "deps: onnxruntime-node-$VERSION.tgz has SHA-256 $got, expected $TGZ_SHA256" >&2
  exit 1
fi
tar -xzf "$tgz" -C "$work" package/bin/napi-v6/linux/x64/libonnxruntime.so.1
mkdir -p "$dest"
install -m 0644 "$work/package/bin/napi-v6/linux/x64/libonnxruntime.so.1" "$lib.tmp"
mv -f "$lib.tmp" "$lib"
echo "$VERSION" > "$dest/VERSION"
echo "deps: onnxruntime $VERSION installed at $lib"
