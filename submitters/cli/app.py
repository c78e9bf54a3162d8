"""The ``rotofarm`` Typer application and its error boundary.

Commands live in one module per area (ingest, roto, shapes, farm, publish, demo); each module has a
``register(app)``. ``main`` is the single place where our typed errors, the usage errors of the option parser
(a bad ``--fps``, ``--handles -1``) and pydantic's complaints become one line ``error: WHERE: what`` and exit 2, and
where Ctrl-C ends every child process, says what was kept and exits 130.
"""

from __future__ import annotations

import inspect
import re
import signal
import sys
from collections.abc import Sequence

import typer
from pydantic import ValidationError
from typer._click import Command, Context, exceptions
from typer.core import TyperArgument, TyperGroup, TyperOption
from typer.exceptions import Abort

from roto_core.errors import RotofarmError
from submitters.cli.interrupt import kept_lines

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


class _Argument(TyperArgument):
    """An argument shown as ``CUT`` / ``[CUT]`` in usage lines, not ``{cut}`` (which reads like a template key)."""

    def _usage_display_name(self) -> str:
        name = self.display_name_raw.upper()
        name = name if self.required else f"[{name}]"
        return name + ("..." if self.nargs != 1 else "")


class _Flag(TyperOption):
    """A boolean flag shows no ``<bool>`` value placeholder: it takes none."""

    def display_type_rich(self, ctx: Context) -> str | None:
        return None if self.is_flag else super().display_type_rich(ctx)


def _plain(param: object) -> None:
    if type(param) is TyperArgument:
        param.__class__ = _Argument
    elif type(param) is TyperOption and param.is_flag:
        param.__class__ = _Flag


def _reflowed(help_text: str | None) -> str | None:
    """A docstring's paragraphs each made one line, for the terminal to wrap. Typer (0.29) joins the lines of the
    first paragraph but prints the others with the docstring's own line breaks, which a terminal narrower than
    the source wraps again mid-line. A paragraph opening with click's ``\\b`` keeps its lines."""
    if not help_text:
        return help_text
    paragraphs = inspect.cleandoc(help_text).split("\n\n")
    return "\n\n".join(p if p.startswith("\b") else " ".join(p.split("\n")) for p in paragraphs)


def _tidy(command: Command) -> Command:
    """Give every argument and flag of the command tree (``--help`` too) the plain help display above, and its
    help text paragraphs the terminal can wrap."""
    command.help = _reflowed(command.help)
    for param in command.params:
        _plain(param)
    make_help_option = command.get_help_option

    def help_option(ctx: Context) -> TyperOption | None:
        option = make_help_option(ctx)
        _plain(option)
        return option

    command.get_help_option = help_option
    if isinstance(command, TyperGroup):
        for sub in command.commands.values():
            _tidy(sub)
    return command


_URL = re.compile(r"\s*For further information visit https?://\S+")
_DUMP = re.compile(r"\s*\[type=[^\]]*\]")
_PREFIX = re.compile(r"\b(?:Value error|Assertion failed), ")


def one_line(text: str) -> str:
    """A message as one clean line: no pydantic help URL, ``[type=..., input_value=...]`` dump or
    ``Value error, `` prefix, and its lines joined."""
    text = _PREFIX.sub("", _DUMP.sub("", _URL.sub("", text)))
    return "; ".join(part.strip() for part in text.splitlines() if part.strip())


def _validation(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(x) for x in err["loc"])
    return f"{where}: {err['msg']}" if where else str(err["msg"])


def _usage(exc: exceptions.ClickException) -> str:
    message = exc.format_message()
    ctx = getattr(exc, "ctx", None)
    if isinstance(exc, exceptions.UsageError) and ctx is not None:
        message = f"{ctx.command_path}: {message} (see '{ctx.command_path} --help')"
    return message


def _interrupted() -> int:
    """Ctrl-C: end every child (ignoring a second Ctrl-C meanwhile), say what was kept, exit 130."""
    from roto_core.native_stderr import restore_stderr
    from submitters.process_tree import end_descendants

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        restore_stderr()
        end_descendants()
        for line in kept_lines():
            print(f"kept: {line}", file=sys.stderr)
        print("error: interrupted (Ctrl-C); every process it started has ended", file=sys.stderr)
    finally:
        signal.signal(signal.SIGINT, previous)
    return 130


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code; bad input is one ``error:`` line and exit 2, never a traceback."""
    command = _tidy(typer.main.get_command(app))
    try:
        result = command.main(
            args=list(argv) if argv is not None else sys.argv[1:], prog_name="rotofarm", standalone_mode=False
        )
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except exceptions.NoArgsIsHelpError as exc:
        exc.show()
        return 0
    except exceptions.ClickException as exc:
        print(f"error: {one_line(_usage(exc))}", file=sys.stderr)
        return 2
    except Abort:
        return _interrupted()
    except RotofarmError as exc:
        print(f"error: {one_line(exc.format())}", file=sys.stderr)
        return 2
    except ValidationError as exc:
        print(f"error: {one_line(_validation(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return _interrupted()
    if result == 130:  # the parser turns a KeyboardInterrupt into Exit(130) before it reaches us
        return _interrupted()
    return result if isinstance(result, int) else 0


def entry() -> None:
    sys.exit(main())
