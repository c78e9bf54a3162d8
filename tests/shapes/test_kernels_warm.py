"""kernels.warm compiles every kernel for the very array types the tracer passes: after it, tracing a real matte
compiles nothing more (a type it missed would be compiled on the farm worker's first shot, seconds per kernel)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from numba.core.registry import CPUDispatcher

from roto_core.contracts import ShapeSettings
from roto_core.shapes import (
    bezier_kernel,
    crossing_kernel,
    curve_kernel,
    edge_measure,
    edge_sample_kernel,
    kernels,
    keyfit_kernel,
    marker_order,
    nearest,
    neck_kernel,
    point_end_kernel,
    segment_kernel,
    selection_kernel,
    skeleton,
    smoothing_kernel,
    strand_joins,
    strand_kernel,
    track_kernel,
    tracking_kernel,
)
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.trace import trace_shapes

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "davis2016-dev"
# The kernels the tracer's Python code calls; the others are called only from these, compiled into them.
ENTRY_POINTS = (
    bezier_kernel.segment_samples,
    crossing_kernel.chord_crossed,
    crossing_kernel.chord_crosses_outline,
    crossing_kernel.knot_marks,
    crossing_kernel.near_crossings,
    crossing_kernel.self_crossings,
    curve_kernel.mixed_weights,
    curve_kernel.outline_areas,
    curve_kernel.sampled_curve,
    curve_kernel.segment_worst,
    edge_sample_kernel.edge_samples,
    edge_measure.curve_error,
    edge_measure.measure,
    keyfit_kernel.blend_strays,
    keyfit_kernel.control_shifts,
    keyfit_kernel.first_knots,
    keyfit_kernel.fitted_keys,
    keyfit_kernel.spline_tables,
    marker_order.in_loop_order,
    neck_kernel.chord_pixels,
    neck_kernel.fewest_inside,
    neck_kernel.pair_ratios,
    neck_kernel.scan_tables,
    nearest.hausdorff,
    nearest.measure_polyline,
    point_end_kernel.corner_arcs,
    point_end_kernel.point_ends,
    segment_kernel.fit_rows,
    segment_kernel.span_fits,
    selection_kernel.select,
    smoothing_kernel.similarities,
    smoothing_kernel.slid_points,
    smoothing_kernel.smoothed_controls,
    smoothing_kernel.steady_trial,
    skeleton._chains,
    skeleton._junctions,
    skeleton._thin,
    strand_joins.join_candidates,
    strand_joins.joined_lines,
    strand_kernel.arc_lengths,
    strand_kernel.end_headings,
    strand_kernel.nearest_within,
    strand_kernel.points_along,
    strand_kernel.polyline_gaps,
    track_kernel.arcs_at,
    track_kernel.loop_points,
    track_kernel.points_at,
    tracking_kernel.icp_params,
    tracking_kernel.local_shifts,
    tracking_kernel.nearest_k,
    tracking_kernel.projected,
    tracking_kernel.sample_boxes,
)
# The modules of those kernels: every kernel in them is checked, the inner ones too.
MODULES = tuple({sys.modules[kernel.py_func.__module__]: None for kernel in ENTRY_POINTS})


def _signatures() -> dict[str, int]:
    """Per kernel of the modules, how many array types it is compiled for in this process."""
    return {
        f"{module.__name__}.{name}": len(kernel.signatures)
        for module in MODULES
        for name, kernel in vars(module).items()
        if isinstance(kernel, CPUDispatcher) and kernel.__module__ == module.__name__
    }


def _traced_after_warm() -> dict[str, tuple[int, int]]:
    """Per kernel, the array types it is compiled for after ``warm`` and after tracing two real mattes."""
    kernels.warm()
    warmed = _signatures()
    assert all(kernel.signatures for kernel in ENTRY_POINTS)
    # Goat's legs cross and part (necks, curls); paragliding-launch's rigging lines come in dashes (joins).
    for sequence, last in (("goat", 5), ("paragliding-launch", 2)):
        masks = MaskSequence(DATA / sequence / "Annotations" / "#####.png", 0, last, default_object="matte")
        trace_shapes(masks, ShapeSettings(), name=sequence)
    return {name: (count, warmed[name]) for name, count in _signatures().items()}


@pytest.mark.skipif(not DATA.is_dir(), reason="shared DAVIS data not present")
def test_after_warm_tracing_a_real_matte_compiles_nothing_more() -> None:
    """In a fresh process: in this one, the tests before may have compiled the types warm would miss."""
    script = f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import test_kernels_warm as t; "
    script += "print(repr(t._traced_after_warm()))"
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    counts = ast.literal_eval(run.stdout.strip().splitlines()[-1])
    grown = {name: pair for name, pair in counts.items() if pair[0] != pair[1]}
    assert not grown, f"compiled while tracing (types after tracing, after warm): {grown}"
