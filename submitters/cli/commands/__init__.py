"""One module per area; each exposes ``register(app)``. Listed here so the order of ``--help`` is stable."""

from submitters.cli.commands import demo, farm, ingest, publish, roto, shapes

MODULES = [demo, ingest, roto, shapes, farm, publish]
