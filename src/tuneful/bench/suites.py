"""Benchmark suites: named lists of task ids, and user suites written in YAML.

Named suites are data, in :data:`SUITES` (name -> description and task ids):

- ``bbob-small``: two functions from each of the five BBOB groups (f1, f3 separable; f6, f8
  low or moderate conditioning; f10, f13 high conditioning; f15, f17 multimodal with
  adequate global structure; f21, f24 with weak global structure) at d = 2, 5, 10,
  instance 1 (30 tasks);
- ``yahpo-lcbench``: 8 lcbench OpenML tasks; ``yahpo-xgboost``: 8 rbv2_xgboost OpenML tasks
  (the instances that the scenarios' ``reference.jsonl`` covers);
- ``steplaw``: the 17 dense (N, D) grids;
- ``sklearn-small``: each scikit-learn model on each bundled dataset (9 tasks);
- ``mo-small``: the pool of multi-objective tasks (51) that the multi-objective dev and test
  suites (``benchmarks/suites/mo-dev.yaml``, ``mo-test.yaml``) are drawn from: ZDT1-4, 6 at
  d = 5, 10; DTLZ1, 2, 7 with 2 and 3 objectives; bbob-biobj f1, 4, 10, 20, 30, 40, 50, 55
  at d = 2, 5; yahpo-mo on 8 lcbench and 8 rbv2_xgboost instances; 4 constrained variants.

A user suite is a YAML file with ``tasks`` (a list of task ids) and/or ``include`` (a list of
suite names, or paths of other suite files relative to this one), and optionally a
``description``::

    # my-suite.yaml
    include: [bbob-small]
    tasks:
      - yahpo/lcbench/3945
      - steplaw/dense/N2.15e8/D4e9

Tasks are listed in order of first appearance, without repeats.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from tuneful.bench.tasks import TaskError
from tuneful.bench.tasks.loader import check_task_id
from tuneful.errors import SpecError, did_you_mean
from tuneful.space import read_yaml

__all__ = ["SUITES", "load_suite", "list_suites"]

_BBOB_FUNCTIONS = (1, 3, 6, 8, 10, 13, 15, 17, 21, 24)
_LCBENCH = ("34539", "167149", "167181", "167190", "167200", "168910", "189354", "189862")
_XGBOOST = ("32", "334", "1049", "1050", "1111", "40499", "40670", "40978")
_STEPLAW_GRIDS = (
    (214663680, 4000000000),
    (214663680, 11400000000),
    (214663680, 20000000000),
    (214663680, 100000000000),
    (268304384, 5000000000),
    (268304384, 14200000000),
    (268304384, 25000000000),
    (268304384, 80000000000),
    (429260800, 8000000000),
    (429260800, 22700000000),
    (429260800, 40000000000),
    (429260800, 50000000000),
    (536872960, 10000000000),
    (536872960, 28400000000),
    (536872960, 50000000000),
    (1073741824, 20000000000),
    (1073741824, 56900000000),
)

_MO_LCBENCH = ("3945", "7593", "34539", "167149", "167181", "167190", "167200", "189354")
_MO_CLASSIC = (
    *(f"zdt/zdt{n}/d{d}" for d in (5, 10) for n in (1, 2, 3, 4, 6)),
    "dtlz/dtlz1/d4/m2",
    "dtlz/dtlz2/d4/m2",
    "dtlz/dtlz2/d6/m3",
    "dtlz/dtlz7/d5/m2",
    "dtlz/dtlz7/d6/m3",
)
_MO_CONSTRAINED = (
    "zdt/zdt1/d5@f1<=0.5",
    "dtlz/dtlz2/d6/m3@f3<=0.5",
    "yahpo-mo/rbv2_xgboost/1049@memory<=315",
    "yahpo-mo/rbv2_xgboost/32@memory<=400",
)

#: Suite name -> {"description": ..., "tasks": [task ids]}.
SUITES: dict[str, dict[str, Any]] = {
    "bbob-small": {
        "description": "BBOB: 2 functions per group at d = 2, 5, 10, instance 1",
        "tasks": [f"bbob/f{f}/d{d}/i1" for d in (2, 5, 10) for f in _BBOB_FUNCTIONS],
    },
    "yahpo-lcbench": {
        "description": "YAHPO lcbench: 8 OpenML tasks, MLP, fidelity epoch 1-52",
        "tasks": [f"yahpo/lcbench/{i}" for i in _LCBENCH],
    },
    "yahpo-xgboost": {
        "description": "YAHPO rbv2_xgboost: 8 OpenML tasks, conditional space, fidelity trainsize",
        "tasks": [f"yahpo/rbv2_xgboost/{i}" for i in _XGBOOST],
    },
    "steplaw": {
        "description": "Step Law: every dense (N, D) learning rate x batch size grid",
        "tasks": [f"steplaw/dense/N{n}/D{d}" for n, d in _STEPLAW_GRIDS],
    },
    "sklearn-small": {
        "description": "scikit-learn: svm, gb, mlp on digits, breast_cancer, wine (real CV)",
        "tasks": [
            f"sklearn/{model}/{dataset}"
            for model in ("svm", "gb", "mlp")
            for dataset in ("wine", "breast_cancer", "digits")
        ],
    },
    "mo-small": {
        "description": "multi-objective pool: ZDT, DTLZ, bbob-biobj, YAHPO lcbench/rbv2_xgboost "
        "accuracy vs time, 4 constrained variants",
        "tasks": [
            *_MO_CLASSIC,
            *(f"bbob-biobj/f{f}/d{d}/i1" for d in (2, 5) for f in (1, 4, 10, 20, 30, 40, 50, 55)),
            *(f"yahpo-mo/lcbench/{i}" for i in _MO_LCBENCH),
            *(f"yahpo-mo/rbv2_xgboost/{i}" for i in _XGBOOST),
            *_MO_CONSTRAINED,
        ],
    },
}

_SUITE_KEYS = ("tasks", "include", "description")


def list_suites() -> dict[str, str]:
    """Named suites: name -> one-line description."""
    return {name: suite["description"] for name, suite in SUITES.items()}


def load_suite(name_or_path: str | os.PathLike[str]) -> list[str]:
    """The task ids of a named suite or of a YAML suite file.

    A string that names a suite in :data:`SUITES` is that suite; anything else is read as
    a path to a YAML file (see the module docstring for its shape).

    Raises:
        SpecError: an unknown suite name, a missing or malformed file, an unknown key, a
            task id of an unknown family, or files that include each other.

    Example:
        >>> load_suite("steplaw")[0]
        'steplaw/dense/N214663680/D4000000000'
    """
    return _dedupe(_resolve(name_or_path, base=Path.cwd(), seen=()))


def _resolve(reference: str | os.PathLike[str], base: Path, seen: tuple[Path, ...]) -> list[str]:
    if isinstance(reference, str) and reference in SUITES:
        return list(SUITES[reference]["tasks"])
    path = (base / Path(reference)).resolve()
    if not path.is_file():
        text = str(reference)
        hint = did_you_mean(text, SUITES)
        raise SpecError(
            f"unknown suite {text!r}{hint}: not a named suite ({', '.join(SUITES)}) and no "
            f"file {str(path)!r}"
        )
    if path in seen:
        chain = " -> ".join(str(p) for p in (*seen, path))
        raise SpecError(f"suite files include each other: {chain}")
    document = _read(path)
    tasks: list[str] = []
    for included in _string_list(document, "include", path):
        tasks.extend(_resolve(included, base=path.parent, seen=(*seen, path)))
    for task_id in _string_list(document, "tasks", path):
        try:
            check_task_id(task_id)
        except TaskError as exc:
            raise SpecError(f"suite file {str(path)!r}: {exc}") from None
        tasks.append(task_id)
    return tasks


def _read(path: Path) -> Mapping[str, Any]:
    try:
        document = read_yaml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SpecError(f"cannot read suite file {str(path)!r}: {exc}") from None
    if not isinstance(document, Mapping):
        raise SpecError(
            f"suite file {str(path)!r}: expected a mapping with 'tasks' and/or 'include', "
            f"got {type(document).__name__}"
        )
    unknown = [key for key in document if key not in _SUITE_KEYS]
    if unknown:
        raise SpecError(
            f"suite file {str(path)!r}: unknown key {unknown[0]!r}"
            f"{did_you_mean(str(unknown[0]), _SUITE_KEYS)} (keys: {list(_SUITE_KEYS)})"
        )
    if "tasks" not in document and "include" not in document:
        raise SpecError(f"suite file {str(path)!r}: lists neither 'tasks' nor 'include'")
    return document


def _string_list(document: Mapping[str, Any], key: str, path: Path) -> list[str]:
    values = document.get(key) or []
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise SpecError(f"suite file {str(path)!r}: {key!r} must be a list of strings")
    return values


def _dedupe(task_ids: list[str]) -> list[str]:
    return list(dict.fromkeys(task_ids))
