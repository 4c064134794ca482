#!/usr/bin/env bash
# npm run lint: Biome checks the TypeScript's format and lint rules (biome.json), ruff the Python's
# (ruff.toml); nothing is written. `npm run lint -- --fix` writes the fixes both tools call safe.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${1:-}" == "--fix" ]]; then
  npx biome check --write .
else
  npx biome ci .
fi
# ruff lives in the tool cache, beside yamllint and yamale (ci/tools/install.sh linters).
npx tsx ci/tools/ensure.ts linters >/dev/null
ruff="${LAKEHOUSE_CACHE:-$HOME/.cache/lakehouse}/bin/ruff"
if [[ "${1:-}" == "--fix" ]]; then
  "$ruff" format . && "$ruff" check --fix .
else
  "$ruff" format --check . && "$ruff" check .
fi
