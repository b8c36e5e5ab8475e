"""Chat platform adapters, found through the `wegweiser.adapters` entry-point group.

A new platform is one new module with a class that has `name` and `async run()`, plus one
line in pyproject.toml under [project.entry-points."wegweiser.adapters"]. Nothing in the core
imports an adapter.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any, Protocol

GROUP = "wegweiser.adapters"


class SettingsError(ValueError):
    """An adapter's setting is missing or wrong; the message says which and how to fix it."""


class Adapter(Protocol):
    """Constructed as `Adapter(service, data_dir=..., env=...)`; `data_dir` is where it may
    keep state of its own (the Matrix device and keys, for example), `env` the settings
    (bot/config.py: the environment over the config file). A `check_settings(env)`
    staticmethod, if there is one, raises SettingsError before anything starts."""

    name: str

    async def run(self) -> None:
        """Serve until the platform connection ends or the task is cancelled."""

    # Optional: `stop()`, called on SIGTERM: take no new events, let the turns in flight
    # finish (Service.settle), then return from `run`. An adapter with `stop()` is a daemon:
    # bot/runner.py restarts it when `run` fails or returns on its own.


def available() -> dict[str, Any]:
    """Adapter name -> entry point (not yet imported: platform libraries load on demand)."""
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def load(name: str) -> type:
    found = available()
    if name not in found:
        known = ", ".join(sorted(found)) or "none"
        raise LookupError(f"no chat adapter called {name!r} (installed: {known})")
    return found[name].load()
