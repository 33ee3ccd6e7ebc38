#!/usr/bin/env bash
# Does the repository on GitHub have the settings its workflows need? A fork runs this
# once after pushing (book/github-setup.md explains each setting and where to make it):
#
#   1. read the settings with the GitHub CLI (`gh api`, read-only requests): Pages,
#      workflow permissions, deployment environments, branch protection of main;
#   2. compare them with what the workflow files need (`mlcicd github settings`: the
#      required checks, environments and permissions are read from .github/workflows);
#   3. print each missing setting on its own line.
#
# Exit code: 0 every setting is there, 1 one is missing, 2 gh is missing or can read
# nothing. Settings from the environment: GH (the gh program), GITHUB_SETUP_REPO
# (OWNER/NAME; default: the repository of the current folder), MLCICD.
set -euo pipefail

MLCICD="${MLCICD:-mlcicd}"
GH="${GH:-gh}"
REPO="${GITHUB_SETUP_REPO:-}"

if ! command -v "$GH" >/dev/null 2>&1; then
  echo "check-github-setup: the GitHub CLI (gh) is not installed; install it and run" \
    "\`gh auth login\`, or check the settings by hand (book/github-setup.md)." >&2
  echo "The required checks for branch protection:" >&2
  "$MLCICD" github checks >&2
  exit 2
fi
if [ -z "$REPO" ]; then
  REPO="$("$GH" repo view --json nameWithOwner --jq .nameWithOwner)" || {
    echo "check-github-setup: error: no repository (set GITHUB_SETUP_REPO=OWNER/NAME)" >&2
    exit 2
  }
fi

answers="$(mktemp -d)"
trap 'rm -rf "$answers"' EXIT
# A setting never made answers 404; the answer is then left out and counts as missing.
"$MLCICD" github answers >"$answers/list"
while read -r name path; do
  if ! "$GH" api "repos/$REPO/$path" >"$answers/$name.json" 2>/dev/null </dev/null; then
    rm -f "$answers/$name.json"
  fi
done <"$answers/list"

echo "GitHub settings of $REPO:"
"$MLCICD" github settings --answers "$answers"
