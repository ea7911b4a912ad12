#!/usr/bin/env bash
# Reproduces docs/pruning-study.json and docs/pruning-study.html (the table in docs/pruning-study.md quotes them).
# Needs Debian's dataset-fashion-mnist (scripts/install-deps.sh). On 2 cores it takes about an hour and a half; it can
# be stopped and started again: finished steps are kept in $WORK (default pruning-study-work/) and skipped.
# BATCH (default 64), THREADS (default 2), WORK and OUT (default docs/pruning-study.json) override; other arguments go to `study pruning`.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-docs/pruning-study.json}"
./lacuna study pruning --nets vgg,resnet --width 16 --dense-epochs 4 --prune-epochs 2 --finetune-epochs 1 --limit 15000 \
  --sparsities 0.5,0.7,0.8,0.9,0.95 --batch "${BATCH:-64}" --threads "${THREADS:-2}" --work "${WORK:-pruning-study-work}" -o "$out" "$@"
./lacuna report "$out" -o "${out%.json}.html" --title "Lacuna pruning study: Fashion-MNIST"
