#!/usr/bin/env bash
# Create .venv (if needed) and install mmcodec with its test tools. torch is pinned to the
# CPU build available on the project's machines before the package asks for "torch>=2.1",
# so pip does not pull the CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip 2>/dev/null || true
.venv/bin/python -m pip install --quiet "torch==2.13.0" 2>/dev/null
.venv/bin/python -m pip install --quiet -e ".[test]" 2>/dev/null
.venv/bin/python -c "import mmcodec, torch, constriction"
