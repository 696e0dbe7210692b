"""``tuneful dashboard``: serve a live, read-only web page of a storage's studies."""

from __future__ import annotations

import sys

import click

from tuneful.cli.output import display_storage, resolve_storage, sqlite_file
from tuneful.errors import StorageError

__all__ = ["dashboard_command"]


@click.command("dashboard")
@click.option(
    "--storage",
    metavar="URL",
    help="Storage URL (default: $TUNEFUL_STORAGE, else sqlite:///tuneful.db).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Any address other than loopback requires a token.",
)
@click.option(
    "--port", default=8080, show_default=True, type=int, help="Port to listen on (0: a free one)."
)
@click.option(
    "--token",
    metavar="TOKEN",
    default=None,
    help="Require this token (default: none on loopback, a new random one elsewhere).",
)
@click.option(
    "--no-token",
    is_flag=True,
    help="Serve without a token (refused on any host other than loopback).",
)
def dashboard_command(
    storage: str | None, host: str, port: int, token: str | None, no_token: bool
) -> None:
    """Serve a live web page of the studies in a storage (read-only).

    The page lists the studies, pages through each one's trials (sorting, filters), opens a
    trial (parameters, learning curve, attributes, error, optimizer and scheduler), draws
    every plot and the parameters' importance, compares studies on one figure, and updates
    itself while workers run. It reads the storage only, and needs no internet access.

    \b
    Example:
        tuneful dashboard --storage sqlite:///tuneful.db
        tuneful dashboard --host 0.0.0.0 --port 8080   # prints the address with its token
    """
    from tuneful.dashboard.server import prepare

    url = resolve_storage(storage)
    path = sqlite_file(url)
    if path is not None and not path.exists():
        raise StorageError(
            f"storage {display_storage(url)}: {path} does not exist (pass --storage URL, or "
            "set TUNEFUL_STORAGE; start the dashboard once a study is stored there)"
        )
    dashboard = prepare(url, host=host, port=port, token=token, no_token=no_token)

    def started() -> None:
        click.echo(f"Serving {display_storage(url)} (read-only) at {dashboard.url}")
        if dashboard.token is not None:
            click.echo("Anyone with this address (its token included) can read the studies.")
        click.echo("Press Ctrl-C to stop.")
        sys.stdout.flush()

    dashboard.serve(on_started=started)
