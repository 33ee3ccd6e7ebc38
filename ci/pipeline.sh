#!/usr/bin/env bash
# The complete pipeline, one stage per call: .github/workflows/pipeline.yml runs each stage
# in its own job (`ci/pipeline.sh STAGE`), tests/test_pipeline_workflow.py runs them in the
# same order, and a person runs them all with `ci/pipeline.sh all`.
#
#   validate    export the bundled breast-cancer data, check both splits against the
#               committed schema (config/schema.yaml)
#   train       train the model of config/train.yaml, save the verified artifact
#   gate        candidate metrics against config/gate.yaml and the baseline's metrics
#   staging     smoke test of the candidate artifact, then a canary against the baseline
#   production  blue-green: health check in the idle slot, switch only when it passes
#   monitor     drift of the newest data against the training data
#   notify      one table of every job's result (from RESULT_<JOB> variables)
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
DATA="${PIPELINE_DATA:-data}"
OUT="${PIPELINE_OUT:-out/pipeline}"
CANDIDATE="$OUT/candidate"
# Labelled rows for the smoke tests and the replayed traffic: the held-out split.
SMOKE="${PIPELINE_SMOKE:-$DATA/test.csv}"
# The newest data to monitor; in production, an export of the latest requests. The
# held-out split stands in for it here.
BATCH="${PIPELINE_BATCH:-$DATA/test.csv}"

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
  "$MLCICD" datasets export breast-cancer --out "$DATA"
  for split in train test; do
    "$MLCICD" validate --schema "$SCHEMA" --format markdown "$DATA/$split.csv" \
      >"$OUT/validate-$split.md" || note $?
  done
  {
    echo "### Data validation against \`$SCHEMA\`"
    for split in train test; do
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
  require "$CANDIDATE/metrics.json" "$GATE" "$BASELINE/metrics.json"
  "$MLCICD" gate --metrics "$CANDIDATE/metrics.json" --thresholds "$GATE" \
    --baseline "$BASELINE/metrics.json" --format markdown --out "$OUT/gate.md" || note $?
  publish "$OUT/gate.md"
}

stage_staging() {
  require "$BASELINE/metadata.json" "$CANDIDATE/metadata.json" "$SMOKE" "$GATE"
  # Real deployment: push the candidate to the staging endpoint here; the smoke test and
  # the canary would then send their requests to it instead of the in-process router.
  #
  # Smoke test: the artifact this job received verifies (SHA-256) and loads, answers every
  # row of the smoke set, and still meets the gate's minimum scores there.
  "$MLCICD" evaluate --model "$CANDIDATE" --data "$SMOKE" --out "$OUT/smoke.json" \
    >"$OUT/smoke.txt"
  "$MLCICD" gate --metrics "$OUT/smoke.json" --thresholds "$GATE" --format markdown \
    --out "$OUT/smoke.md" || note $?
  # Canary: the candidate takes a growing share of the replayed traffic (5 % to 100 %);
  # it is rolled back at the first step where its errors or accuracy break the guardrails.
  # A candidate that failed its smoke test gets no traffic at all.
  if [ "$failed" -eq 0 ]; then
    "$MLCICD" deploy canary --stable "$BASELINE" --candidate "$CANDIDATE" --data "$SMOKE" \
      --timeline "$OUT/canary.csv" --plot "$OUT/canary.png" >"$OUT/canary.txt" || note $?
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
    echo "Canary against the baseline (timeline and figure in the job's artifacts):"
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
  require "$DATA/train.csv" "$BATCH"
  "$MLCICD" drift --reference "$DATA/train.csv" --current "$BATCH" --exclude target \
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
