"""Hydra's entry to the tuneful sweeper (``hydra/sweeper=tuneful``); the logic lives in
:mod:`tuneful.integrations.hydra`."""
