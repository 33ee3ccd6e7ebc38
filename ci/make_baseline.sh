#!/usr/bin/env bash
# Re-create the committed baseline model (baseline/) from config/baseline.yaml, trained on
# the bundled breast-cancer data with the same split the pull-request check uses.
#
# The baseline is what main ships: commit it together with config/baseline.yaml (and
# config/train.yaml) when a pull request's candidate is accepted as the new baseline.
# The old baseline is replaced only after the new one was trained and saved.
set -euo pipefail
cd "$(dirname "$0")/.."

MLCICD="$(realpath "${MLCICD:-.venv/bin/mlcicd}")"
root="$PWD"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

# Run in the scratch folder so that the artifact's provenance records the same relative
# data paths (data/train.csv, data/test.csv) as `mlcicd datasets export` gives everyone.
(
  cd "$scratch"
  "$MLCICD" datasets export breast-cancer --out data
  "$MLCICD" train --config "$root/config/baseline.yaml" --train data/train.csv \
    --test data/test.csv --out baseline
)

rm -rf baseline
mv "$scratch/baseline" baseline
ls -l baseline
