#!/usr/bin/env bash
# Re-create the committed baseline model (baseline/) from config/baseline.yaml, trained on
# the bundled breast-cancer data with the same split the pull-request check uses.
#
# The baseline is what main ships: commit it together with config/baseline.yaml (and
# config/train.yaml) when a pull request's candidate is accepted as the new baseline.
# The old baseline is replaced only after the new one was trained and saved.
set -euo pipefail
cd "$(dirname "$0")/.."

MLCICD="${MLCICD:-.venv/bin/mlcicd}"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

"$MLCICD" datasets export breast-cancer --out "$scratch/data"
"$MLCICD" train --config config/baseline.yaml --train "$scratch/data/train.csv" \
  --test "$scratch/data/test.csv" --out "$scratch/baseline"

rm -rf baseline
mv "$scratch/baseline" baseline
ls -l baseline
