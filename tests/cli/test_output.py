"""What the command line prints and writes: control characters, storage URLs with passwords,
numbers, output files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tuneful.cli import output
from tuneful.cli.output import (
    OutputError,
    display_storage,
    error_line,
    format_param,
    look_commands,
    printable,
    shown,
    write_output,
)
from tuneful.cli.run import stored_run

SECRET_URL = "postgresql://alice:S3cret@db/hpo"


@pytest.mark.parametrize(
    "text",
    ["\x1b[2J", "\x1b]0;title\x07", "a\rb", "\x9b31m", "x\x00y", "\u202eevil", "bell\x07"],
)
def test_printable_shows_control_characters_as_escapes(text: str) -> None:
    made = printable(text)
    assert made.isprintable()
    assert "\\x" in made or "\\u" in made


def test_printable_keeps_ordinary_text_and_optionally_line_breaks() -> None:
    assert printable("lr=0.1 café [b]") == "lr=0.1 café [b]"
    assert printable("a\nb\tc") == "a\\x0ab\\x09c"
    assert printable("a\nb\tc\x1b", newlines=True) == "a\nb\tc\\x1b"
    assert shown("[bold]\x1b") == "\\[bold]\\x1b"


def test_error_line_neutralises_control_characters() -> None:
    assert error_line("bad\x1b]0;owned\x07 name\nsecond line") == (
        "bad\\x1b]0;owned\\x07 name second line"
    )


def test_floats_are_shown_to_six_significant_digits() -> None:
    assert format_param(0.1 + 0.2) == "0.3"
    assert format_param(1.23456789e-7) == "1.23457e-07"
    assert format_param(3) == "3" and format_param(True) == "true"


def test_stored_spec_has_no_storage_password(tmp_path: Path) -> None:
    spec = {"name": "s", "storage": SECRET_URL, "command": "python train.py"}
    run = stored_run(spec, tmp_path, 10, None)
    assert "S3cret" not in repr(run)
    assert run["spec"]["storage"] == "postgresql://alice@db/hpo"
    assert run["spec"]["command"] == "python train.py" and run["n_trials"] == 10
    assert spec["storage"] == SECRET_URL  # the spec itself is left alone
    query = stored_run(
        {"storage": "postgresql://db/hpo?password=S3cret&sslmode=require"}, tmp_path, 1, None
    )
    assert "S3cret" not in repr(query)


def test_a_storage_password_is_never_displayed() -> None:
    assert display_storage(SECRET_URL) == "postgresql://alice:***@db/hpo"
    assert "S3cret" not in display_storage("postgresql://alice@db/hpo?password=S3cret")


def test_look_commands_never_paste_a_password(monkeypatch: pytest.MonkeyPatch) -> None:
    commands = look_commands("quad", SECRET_URL)
    text = "\n".join(commands)
    assert "S3cret" not in text
    assert commands[0].startswith("export TUNEFUL_STORAGE='postgresql://alice:***@db/hpo'")
    assert "password in place of ***" in commands[0]
    # The commands themselves work once the variable is set: no `***` inside them.
    for command in commands[1:]:
        assert '--storage "$TUNEFUL_STORAGE"' in command and "***" not in command
    monkeypatch.setenv("TUNEFUL_STORAGE", SECRET_URL)  # already there: nothing to add
    assert look_commands("quad", SECRET_URL) == [
        "tuneful show quad",
        "tuneful plot quad --kind history --output quad-history.html   # pip install "
        "'tuneful[viz]'",
        "tuneful dashboard   # pip install 'tuneful[dashboard]'",
        "tuneful export quad --format csv --output quad.csv",
    ]


def test_look_commands_without_a_password_name_the_storage() -> None:
    commands = look_commands("my study", "postgresql://alice@db/hpo")
    assert commands == [
        "tuneful show 'my study' --storage postgresql://alice@db/hpo",
        "tuneful plot 'my study' --kind history --output 'my study-history.html' "
        "--storage postgresql://alice@db/hpo   # pip install 'tuneful[viz]'",
        "tuneful dashboard --storage postgresql://alice@db/hpo   # pip install "
        "'tuneful[dashboard]'",
        "tuneful export 'my study' --format csv --output 'my study.csv' "
        "--storage postgresql://alice@db/hpo",
    ]


def test_error_messages_mask_the_password_of_a_storage_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(output, "_PASSWORDS", set())
    output.resolve_storage("postgresql+psycopg2://alice:S3cret%21@db/hpo")
    line = error_line(
        "cannot open 'postgresql+psycopg2://alice:S3cret%21@db/hpo' (password S3cret! refused)"
    )
    assert "S3cret" not in line
    assert "postgresql+psycopg2://alice:***@db/hpo" in line


def test_write_output_replaces_a_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    write_output(target, "a,b\n")
    assert target.read_text() == "a,b\n"
    assert oct(target.stat().st_mode & 0o777) != oct(0o600)  # not the temporary file's mode
    with pytest.raises(OutputError, match="exists: pass --force"):
        write_output(target, "c\n")
    write_output(target, "c\n", force=True)
    assert target.read_text() == "c\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]  # no temporary left


def test_write_output_leaves_nothing_when_the_write_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old\n")

    def broken(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken)
    with pytest.raises(OutputError, match="No space left on device"):
        write_output(target, "new\n" * 1000, force=True)
    assert target.read_text() == "old\n"  # the old file, whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


@pytest.mark.parametrize("side", ["", "-wal", "-shm", "-journal"])
def test_write_output_refuses_the_storage_files_even_with_force(tmp_path: Path, side: str) -> None:
    database = tmp_path / "a.db"
    database.write_bytes(b"SQLite format 3\x00")
    with pytest.raises(OutputError, match="the storage's own file"):
        write_output(
            Path(f"{database}{side}"), "x", storage_url=f"sqlite:///{database}", force=True
        )
    assert database.read_bytes() == b"SQLite format 3\x00"
