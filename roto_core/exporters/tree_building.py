"""Building an export's document tree with Python's cyclic garbage collector paused.

A shot's JSON export is hundreds of thousands of small containers (a dict per point), all acyclic and all kept
until the text is written. Each allocation batch triggers a collection, and the older
generations' collections walk every container still alive, so building the tree cost more in collections than
in building: writing DAVIS paragliding-launch's shapes JSON (455 shapes, 114,620 points) took 0.83-0.97 s on
this project's 2-core machine, 0.43-0.45 s with the collector paused (bench/RESULTS.md, fifty-eighth pass).
Nothing built here forms a cycle, so nothing is left for the collector once it runs again. (The .fxs, once an
ElementTree of as many elements, is now written as lines of text, silhouette.py.)
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic collector over the block (as it was after: a caller that had paused it keeps it paused)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
