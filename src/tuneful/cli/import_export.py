"""``tuneful import optuna`` and ``tuneful export optuna``: studies between Optuna's storage
and tuneful's.

``export`` keeps its own form (``tuneful export STUDY`` writes CSV or JSON); its first
argument ``optuna`` followed by ``--to`` or ``--study`` selects the copy into Optuna.
"""

from __future__ import annotations

from typing import Any

import click

from tuneful.cli.output import display_storage, resolve_storage, shown, stdout
from tuneful.cli.studies import export_command
from tuneful.errors import StudyError

__all__ = ["import_group", "export_with_optuna"]


@click.group("import")
def import_group() -> None:
    """Copy studies from another tuner into a tuneful storage."""


@import_group.command("optuna")
@click.option(
    "--from",
    "source",
    required=True,
    metavar="URL",
    help="The Optuna storage: a database URL such as sqlite:///optuna.db.",
)
@click.option(
    "--study",
    "studies",
    multiple=True,
    metavar="NAME",
    help="An Optuna study to copy (repeat for several). Without it, the storage's only study.",
)
@click.option("--all", "copy_all", is_flag=True, help="Copy every study of the storage.")
@click.option(
    "--storage",
    metavar="URL",
    help="The tuneful storage to write (default: $TUNEFUL_STORAGE, else sqlite:///tuneful.db).",
)
@click.option("--name", metavar="NEW", help="Name of the tuneful study (one study only).")
def import_optuna_command(
    source: str,
    studies: tuple[str, ...],
    copy_all: bool,
    storage: str | None,
    name: str | None,
) -> None:
    """Copy Optuna studies: parameters and their distributions, trials with their states,
    values, intermediate values, user attributes and constraints, directions.

    A RUNNING Optuna trial is recorded as FAIL, a WAITING one stays queued; Optuna's own
    system attributes and times are kept in each trial's system_attrs["optuna"].
    """
    from tuneful.compat.optuna import import_study, optuna_study_names

    available = optuna_study_names(source)
    if copy_all and studies:
        raise StudyError("give --study NAME or --all, not both")
    chosen = list(available) if copy_all else list(studies)
    if not chosen:
        if len(available) != 1:
            raise StudyError(
                f"{display_storage(source)} holds {len(available)} Optuna studies "
                f"({sorted(available)}): choose with --study NAME or --all"
            )
        chosen = list(available)
    if name is not None and len(chosen) != 1:
        raise StudyError(f"--name {name!r} names one study, but {len(chosen)} are copied")
    target = resolve_storage(storage)
    for study in chosen:
        new = import_study(source, study, storage=target, name=name)
        stdout.print(
            f"Imported Optuna study {shown(study)} as {shown(new)} into "
            f"{shown(display_storage(target))}"
        )


@click.command("optuna")
@click.option("--study", "study", required=True, metavar="NAME", help="The tuneful study.")
@click.option(
    "--to",
    "target",
    required=True,
    metavar="URL",
    help="The Optuna storage to write: a database URL such as sqlite:///out.db (created "
    "when missing).",
)
@click.option(
    "--storage",
    metavar="URL",
    help="The tuneful storage (default: $TUNEFUL_STORAGE, else sqlite:///tuneful.db).",
)
@click.option("--name", metavar="NEW", help="Name of the Optuna study (default: the same).")
def export_optuna_command(study: str, target: str, storage: str | None, name: str | None) -> None:
    """Copy a tuneful study into an Optuna storage (the reverse of `tuneful import optuna`)."""
    from tuneful.compat.optuna import export_study

    where = resolve_storage(storage)
    new = export_study(study, target, storage=where, name=name)
    stdout.print(
        f"Exported study {shown(study)} as Optuna study {shown(new)} into "
        f"{shown(display_storage(target))}"
    )


_OPTUNA_FLAGS = ("--to", "--study", "--help", "-h")


class _ExportCommand(click.Command):
    """``tuneful export STUDY ...`` as before, or ``tuneful export optuna --to URL ...``."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        rest = args[1:]
        if args[:1] == ["optuna"] and any(
            a in _OPTUNA_FLAGS or a.startswith(("--to=", "--study=")) for a in rest
        ):
            return export_optuna_command.make_context(
                f"{info_name} optuna", list(rest), parent=parent, **extra
            )
        return super().make_context(info_name, args, parent=parent, **extra)


export_with_optuna = _ExportCommand(
    name="export",
    params=list(export_command.params),
    callback=export_command.callback,
    help=export_command.help,
    epilog=(
        "tuneful export optuna --study NAME --to sqlite:///out.db copies a study into an "
        "Optuna storage instead (see tuneful export optuna --help)."
    ),
    short_help=export_command.short_help,
)
