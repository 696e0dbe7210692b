"""Reading YAML that people write: safe, YAML 1.2 floats, and no key given twice.

PyYAML keeps the last of two equal keys in a mapping without a word, so a spec that sets
``lr`` twice runs with the second value and nobody notices. :class:`UniqueKeyLoader` refuses
it instead, naming the key and both lines. Every YAML file a user writes (run specs, search
spaces, benchmark suites) is read through :func:`read_yaml` or a subclass of the loader.

Example:
    >>> read_yaml("lr: 1e-3\\nlayers: 2")
    {'lr': 0.001, 'layers': 2}
    >>> try:
    ...     read_yaml("lr: 1\\nlr: 2")
    ... except yaml.YAMLError as exc:
    ...     print(exc.problem)
    duplicate key 'lr' (first given at line 1)
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from typing import Any

import yaml

__all__ = ["UniqueKeyLoader", "read_yaml"]

_MERGE_TAG = "tag:yaml.org,2002:merge"


class UniqueKeyLoader(yaml.SafeLoader):
    """A SafeLoader that refuses a mapping holding the same key twice (``<<`` merges may
    still be overridden, as YAML intends) and reads ``1e-5`` (no dot) as a float, as YAML
    1.2 does."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            first_seen: dict[Hashable, yaml.Node] = {}
            for key_node, _ in node.value:
                if key_node.tag == _MERGE_TAG:
                    continue
                key = self.construct_object(key_node, deep=True)
                if not isinstance(key, Hashable):
                    continue  # the base class says what is wrong with it
                first = first_seen.setdefault(key, key_node)
                if first is not key_node:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping",
                        node.start_mark,
                        f"duplicate key {key!r} (first given at line {first.start_mark.line + 1})",
                        key_node.start_mark,
                    )
        return super().construct_mapping(node, deep=deep)


UniqueKeyLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def read_yaml(text: str) -> Any:
    """Parse YAML safely with :class:`UniqueKeyLoader`.

    Raises:
        yaml.YAMLError: the text is not valid YAML, or a mapping holds a key twice (the
            error's ``problem_mark`` points at the second one).
    """
    return yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
