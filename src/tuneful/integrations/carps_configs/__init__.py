"""carps optimizer configs for tuneful: add ``hydra.searchpath=[pkg://tuneful.integrations.carps_configs]``
to ``python -m carps.run`` and pick one with ``+optimizer/tuneful=<name>`` (see
docs/integrations/carps.md)."""
