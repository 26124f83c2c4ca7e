#!/usr/bin/env bash
# The whole check, as `make test` and CI run it: services up, lint, types, tests, services down.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
BIN="$ROOT/.venv/bin"

bash scripts/services.sh start
trap 'bash scripts/services.sh stop' EXIT
# shellcheck disable=SC1091
source .services/env

echo "== ruff"
"$BIN/ruff" check src tests bench
"$BIN/ruff" format --check src tests bench
echo "== mypy"
"$BIN/mypy"
echo "== pytest"
"$BIN/python" -m pytest -n 2 -p no:cacheprovider "$@"
