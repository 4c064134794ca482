#!/usr/bin/env bash
# The README's quick start on a fresh machine: clones this repository's committed HEAD into an empty
# directory, gives it an empty tool cache (LAKEHOUSE_CACHE), runs `npm ci` then `npm test -- PATTERN...`
# (by default the lightest test files that between them need every tool: the chart's linters, scanners and
# alert rules, a Spark parity test, the object store's readers and the broker) and prints how long each took.
# Run it with the machine's own PATH, so that a machine without Node 22 gets it the way a fresh one does.
# Go's module and build caches (GOMODCACHE, GOCACHE) are not the tool cache and are kept, so the Go
# builds of Helm 3 and ct reuse them; npm's and pip's download caches are kept too.
#
#   bash ci/tools/fresh-clone.sh [PATTERN...]
set -euo pipefail
# Kept equal to every tool of ci/tools/ensure.ts by test/tools-bootstrap.test.ts.
EVERY_TOOL_PATTERNS=(chart/lint chart/scan chart/alert-rules rules-parity objectstore/readers broker jobs/explorer)
repo="$(cd "$(dirname "$0")/../.." && pwd)"
patterns=("$@")
((${#patterns[@]} > 0)) || patterns=("${EVERY_TOOL_PATTERNS[@]}")

work="$(mktemp -d "${TMPDIR:-/tmp}/lakehouse-fresh.XXXXXX")"
trap 'rm -rf "$work"' EXIT
export LAKEHOUSE_CACHE="$work/cache"

git clone --quiet "$repo" "$work/repo"
cd "$work/repo"
echo "fresh clone of $(git rev-parse --short HEAD) in $work/repo, tool cache $LAKEHOUSE_CACHE (empty), $(node --version)"

started=$SECONDS
npm ci --no-audit --no-fund
npm_seconds=$((SECONDS - started))

started=$SECONDS
status=0
npm test -- "${patterns[@]}" || status=$?
test_seconds=$((SECONDS - started))

echo "fresh clone: npm ci ${npm_seconds} s, npm test -- ${patterns[*]} ${test_seconds} s (exit $status)"
exit "$status"
