"""``electroforge plugins``: every installed component, by kind, with its distribution and status."""
from __future__ import annotations

import typer
from rich.table import Table

from electroforge.cli._common import STATE, console, print_json


def plugins(
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list of {kind, name, distribution, version, status, error}."),
) -> None:
    """List generators, characterizers, cell simulators and optimizers, and broken or disabled plugins."""
    rows = STATE.registry().listing()
    if as_json:
        print_json([r.as_dict() for r in rows])
        return
    table = Table(title="electroforge plugins")
    for col in ("kind", "name", "distribution", "version", "status"):
        table.add_column(col)
    for r in rows:
        style = {"ok": "green", "broken": "red", "disabled": "yellow"}.get(r.status, "")
        status = f"[{style}]{r.status}[/]" + (f": {r.error}" if r.error else "")
        table.add_row(r.kind, r.name, r.distribution, r.version, status)
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("plugins")(plugins)
