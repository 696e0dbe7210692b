"""Fixtures of the command-line tests: the command line run in a subprocess (the real
console command) or in this process (faster), specs written to the test's folder."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tuneful.cli import main

SRC = Path(__file__).resolve().parents[2] / "src"

#: A tiny training program: loss = (x - 1)^2 (+ 0.5 for kind b, + penalty when given),
#: printed as a learning curve and a final JSON line.
TRAIN = """\
import json, sys
args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
x = float(args["--x"])
loss = (x - 1) ** 2 + (0.5 if args["--kind"] == "b" else 0.0) + float(args.get("--penalty", 0))
for step in range(3):
    print(json.dumps({"step": step, "loss": loss + 1.0 / (step + 1)}))
print(json.dumps({"loss": loss}))
"""


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def _run_subprocess(
    *args: str, cwd: Path | None = None, timeout: float = 120, extra_path: str | None = None
) -> Result:
    env = dict(os.environ)
    paths = [extra_path or "", str(SRC), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    env.pop("TUNEFUL_STORAGE", None)
    done = subprocess.run(
        [sys.executable, "-m", "tuneful.cli", *args],
        cwd=cwd or Path.cwd(),
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Result(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def start_cli() -> Callable[..., subprocess.Popen[str]]:
    """Start ``python -m tuneful.cli ARGS`` (keyword ``cwd``) without waiting for it."""

    def start(*args: str, cwd: Path | None = None) -> subprocess.Popen[str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH")) if p)
        env.pop("TUNEFUL_STORAGE", None)
        return subprocess.Popen(
            [sys.executable, "-m", "tuneful.cli", *args],
            cwd=cwd or Path.cwd(),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    return start


@pytest.fixture
def run_cli() -> Callable[..., Result]:
    """``python -m tuneful.cli ARGS`` with this checkout's package, stdin not a terminal.

    Keywords: ``cwd``, ``timeout``, ``extra_path`` (a folder put first on the module path).
    """
    return _run_subprocess


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run the command line in this process (faster than a subprocess): cli("ls", ...)."""

    def invoke(*args: str) -> Result:
        capsys.readouterr()
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        else:
            code = 0
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


def base_spec(**changes: Any) -> dict[str, Any]:
    """A good spec for train.py; ``changes`` replace keys (None removes one)."""
    spec: dict[str, Any] = {
        "name": "quad",
        "command": "python train.py --x {x} --kind {kind} [--penalty {penalty}]",
        "space": {
            "x": {"type": "float", "low": -2.0, "high": 3.0},
            "kind": {"type": "categorical", "choices": ["a", "b"]},
            "penalty": {"type": "float", "low": 0.0, "high": 1.0, "when": {"kind": "b"}},
        },
        "metric": {"json_key": "loss"},
        "direction": "minimize",
        "n_trials": 4,
        "seed": 0,
        "scheduler": "none",  # train.py prints a curve; early stopping has its own tests
    }
    spec.update(changes)
    return {k: v for k, v in spec.items() if v is not None}


@pytest.fixture
def write_spec(tmp_path: Path) -> Callable[..., Path]:
    """Write train.py and spec.yaml (base_spec with changes, or the text given) to the
    test's folder."""
    (tmp_path / "train.py").write_text(TRAIN)

    def write(text: str | None = None, **changes: Any) -> Path:
        path = tmp_path / "spec.yaml"
        path.write_text(text if text is not None else yaml.safe_dump(base_spec(**changes)))
        return path

    return write


def _check_one_line_error(result: Result, *fragments: str, alone: bool = True) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert lines, result.stdout
    assert not alone or len(lines) == 1, result.stderr
    error = lines[-1]
    assert error.startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    for fragment in fragments:
        assert fragment in error, error
    return error


@pytest.fixture
def one_line_error() -> Callable[..., str]:
    """Check a result: exit 2, an ``error: ...`` line last on stderr naming the fragments,
    no traceback; with ``alone`` (the default) nothing else on stderr. Returns the line."""
    return _check_one_line_error
