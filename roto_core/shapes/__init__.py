"""Masks → stable, sparse, editable roto shapes (closed beziers with fixed points and few keys).

Entry points: ``trace_shapes`` (masks → ShapeDocument), ``qa.measure`` (shapes vs masks), and the exporters in
``roto_core.exporters``. See DESIGN.md § Shapes.
"""

from roto_core.shapes.model import Shape, ShapeDocument, rasterise
from roto_core.shapes.trace import InMemoryMasks, MaskSource, trace_shapes

__all__ = ["InMemoryMasks", "MaskSource", "Shape", "ShapeDocument", "rasterise", "trace_shapes"]
