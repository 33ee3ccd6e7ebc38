#!/usr/bin/env bash
# The complete pipeline, one stage per call: .github/workflows/pipeline.yml runs each stage
# in its own job (`ci/pipeline.sh STAGE`), tests/test_pipeline_workflow.py runs them in the
# same order, and a person runs them all with `ci/pipeline.sh all`.
#
#   validate    export the bundled breast-cancer data, split once (fixed seed) into
#               train.csv, test.csv (the gate's rows) and live.csv (the live traffic);
#               check all three against the committed schema (config/schema.yaml)
#   train       train the model of config/train.yaml on train.csv, save the artifact
#   gate        candidate and baseline scored on the same test.csv rows, against the
#               policy of config/gate.yaml (minimum scores, largest drop, which metrics)
#   staging     smoke test of the candidate on test.csv, then a canary against the
#               baseline on live.csv (paired, each live row counted once)
#   production  blue-green: health check in the idle slot, switch only when it passes
#   monitor     drift of the live traffic against the training data
#   notify      one table of every job's result (from RESULT_<JOB> variables)
#
# Honest data flow: train.csv is the plain export's training split (the committed
# baseline was trained on the same rows), and the held-out rows are split in two: the
# gate and the smoke test score test.csv, the canary and the monitor see live.csv. No
# row the candidate trained on is scored, and the canary never replays the gate's rows.
#
# There are no real servers behind this project: `mlcicd deploy` rehearses each release on
# the in-process router with the real models and replayed rows. The places where a real
# deployment would call a serving platform are marked "Real deployment:" below.
#
# Exit code: 0 the stage passed, 1 a check failed (its report is still written), 2 bad input.
# Settings come from the environment so the workflow and the tests can point elsewhere.
set -euo pipefail

MLCICD="${MLCICD:-mlcicd}"
CONFIG="${PIPELINE_CONFIG:-config/train.yaml}"
SCHEMA="${PIPELINE_SCHEMA:-config/schema.yaml}"
GATE="${PIPELINE_GATE:-config/gate.yaml}"
BASELINE="${PIPELINE_BASELINE:-baseline}"
# A folder of its own: the three-way split must not replace the two files that
# `mlcicd datasets export` and `make pr-check` write to data/.
DATA="${PIPELINE_DATA:-data/pipeline}"
OUT="${PIPELINE_OUT:-out/pipeline}"
CANDIDATE="$OUT/candidate"
# Share of the held-out rows that become the live-traffic stream (live.csv); the rest
# (test.csv) is what the gate and the smoke test score.
LIVE_SIZE="${PIPELINE_LIVE_SIZE:-0.7}"
# Labelled rows for the smoke tests: the gate's held-out rows.
SMOKE="${PIPELINE_SMOKE:-$DATA/test.csv}"
# The live traffic: the canary replays it and the monitor checks it for drift. In
# production, an export of the latest labelled requests.
LIVE="${PIPELINE_LIVE:-$DATA/live.csv}"
# Canary shares of traffic. The live stream holds about a hundred users, so a 5 % step
# would hold two or three of them and wait for their requests far longer than the
# stream lasts; three larger steps still stop a bad candidate before it serves everyone.
CANARY_STEPS="${PIPELINE_CANARY_STEPS:-0.25,0.5,1.0}"

STAGES="validate train gate staging production monitor"
#: The workflow's jobs, in the order of their `needs` chain, for the notify table.
JOBS="quality tests validate-data train gate staging production monitor"

usage() {
  echo "usage: ci/pipeline.sh {all|${STAGES// /|}|notify}" >&2
  exit 2
}

require() {
  for input in "$@"; do
    if [ ! -f "$input" ]; then
      echo "pipeline: error: $input not found" >&2
      exit 2
    fi
  done
}

failed=0
note() { # remember a failed check (exit 1); stop at once on bad input (exit 2 or more)
  if [ "$1" -gt 1 ]; then
    exit "$1"
  fi
  failed=1
}

publish() { # print a report, and add it to the job page when running on GitHub
  cat "$1"
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    { cat "$1"; echo; } >>"$GITHUB_STEP_SUMMARY"
  fi
}

stage_validate() {
  require "$SCHEMA"
  "$MLCICD" datasets export breast-cancer --out "$DATA" --live-size "$LIVE_SIZE"
  for split in train test live; do
    "$MLCICD" validate --schema "$SCHEMA" --format markdown "$DATA/$split.csv" \
      >"$OUT/validate-$split.md" || note $?
  done
  {
    echo "### Data validation against \`$SCHEMA\`"
    for split in train test live; do
      echo
      echo "#### \`$split.csv\`"
      echo
      cat "$OUT/validate-$split.md"
    done
  } >"$OUT/validation.md"
  publish "$OUT/validation.md"
}

stage_train() {
  require "$CONFIG" "$DATA/train.csv" "$DATA/test.csv"
  rm -rf "$CANDIDATE"
  "$MLCICD" train --config "$CONFIG" --train "$DATA/train.csv" --test "$DATA/test.csv" \
    --out "$CANDIDATE"
}

