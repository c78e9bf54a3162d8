#!/usr/bin/env bash
# Sets up .venv at the project root and says what it is doing, step by step. Idempotent: a stamp of the inputs
# skips the work when nothing changed, and a step whose result is already installed is skipped.
#   ./setup.sh         runtime (rotofarm demo, farm, publish; classical backend): one pip call
#   ./setup.sh --dev   + the model packages (torch CPU, sam2, rf-cutie, transformers) and the test tools
# pip runs with --no-compile (Python compiles what it imports, on first use, instead of every module of every
# package up front) and its full output goes to .venv/setup-pip.log, shown when a step fails.
set -euo pipefail
cd "$(dirname "$0")"
mode=base
[[ "${1:-}" == "--dev" ]] && mode=dev
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null || PY=python3
stamp=".venv/.rotofarm-setup-$mode"
want="$(cat pyproject.toml constraints.txt setup.sh | sha256sum | cut -c1-16)"
# numba compiles the shapes tracer's kernels on first use (some seconds) and caches them beside the code. Its cache
# checks only each kernel's own file, not the kernels it calls from other modules, so whenever the tracer's code
# changed (a pull) the old cache goes first: no kernel compiled from the code before it runs beside the new code.
kernel_stamp=".venv/.rotofarm-kernels"
kernels="$(cat roto_core/shapes/*.py | sha256sum | cut -c1-16)"
warm_kernels() {
    find roto_core \( -name '*.nbi' -o -name '*.nbc' \) -delete
    .venv/bin/python -c "from roto_core.shapes.kernels import warm; warm()"
    echo "$kernels" >"$kernel_stamp"
}
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -x .venv/bin/rotofarm ]]; then
    if [[ "$(cat "$kernel_stamp" 2>/dev/null)" != "$kernels" ]]; then
        echo "setup.sh: the shapes tracer's code changed; compiling its kernels again"
        warm_kernels
    fi
    echo "setup.sh: .venv is up to date ($mode); nothing to do"
    exit 0
fi

total=3
[[ "$mode" == dev ]] && total=4
n=0
started=$SECONDS
step_start=$SECONDS
step() {
    n=$((n + 1))
    step_start=$SECONDS
    echo "[$n/$total] $*"
}
done_step() {
    echo "      ${1:-done} ($((SECONDS - step_start)) s)"
}
log=".venv/setup-pip.log"
export PIP_CONSTRAINT="$PWD/constraints.txt"
# What pip is at, from its log: the package it resolves or the install it runs.
pip_phase() {
    local last
    last=$(grep -E "^(Collecting|Installing collected|Building|Processing|Obtaining) " "$log" | tail -n 1 | cut -c1-90)
    echo "${last:-preparing the build environment}"
}
# One pip call, quiet but for a line every 10 s on what it is doing and a count at the end; on failure, the end
# of its log.
pip_install() {
    local count=0 pid rc=0 waited=0
    : >"$log"
    .venv/bin/python -m pip install --disable-pip-version-check --no-compile --progress-bar off "$@" >>"$log" 2>&1 &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        sleep 1
        waited=$((waited + 1))
        if ((waited % 10 == 0)); then
            echo "      ... ${waited} s: $(pip_phase)"
        fi
    done
    wait "$pid" || rc=$?
    if ((rc != 0)); then
        # Some machines list package-index folders that do not exist; pip warns about each. Hide only that.
        grep -v "is neither a file nor a directory" "$log" | tail -n 30 >&2
        echo "setup.sh: pip failed; full output in $log" >&2
        exit 1
    fi
    count=$(grep "^Successfully installed" "$log" | wc -w || true)
    echo "      $((count > 2 ? count - 2 : 0)) packages installed"
}

step "Python environment .venv ($("$PY" --version 2>&1))"
if [[ -x .venv/bin/python ]]; then
    done_step "already there"
else
    "$PY" -m venv .venv
    done_step
fi

if [[ "$mode" == dev ]]; then
    step "torch (CPU), and the build tools sam2 is built with"
    if .venv/bin/python -c "import torch, sys; sys.exit(not torch.__version__.startswith('2.13.0'))" 2>/dev/null; then
        done_step "already installed"
    else
        pip_install "torch==2.13.0" numpy "setuptools>=68" wheel
        done_step
    fi
    # Without build isolation: sam2's isolated build would pull a CUDA torch instead of building against this one.
    step "rotofarm (editable) with the model packages (sam2 built here) and the test tools"
    SAM2_BUILD_CUDA=0 pip_install --no-build-isolation -e ".[models,dev]"
else
    step "rotofarm (editable) and its dependencies"
    pip_install -e .
fi
done_step
step "compiling the shapes tracer's kernels (numba; cached for every later run)"
warm_kernels
done_step
echo "$want" >"$stamp"
echo "setup.sh: ready in $((SECONDS - started)) s — .venv/bin/rotofarm --help"
