"""DEHB's side of the ``dehb`` adapter: run as a script by the interpreter that has dehb.

Not imported by tuneful (this environment may not even have tuneful installed). Protocol, JSON
lines: the first line read is the setup (``configspace`` as ConfigSpace JSON,
``min_fidelity``, ``max_fidelity``, ``eta``, ``seed``, ``output_path``); then, until stdin
closes, it writes one ask ``{"config": {...}, "fidelity": f}`` and reads one result
``{"fitness": f, "cost": c}``. Everything else DEHB prints goes to stderr.
"""

from __future__ import annotations

import io
import json
import os
import sys
from typing import Any


def main() -> int:
    # The protocol owns the real stdout; DEHB's logger writes to sys.stdout, sent to stderr.
    protocol = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    from ConfigSpace import ConfigurationSpace
    from dehb import DEHB

    line = sys.stdin.readline()
    if not line:
        return 0
    setup: dict[str, Any] = json.loads(line)
    optimizer = DEHB(
        cs=ConfigurationSpace.from_json(io.StringIO(setup["configspace"])),
        min_fidelity=setup["min_fidelity"],
        max_fidelity=setup["max_fidelity"],
        eta=setup["eta"],
        n_workers=1,
        seed=setup["seed"],
        output_path=setup["output_path"],
        save_freq="end",
        log_level="ERROR",
    )
    while True:
        job = optimizer.ask()
        config = {name: _plain(value) for name, value in dict(job["config"]).items()}
        protocol.write(json.dumps({"config": config, "fidelity": float(job["fidelity"])}) + "\n")
        reply = sys.stdin.readline()
        if not reply:
            return 0
        result = json.loads(reply)
        optimizer.tell(job, {"fitness": float(result["fitness"]), "cost": float(result["cost"])})


def _plain(value: Any) -> Any:
    """numpy scalars as Python numbers, for JSON."""
    return value.item() if hasattr(value, "item") else value


if __name__ == "__main__":
    sys.exit(main())