stage_gate() {
  require "$CANDIDATE/metadata.json" "$GATE" "$BASELINE/metadata.json" "$DATA/test.csv"
  # The baseline is scored on the same rows as the candidate (its own metrics file was
  # computed on another test set), so the largest-drop rule compares like with like.
  "$MLCICD" evaluate --model "$BASELINE" --data "$DATA/test.csv" \
    --out "$OUT/baseline-test.json" >"$OUT/baseline-test.txt"
  "$MLCICD" gate --metrics "$CANDIDATE/metadata.json" --thresholds "$GATE" \
    --baseline "$OUT/baseline-test.json" --format markdown --out "$OUT/gate.md" || note $?
  publish "$OUT/gate.md"
}

stage_staging() {
  require "$BASELINE/metadata.json" "$CANDIDATE/metadata.json" "$SMOKE" "$LIVE" "$GATE"
  # Real deployment: push the candidate to the staging endpoint here; the smoke test and
  # the canary would then send their requests to it instead of the in-process router.
  #
  # Smoke test: the artifact this job received verifies (SHA-256) and loads, answers every
  # row of the smoke set, and still meets the gate's minimum scores there.
  "$MLCICD" evaluate --model "$CANDIDATE" --data "$SMOKE" --out "$OUT/smoke.json" \
    >"$OUT/smoke.txt"
  "$MLCICD" gate --metrics "$OUT/smoke.json" --thresholds "$GATE" --format markdown \
    --out "$OUT/smoke.md" || note $?
  # Canary: the candidate takes a growing share of the live traffic (CANARY_STEPS). It is
  # rolled back as soon as its errors break the guardrail or its accuracy is shown to be
  # worse than the baseline's, and promoted once it is shown to be no more than the
  # plan's margin worse; a stream that ends first is "inconclusive" (a failed check).
  # A candidate that failed its smoke test gets no traffic at all.
  if [ "$failed" -eq 0 ]; then
    "$MLCICD" deploy canary --stable "$BASELINE" --candidate "$CANDIDATE" --data "$LIVE" \
      --steps "$CANARY_STEPS" --timeline "$OUT/canary.csv" --plot "$OUT/canary.png" \
      >"$OUT/canary.txt" || note $?
  else
    echo "canary not started: the smoke test failed" >"$OUT/canary.txt"
  fi
  {
    echo "### Staging: smoke test and canary"
    echo
    echo "Smoke test of the candidate on \`$SMOKE\`:"
    echo
    cat "$OUT/smoke.md"
    echo
    echo "Canary against the baseline on \`$LIVE\` (timeline and figure in the job's artifacts):"
    echo
    echo '```text'
    cat "$OUT/canary.txt"
    echo '```'
  } >"$OUT/staging.md"
  publish "$OUT/staging.md"
}

stage_production() {
  require "$BASELINE/metadata.json" "$CANDIDATE/metadata.json" "$SMOKE"
  # Blue-green: the candidate goes into the idle slot, is health-checked on the smoke set
  # (loads, answers every row, accuracy) and takes all traffic only when that passes.
  "$MLCICD" deploy blue-green --live "$BASELINE" --candidate "$CANDIDATE" --smoke "$SMOKE" \
    >"$OUT/blue-green.txt" || note $?
  # Real deployment: when the rehearsal passed, load the artifact into the idle production
  # environment and switch the load balancer (or the platform's live alias) to it here.
  {
    echo "### Production: blue-green switch"
    echo
    echo '```text'
    cat "$OUT/blue-green.txt"
    echo '```'
  } >"$OUT/production.md"
  publish "$OUT/production.md"
}

stage_monitor() {
  require "$DATA/train.csv" "$LIVE"
  "$MLCICD" drift --reference "$DATA/train.csv" --current "$LIVE" --exclude target \
    --format markdown >"$OUT/drift.md" || note $?
  publish "$OUT/drift.md"
}

stage_notify() {
  local job var result mark first=""
  {
    echo "### Pipeline results"
    echo
    echo "| Job | Result |"
    echo "|---|---|"
    for job in $JOBS; do
      var="RESULT_${job//-/_}"
      var="${var^^}"
      result="${!var:-unknown}"
      case "$result" in
        success) mark="✅" ;;
        failure) mark="❌" ;;
        skipped) mark="⏭️" ;;
        *) mark="⚠️" ;;
      esac
      echo "| $job | $mark $result |"
      if [ "$result" != success ] && [ -z "$first" ]; then
        first="$job ($result)"
      fi
    done
    echo
    if [ "${RESULT_PRODUCTION:-}" = success ]; then
      echo "**Released:** the candidate is live in production."
    else
      echo "**Not released:** production keeps the model it had."
    fi
    if [ -n "$first" ]; then
      echo
      echo "**First job that did not succeed:** $first."
    fi
  } >"$OUT/notify.md"
  # Real notification: post notify.md to the team's chat or ticket system here, with its
  # webhook address given to this step alone as a repository secret.
  publish "$OUT/notify.md"
}

[ "$#" -eq 1 ] || usage
stage="$1"
mkdir -p "$OUT"
case "$stage" in
  all)
    for name in $STAGES; do
      echo "== pipeline stage: $name"
      "$BASH" "$0" "$name" || exit $?
    done
    ;;
  validate | train | gate | staging | production | monitor | notify)
    "stage_$stage"
    ;;
  *)
    usage
    ;;
esac
exit "$failed"
