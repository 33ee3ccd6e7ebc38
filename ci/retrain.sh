#!/usr/bin/env bash
# One monitoring cycle on the newest labelled batch, as .github/workflows/retrain.yml runs
# it every night (and on demand). Runnable locally the same way: ci/retrain.sh
#
#   1. export the bundled data (the reference and training data of the production model);
#   2. drift report of the batch against the reference (`mlcicd drift`, for people);
#   3. `mlcicd monitor`: drift and accuracy checks, retrain when either fails, gate, and
#      promote the retrained model into a working copy of the baseline when it is better;
#   4. `mlcicd gate` on the model that would ship;
#   5. write summary.md (for the job page) and, on GitHub, the step output promoted=true|false.
#
# The committed baseline/ is never modified: a promoted model lands in $OUT/model, and the
# workflow proposes it as a pull request for a person to review.
# Exit code: 0 done (whatever the decision), 1 the cycle failed or the gate failed, 2 bad input.
set -euo pipefail

MLCICD="${MLCICD:-mlcicd}"
PYTHON="${PYTHON:-python3}"
BASELINE="${RETRAIN_BASELINE:-baseline}"
CONFIG="${RETRAIN_CONFIG:-config/train.yaml}"
GATE="${RETRAIN_GATE:-config/gate.yaml}"
DATA="${RETRAIN_DATA:-data}"
OUT="${RETRAIN_OUT:-out/retrain}"
BATCH="${RETRAIN_BATCH:-}"
MIN_ACCURACY="${RETRAIN_MIN_ACCURACY:-0.9}"

for input in "$CONFIG" "$GATE" "$BASELINE/metadata.json"; do
  if [ ! -f "$input" ]; then
    echo "retrain: error: $input not found" >&2
    exit 2
  fi
done

mkdir -p "$OUT"
rm -rf "$OUT/model"
rm -f "$OUT/drift.md" "$OUT/decision.json" "$OUT/decision.md" "$OUT/gate.md" "$OUT/summary.md"

"$MLCICD" datasets export breast-cancer --out "$DATA"
# Without a batch of its own, the held-out split of the bundled data stands in for the
# newest labelled data (in production: an export of the last day's labelled requests).
BATCH="${BATCH:-$DATA/test.csv}"
if [ ! -f "$BATCH" ]; then
  echo "retrain: error: batch $BATCH not found" >&2
  exit 2
fi
cp -R "$BASELINE" "$OUT/model"

drift_status=0
"$MLCICD" drift --reference "$DATA/train.csv" --current "$BATCH" --exclude target \
  --format markdown >"$OUT/drift.md" || drift_status=$?
if [ "$drift_status" -gt 1 ]; then
  exit "$drift_status"
fi

"$MLCICD" monitor --model "$OUT/model" --reference "$DATA/train.csv" --batch "$BATCH" \
  --train "$DATA/train.csv" --config "$CONFIG" --thresholds "$GATE" \
  --min-accuracy "$MIN_ACCURACY" --history "$OUT/history.jsonl" --format json \
  >"$OUT/decision.json"

gate_status=0
"$MLCICD" gate --metrics "$OUT/model/metrics.json" --thresholds "$GATE" \
  --baseline "$BASELINE/metrics.json" --format markdown --out "$OUT/gate.md" \
  || gate_status=$?
if [ "$gate_status" -gt 1 ]; then
  exit "$gate_status"
fi

cycle_status=0
"$PYTHON" ci/retrain_summary.py "$OUT/decision.json" --github-output "${GITHUB_OUTPUT:-}" \
  >"$OUT/decision.md" || cycle_status=$?
if [ "$cycle_status" -gt 1 ]; then
  exit "$cycle_status"
fi

{
  cat "$OUT/decision.md"
  echo
  echo "<details><summary>Drift report of the batch</summary>"
  echo
  cat "$OUT/drift.md"
  echo
  echo "</details>"
  echo
  cat "$OUT/gate.md"
} >"$OUT/summary.md"
cat "$OUT/summary.md"

if [ "$cycle_status" -ne 0 ] || [ "$gate_status" -ne 0 ]; then
  exit 1
fi
