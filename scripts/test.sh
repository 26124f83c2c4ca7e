#!/usr/bin/env bash
# The whole check, as `make test` and CI run it: services up, lint, types, tests, services down.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
BIN="$ROOT/.venv/bin"

# PyTorch's flavor tests need torch, whose PyPI wheels pull ~4 GB of CUDA libraries; a
# CPU build is taken only from a local wheel folder (pip's find-links, as on our CI
# machines), never downloaded. Without one those tests skip and say so.
if ! "$BIN/python" -c "import torch" 2>/dev/null; then
    "$BIN/python" -m pip install --quiet "torch==2.13.0+cpu" 2>/dev/null \
        || echo "note: no local CPU build of torch 2.13.0: the PyTorch flavor tests will skip"
fi

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
