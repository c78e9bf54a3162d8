"""A closed bezier's samples, compiled: what model.sample_outline and untangle.segment_polylines return.

Both were numpy: the segments' four controls laid out (model.segment_controls), then the Bernstein weights times
each control, summed in control order (model.bezier_points), some fifteen array operations for a key of 24 points
and 12 samples a segment. The area guard, the untangling and the chord bows sample keys tens of thousands of times
a shot (DAVIS camel, goat, cows and soapbox's ground truth: 30,645 calls, 0.9 s of a 13 s trace; bench/RESULTS.md,
sixty-first pass). Here it is one loop with the same operations in the same order, no fused multiply-adds (numba
does not contract without fastmath, see portable.py), so the samples are numpy's to the bit
(tests/shapes/test_bezier_kernel.py).
"""

from __future__ import annotations

import numpy as np
from numba import njit

# model.py's layout of a point's three controls (model imports this module, so it cannot import model's names;
# tests/shapes/test_bezier_kernel.py checks that they agree).
_LEFT, _POINT, _RIGHT = 0, 1, 2


@njit(cache=True)
def segment_samples(ctrl: np.ndarray, weights: np.ndarray, with_end: bool) -> np.ndarray:
    """Keys ``ctrl`` ``(K, N, 3, 2)`` sampled at Bernstein ``weights`` ``(S, 4)``: ``(K, N, S, 2)``, segment i
    from point i to the next (the last back to the first); with ``with_end``, ``(K, N, S + 1, 2)``, each segment's
    end point after its samples."""
    keys, count, samples = ctrl.shape[0], ctrl.shape[1], weights.shape[0]
    out = np.empty((keys, count, samples + int(with_end), 2))
    for k in range(keys):
        for i in range(count):
            j = i + 1 if i + 1 < count else 0
            for c in range(2):
                start = ctrl[k, i, _POINT, c]
                leaving = start + ctrl[k, i, _RIGHT, c]
                end = ctrl[k, j, _POINT, c]
                arriving = end + ctrl[k, j, _LEFT, c]
                for s in range(samples):
                    value = weights[s, 0] * start
                    value += weights[s, 1] * leaving
                    value += weights[s, 2] * arriving
                    value += weights[s, 3] * end
                    out[k, i, s, c] = value
                if with_end:
                    out[k, i, samples, c] = end
    return out
