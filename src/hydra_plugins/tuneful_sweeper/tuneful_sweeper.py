"""Registers ``hydra/sweeper=tuneful`` with Hydra: the options' schema and the plugin class.

Hydra imports every module under the ``hydra_plugins`` namespace package when it starts, so
this module stays small and imports only Hydra and OmegaConf; the sweeper's work is done by
:class:`tuneful.integrations.hydra.TunefulSweep`.
"""

# No ``from __future__ import annotations`` here: Hydra's plugin scan runs this module without
# entering it in sys.modules, and dataclasses cannot resolve string annotations then.
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Optional

from hydra.core.config_store import ConfigStore
from hydra.core.plugins import Plugins
from hydra.plugins.sweeper import Sweeper
from omegaconf import DictConfig, OmegaConf


@dataclass
class TunefulSweeperConf:
    """``hydra.sweeper``'s options (see ``tuneful.integrations.hydra.SWEEPER_OPTIONS``)."""

    _target_: str = "hydra_plugins.tuneful_sweeper.tuneful_sweeper.TunefulSweeper"
    params: Optional[dict[str, Any]] = None  # noqa: UP045 - OmegaConf reads Optional, not X | None
    n_trials: int = 20
    n_jobs: int = 1
    direction: Any = None  # minimize
    directions: Any = None
    storage: Optional[str] = None  # noqa: UP045
    study_name: Optional[str] = None  # noqa: UP045
    optimizer: Any = None
    scheduler: Any = None
    seed: Optional[int] = None  # noqa: UP045
    fail_fast: Any = True


ConfigStore.instance().store(
    group="hydra/sweeper", name="tuneful", node=TunefulSweeperConf, provider="tuneful"
)


def _plain(value: Any) -> Any:
    if isinstance(value, DictConfig) or OmegaConf.is_list(value):
        return OmegaConf.to_container(value, resolve=True)
    return value


class TunefulSweeper(Sweeper):
    """Tunes the task function with a tuneful study: ``--multirun hydra/sweeper=tuneful``."""

    def __init__(self, **options: Any) -> None:
        from tuneful.integrations.hydra import TunefulSweep

        self.sweep_logic = TunefulSweep(**{key: _plain(value) for key, value in options.items()})
        self.config: DictConfig | None = None
        self.launcher: Any = None
        self.hydra_context: Any = None

    def setup(self, *, hydra_context: Any, task_function: Any, config: DictConfig) -> None:
        self.config = config
        self.hydra_context = hydra_context
        self.launcher = Plugins.instance().instantiate_launcher(
            config=config, hydra_context=hydra_context, task_function=task_function
        )

    def sweep(self, arguments: Sequence[str]) -> Any:
        return self.sweep_logic.run(
            arguments,
            launcher=self.launcher,
            config=self.config,
            validate=self.validate_batch_is_legal,
        )
