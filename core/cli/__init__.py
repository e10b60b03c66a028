"""The ``electroforge`` command line (typer + rich).

Each core subcommand lives in its own module in this package and exposes ``register(app)``;
modules are discovered at start-up, so a command appears only once the module that implements it
exists. Plugins add their own commands through the ``register_commands(app)`` hook, called in
:func:`main` after ``--disable`` has been read, so a disabled plugin's commands do not exist.
User mistakes (:class:`~electroforge.errors.ElectroforgeError`, bad options) print one line,
``error: <what and where>``, and exit with status 2; Ctrl-C exits with 130.
"""
from __future__ import annotations

import importlib
import os
import pkgutil
import sys

import click
import typer

from electroforge._version import __version__
from electroforge.cli._common import STATE, err_console
from electroforge.errors import ElectroforgeError

try:  # typer >= 0.20 vendors click: its usage errors are not click.ClickException
    from typer._click.exceptions import ClickException as _TyperClickException
except ImportError:  # pragma: no cover - older typer uses click itself
    _TyperClickException = click.ClickException  # type: ignore[misc,assignment]

app = typer.Typer(
    name="electroforge",
    help="Closed-loop design of Li-ion battery electrodes from plugins: generate, characterize, simulate, optimize.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"electroforge {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version_callback, is_eager=True,
                                 help="Print the version and exit."),
    disable: list[str] = typer.Option([], "--disable", metavar="NAME",
                                      help="Do not load this plugin or component (repeatable; env ELECTROFORGE_DISABLE=a,b)."),
) -> None:
    STATE.disable = list(disable)


def _register_commands() -> None:
    for mod in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if mod.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{mod.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


_register_commands()


def _disabled_in(argv: list[str]) -> list[str]:
    """The ``--disable NAME`` / ``--disable=NAME`` values given before the subcommand."""
    out, i = [], 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--disable" and i + 1 < len(argv):
            out.append(argv[i + 1])
            i += 2
            continue
        if arg.startswith("--disable="):
            out.append(arg.split("=", 1)[1])
        elif not arg.startswith("-"):
            break  # the subcommand: its own options follow
        i += 1
    return out


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point; returns the exit status."""
    os.environ.setdefault("PYBAMM_DISABLE_TELEMETRY", "true")
    args = list(sys.argv[1:] if argv is None else argv)
    core_commands = list(app.registered_commands)
    try:
        if "--version" not in args:
            STATE.disable = _disabled_in(args)
            STATE.registry().add_commands(app)
        command = typer.main.get_command(app)
        return _run(command, args)
    finally:
        app.registered_commands[:] = core_commands  # plugin commands are per invocation


def _run(command, argv: list[str]) -> int:
    try:
        rc = command.main(args=argv, prog_name="electroforge", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        err_console.print("aborted")
        return 130
    except (click.ClickException, _TyperClickException) as exc:
        _error_line(exc.format_message())
        return exc.exit_code if exc.exit_code else 2
    except ElectroforgeError as exc:
        _error_line(str(exc))
        return 2
    except KeyboardInterrupt:
        err_console.print("interrupted")
        return 130
    # with standalone_mode=False click returns the code of a typer.Exit instead of raising it
    return rc if isinstance(rc, int) else 0


def _error_line(message: str) -> None:
    """One line on stderr, never wrapped (rich would wrap at the terminal width)."""
    click.echo("error: " + " ".join(message.split()), err=True)


def run() -> None:  # pragma: no cover - thin wrapper for the console script
    sys.exit(main())
