"""The ``rotofarm`` Typer application and its error boundary.

Commands live in one module per area (ingest, roto, shapes, farm, publish, demo); each module has a
``register(app)``. ``main`` is the single place where our typed errors become ``error: WHERE: what`` and exit 2.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import typer

from roto_core.errors import RotofarmError

app = typer.Typer(
    name="rotofarm",
    help="AI rotoscoping as a render-farm job type (Deadline, OpenJD, AYON).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"rotofarm {version('rotofarm')}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True, help="Print the version."),
) -> None:
    """AI rotoscoping as a render-farm job type: ingest a cut, roto on the farm, publish to the tracker."""


def _register_all() -> None:
    from submitters.cli import commands

    for module in commands.MODULES:
        module.register(app)


_register_all()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code; never lets a traceback reach the user for our own errors."""
    try:
        app(args=list(argv) if argv is not None else None, prog_name="rotofarm")
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except RotofarmError as exc:
        print(f"error: {exc.format()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    return 0


def entry() -> None:
    sys.exit(main())
