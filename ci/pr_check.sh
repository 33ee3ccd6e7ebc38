#!/usr/bin/env bash
# The pull-request model check, in one place: .github/workflows/model-check.yml runs it on
# every pull request and `make pr-check` runs it for a person, so both see the same report.
#
#   1. export the bundled breast-cancer data (train/test split, fixed seed);
#   2. train the candidate from the pull request's config;
#   3. compare it with the committed baseline on the same test set (markdown table with
#      baseline, candidate, change and pass/fail per checked metric, plus a paired test);
#   4. apply the gate (minimum scores, largest drop below the baseline);
#   5. write the pull-request comment (comparison + gate) and print it.
#
# The policy lives in one file, the gate (config/gate.yaml): steps 3 and 4 both read its
# max_regression and regression_metrics, so the comparison and the gate cannot disagree.
#
# Exit code: 0 the candidate passes, 1 it regresses or fails the gate, 2 bad input.
# Settings come from the environment so the workflow and the tests can point elsewhere.
set -euo pipefail

MLCICD="${MLCICD:-mlcicd}"
CONFIG="${PR_CHECK_CONFIG:-config/train.yaml}"
BASELINE="${PR_CHECK_BASELINE:-baseline}"
GATE="${PR_CHECK_GATE:-config/gate.yaml}"
DATA="${PR_CHECK_DATA:-data}"
OUT="${PR_CHECK_OUT:-out/pr-check}"
MARKER="<!-- mlcicd-model-check -->"

for input in "$CONFIG" "$GATE" "$BASELINE/metadata.json"; do
  if [ ! -f "$input" ]; then
    echo "pr-check: error: $input not found" >&2
    exit 2
  fi
done

# Only this script's own scratch outputs are replaced, never the baseline or the config.
mkdir -p "$OUT"
rm -rf "$OUT/candidate"
rm -f "$OUT/comparison.md" "$OUT/gate.md" "$OUT/comment.md"

"$MLCICD" datasets export breast-cancer --out "$DATA"
"$MLCICD" train --config "$CONFIG" --train "$DATA/train.csv" --test "$DATA/test.csv" \
  --out "$OUT/candidate"

# A failed check (exit 1) still produces its report; bad input (exit 2) stops here.
status=0
"$MLCICD" compare --baseline "$BASELINE" --candidate "$OUT/candidate" \
  --test "$DATA/test.csv" --thresholds "$GATE" --no-timing \
  --format markdown --out "$OUT/comparison.md" || status=$?
if [ "$status" -gt 1 ]; then
  exit "$status"
fi

gate_status=0
"$MLCICD" gate --metrics "$OUT/candidate/metadata.json" --thresholds "$GATE" \
  --baseline "$BASELINE/metadata.json" --format markdown --out "$OUT/gate.md" \
  || gate_status=$?
if [ "$gate_status" -gt 1 ]; then
  exit "$gate_status"
fi
if [ "$gate_status" -ne 0 ]; then
  status=1
fi

{
  # The comparison starts with the hidden marker the bot finds its comment by.
  grep -qF "$MARKER" "$OUT/comparison.md" || echo "$MARKER"
  cat "$OUT/comparison.md"
  echo
  cat "$OUT/gate.md"
  echo
  if [ "$status" -eq 0 ]; then
    echo "**Result: pass.** The candidate from \`$CONFIG\` may replace the baseline."
  else
    echo "**Result: fail.** The candidate from \`$CONFIG\` regresses or misses the gate."
  fi
  echo
  echo "<sub>Reproduce locally with \`make pr-check\` (script: \`ci/pr_check.sh\`).</sub>"
} >"$OUT/comment.md"

cat "$OUT/comment.md"
exit "$status"
