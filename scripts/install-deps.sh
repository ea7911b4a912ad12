#!/usr/bin/env bash
# Installs the Debian packages Lacuna's tests and benchmarks use:
#   libopenblas0-pthread  OpenBLAS, the dense GEMM baseline (bench/ and comparison tests)
#   libonnx-testdata      ONNX backend node tests (conformance)
#   dataset-fashion-mnist Fashion-MNIST (training)
#   libxsmm-dev           LIBXSMM 1.17, libxsmm_spmdm: a peer of `lacuna bench spmm` (static only, so
#                         scripts/install-libxsmm.sh links it into .deps/libxsmm/libxsmm.so.1 with gcc)
#   librsb-dev            librsb 1.3, rsb_spmm with rsb_tune_spmm: a peer of `lacuna bench spmm`
#   gcc                   links libxsmm's static archive into the shared library bench/ loads
#   chromium              headless browser: the `lacuna report` test renders the page and takes a screenshot
# and ONNX Runtime 1.30.0's CPU library (the dense inference baseline of `lacuna bench model` and the
# ONNX Runtime comparison test) into .deps/onnxruntime/ (git-ignored; see scripts/install-onnxruntime.sh).
set -euo pipefail
bash "$(dirname "$0")/install-onnxruntime.sh"
PKGS=(libopenblas0-pthread libonnx-testdata dataset-fashion-mnist libxsmm-dev librsb-dev gcc chromium)
missing=()
for p in "${PKGS[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all present (${PKGS[*]})"
else
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
bash "$(dirname "$0")/install-libxsmm.sh"
