"""The same masks trace to the same shapes whichever numpy SIMD code and OpenBLAS kernel the CPU gets (portable.py).

A farm re-queues a chunk on whichever worker is free; with the tracer's arithmetic going through numpy's SIMD code
(chosen when numpy starts) and OpenBLAS's kernels (chosen for the CPU), DAVIS goat's first 30 frames traced to 93
shapes with OpenBLAS's own kernel for this CPU and to 108 with its Sandy Bridge kernel (no fused multiply-add). Here
the same real mattes are traced in fresh processes told to use other code paths: OpenBLAS's Haswell and Sandy Bridge
kernels (``OPENBLAS_CORETYPE``), numpy with every SIMD extension it would dispatch to switched off
(``NPY_DISABLE_CPU_FEATURES``) and glibc's mathematical functions without their fused multiply-add builds
(``GLIBC_TUNABLES``); the shapes JSON must be the same bytes.
"""

from __future__ import annotations

import math
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter1d

from roto_core.shapes import portable
from roto_core.shapes.portable import gaussian_filtered

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "davis2016-dev"
ROOT = Path(__file__).resolve().parents[2]
# goat: its legs part and cross (necks, cuts, keys); paragliding-launch: its rigging lines (strands, ribbons).
CLIPS = (("goat", 30), ("paragliding-launch", 12))
TRACE = """
import hashlib, sys
from pathlib import Path
from roto_core.contracts import ShapeSettings
from roto_core.exporters import shapes_json_text
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.trace import trace_shapes
for name, frames in {clips!r}:
    masks = MaskSequence(Path({data!r}) / name / "Annotations" / "#####.png", 0, frames - 1, default_object="matte")
    doc = trace_shapes(masks, ShapeSettings(), name=name)
    print(name, len(doc.shapes), hashlib.sha256(shapes_json_text(doc).encode()).hexdigest())
"""


def _cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    return next((set(line.split(":")[1].split()) for line in text.splitlines() if line.startswith("flags")), set())


def _numpy_dispatch() -> list[str]:
    """The SIMD extensions numpy would dispatch to on this CPU (numpy's own names for them)."""
    from numpy._core import _multiarray_umath as umath

    return [name for name in umath.__cpu_dispatch__ if umath.__cpu_features__.get(name)]


def _traced(env: dict[str, str]) -> list[str]:
    run = subprocess.run(
        [sys.executable, "-c", TRACE.format(clips=CLIPS, data=str(DATA))],
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return run.stdout.split("\n")


@pytest.mark.skipif(not DATA.is_dir(), reason="shared DAVIS data not present")
@pytest.mark.skipif(
    platform.machine() not in ("x86_64", "AMD64") or not {"avx2", "fma"} <= _cpu_flags(),
    reason="OpenBLAS's Haswell kernel needs an x86-64 CPU with AVX2 and FMA",
)
def test_real_mattes_trace_to_the_same_bytes_under_other_numpy_and_openblas_code() -> None:
    plain = _traced({"OPENBLAS_CORETYPE": "Haswell"})
    assert len([line for line in plain if line]) == len(CLIPS)
    other = {"OPENBLAS_CORETYPE": "Sandybridge"}
    if dispatch := _numpy_dispatch():
        other["NPY_DISABLE_CPU_FEATURES"] = " ".join(dispatch)
    if platform.libc_ver()[0] == "glibc":
        # glibc's builds of exp, log, acos and pow without fused multiply-adds.
        other["GLIBC_TUNABLES"] = "glibc.cpu.hwcaps=-AVX2,-FMA,-AVX512F"
    assert _traced(other) == plain


@pytest.mark.parametrize("mode", ["wrap", "nearest"])
@pytest.mark.parametrize("sigma", [1.0, 2.0, 3.5])
def test_portable_gaussian_is_scipys_filter_to_rounding(mode: str, sigma: float) -> None:
    """The weights are scipy's formula with the C library's exp, the correlation scipy's own: the smoothed outline is
    scipy's within rounding (the exponentials differ from numpy's SIMD ones by a unit in the last place at most)."""
    rng = np.random.default_rng(3)
    outline = rng.normal(0, 40, (300, 2)).cumsum(axis=0)
    got = gaussian_filtered(outline, sigma, mode)
    np.testing.assert_allclose(got, gaussian_filter1d(outline, sigma, axis=0, mode=mode), rtol=0, atol=1e-9)
    assert got.shape == outline.shape


def _ulps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a - b) / np.spacing(np.abs(b))


def test_portable_exp_log_and_arccos_are_the_c_librarys_within_two_ulps() -> None:
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.uniform(-20.0, 0.0, 4000), rng.uniform(-700.0, 700.0, 2000), [0.0, -1e-12, 1e-12]])
    assert _ulps(np.array([portable.exp(v) for v in x]), np.array([math.exp(v) for v in x])).max() <= 2.0
    y = np.concatenate([rng.uniform(1.0, 50.0, 4000), 10.0 ** rng.uniform(-300, 300, 2000), [1.0, 2.0, 0.5]])
    got, want = np.array([portable.log(v) for v in y]), np.array([math.log(v) for v in y])
    assert np.all((got == want) | (_ulps(got, want) <= 2.0))
    cosines = np.concatenate([np.linspace(-1.0, 1.0, 2001), rng.uniform(-1.0, 1.0, 3999)]).reshape(3, -1)
    angles = portable.arccos(cosines)
    assert angles.shape == cosines.shape
    assert np.all(np.abs(angles - np.vectorize(math.acos)(cosines)) <= 4 * np.spacing(np.pi))
