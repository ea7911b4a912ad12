#!/usr/bin/env bash
# Installs the Debian packages Lacuna's tests and benchmarks use:
#   libopenblas0-pthread  OpenBLAS, the dense GEMM baseline (bench/ and comparison tests)
#   libonnx-testdata      ONNX backend node tests (conformance)
#   dataset-fashion-mnist Fashion-MNIST (training)
# and ONNX Runtime 1.30.0's CPU library (the dense inference baseline of `lacuna bench model` and the
# ONNX Runtime comparison test) into .deps/onnxruntime/ (git-ignored; see scripts/install-onnxruntime.sh).
set -euo pipefail
bash "$(dirname "$0")/install-onnxruntime.sh"
PKGS=(libopenblas0-pthread libonnx-testdata dataset-fashion-mnist)
missing=()
for p in "${PKGS[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all present (${PKGS[*]})"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
