#!/usr/bin/env bash
# Reproduces docs/pruning-study.json, docs/pruning-study.html and the table in docs/pruning-study.md.
# Needs Debian's dataset-fashion-mnist (scripts/install-deps.sh). On 2 cores it takes about an hour; it can be
# stopped and started again: finished steps are kept in pruning-study-work/ and skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
./lacuna study pruning --nets vgg,resnet --width 16 --dense-epochs 4 --prune-epochs 2 --finetune-epochs 1 --limit 20000 \
  --sparsities 0.5,0.7,0.8,0.9,0.95 --batch 1 --threads "${THREADS:-2}" --work pruning-study-work -o docs/pruning-study.json "$@"
./lacuna report docs/pruning-study.json -o docs/pruning-study.html --title "Lacuna pruning study: Fashion-MNIST"
