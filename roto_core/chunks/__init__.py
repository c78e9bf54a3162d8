"""Per-chunk execution on the farm: the runner, the state handed between chunks, and the persistent worker."""

from roto_core.chunks.runner import Models, chunk_ranges, load_models, run_chunk
from roto_core.chunks.worker import parse_range, progress_printer, serve

__all__ = ["Models", "chunk_ranges", "load_models", "parse_range", "progress_printer", "run_chunk", "serve"]
