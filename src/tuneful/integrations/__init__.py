"""Integrations with the frameworks people train with.

Each lives in its own module and imports its framework only when used (a missing framework
raises :class:`~tuneful.errors.MissingDependencyError` naming the extra to install):

- :mod:`tuneful.integrations.sklearn`: ``TunefulSearchCV`` (``tuneful[sklearn]``).
"""
