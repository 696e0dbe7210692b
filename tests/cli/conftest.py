"""Fixtures of the command-line tests: the command line run in a subprocess (the real
console command) or in this process (faster), specs written to the test's folder."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

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


def _run_subprocess(
    *args: str, cwd: Path | None = None, timeout: float = 120, extra_path: str | None = None
) -> Any:
    """Returns returncode, stdout and stderr as attributes (as the ``cli`` fixture's result)."""
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
    return SimpleNamespace(returncode=done.returncode, stdout=done.stdout, stderr=done.stderr)


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
def run_cli() -> Callable[..., Any]:
    """``python -m tuneful.cli ARGS`` with this checkout's package, stdin not a terminal.

    Keywords: ``cwd``, ``timeout``, ``extra_path`` (a folder put first on the module path).
    """
    return _run_subprocess


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
