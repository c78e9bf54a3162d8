#!/usr/bin/env bash
# Sets up .venv at the project root. Idempotent: a stamp of the inputs skips the work when nothing changed.
#   ./setup.sh         runtime (rotofarm demo, farm, publish; classical backend)
#   ./setup.sh --dev   + the model packages (torch CPU, sam2, rf-cutie, transformers) and the test tools
set -euo pipefail
cd "$(dirname "$0")"
mode=base
[[ "${1:-}" == "--dev" ]] && mode=dev
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null || PY=python3
stamp=".venv/.rotofarm-setup-$mode"
want="$(cat pyproject.toml constraints.txt setup.sh | sha256sum | cut -c1-16)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -x .venv/bin/rotofarm ]]; then
    exit 0
fi
[[ -x .venv/bin/python ]] || "$PY" -m venv .venv
# Some machines list package-index folders that do not exist; pip warns about each on every call. Hide only that.
pip() {
    .venv/bin/python -m pip --disable-pip-version-check -q "$@" 2> >(grep -v "is neither a file nor a directory" >&2)
}
export PIP_CONSTRAINT="$PWD/constraints.txt"
pip install "setuptools>=68" wheel
if [[ "$mode" == dev ]]; then
    # torch first, pinned; sam2 is built against it without build isolation (its isolated build pulls CUDA torch).
    pip install "torch==2.13.0" numpy
    .venv/bin/python -c "import sam2" 2>/dev/null || SAM2_BUILD_CUDA=0 pip install --no-build-isolation "sam2==1.1.0"
    pip install -e ".[models,dev]"
else
    pip install -e .
fi
echo "$want" > "$stamp"
