"""The ``tuneful`` command line.

Commands: ``run SPEC`` (tune a program described by a YAML spec), ``worker STUDY`` (join a
study from any machine), ``ls``, ``show``, ``export``, ``delete``, ``demo``, ``db upgrade``,
``importance`` (which parameters matter), ``plot`` (a study's figures as HTML, PNG or SVG),
``dashboard`` (a live, read-only web page of a storage's studies), ``scaling`` (learning rate
and batch size across scales) and ``bench`` (benchmarks). Errors a user can cause print as
one line ``error: ...`` on stderr and exit with status 2; Ctrl-C exits with 130. An
unexpected exception prints as one line too and exits with 1 (``TUNEFUL_DEBUG=1`` shows its
traceback). No message shows a storage password.

Example:
    $ tuneful demo
    $ tuneful run examples/mlp-digits.yaml --n-trials 20
    $ tuneful show mlp-digits
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import click

from tuneful import __version__
from tuneful.cli.bench import bench_group
from tuneful.cli.dashboard import dashboard_command
from tuneful.cli.import_export import export_with_optuna, import_group
from tuneful.cli.importance import importance_command
from tuneful.cli.output import error_line, short_warnings, stderr
from tuneful.cli.plot import plot_command
from tuneful.cli.run import demo_command, run_command
from tuneful.cli.scaling import scaling_group
from tuneful.cli.studies import delete_command, export_command, ls_command, show_command
from tuneful.cli.workers import db_group, worker_command
from tuneful.errors import TunefulError

__all__ = ["cli", "main"]

_USAGE_ERROR = 2
_INTERNAL_ERROR = 1
_INTERRUPTED = 130


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="tuneful", message="%(prog)s %(version)s")
def cli() -> None:
    """tuneful: hyperparameter optimization with durable studies.

    Tune any program that takes its parameters on the command line and prints its metric:
    write a spec (see examples/mlp-digits.yaml) and `tuneful run` it. Studies are stored in
    ./tuneful.db unless --storage or $TUNEFUL_STORAGE says otherwise.
    """


for _command in (
    run_command,
    worker_command,
    ls_command,
    show_command,
    importance_command,
    plot_command,
    export_command,
    delete_command,
    demo_command,
    db_group,
    scaling_group,
    bench_group,
    dashboard_command,
    import_group,
    export_with_optuna,  # takes over `export`: the same, and `tuneful export optuna`
):
    cli.add_command(_command)


def _fail(message: str, code: int = _USAGE_ERROR) -> int:
    # Written directly so a message with brackets is never read as rich markup.
    sys.stderr.write(f"error: {error_line(message)}\n")
    sys.stderr.flush()
    return code


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point: run the command line and exit with its status."""
    try:
        with short_warnings():
            status = cli.main(
                args=list(argv) if argv is not None else None,
                prog_name="tuneful",
                standalone_mode=False,
            )
    except click.exceptions.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else "tuneful"
        status = _fail(f"{exc.format_message()} (see '{where} --help')", exc.exit_code)
    except click.exceptions.ClickException as exc:
        status = _fail(exc.format_message(), exc.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt):
        stderr.print("Interrupted.")
        status = _INTERRUPTED
    except TunefulError as exc:
        status = _fail(str(exc))
    except BrokenPipeError:  # e.g. `tuneful export NAME | head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = 1
    except Exception as exc:  # a bug, or a library's error nobody turned into a message
        if os.environ.get("TUNEFUL_DEBUG"):
            raise
        status = _fail(
            f"unexpected {type(exc).__name__}: {exc} (this is a bug in tuneful or in a library "
            "it uses; run again with TUNEFUL_DEBUG=1 to see the traceback, and report it)",
            _INTERNAL_ERROR,
        )
    sys.exit(status if isinstance(status, int) else 0)
