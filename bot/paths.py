"""Where the bundled catalogue, the translations and the data directory are."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _bundled(name: str) -> Path:
    """content/ or locales/: next to the package in a checkout, inside it when installed."""
    checkout = _PACKAGE.parent / name
    return checkout if checkout.is_dir() else _PACKAGE / "_bundled" / name


def default_content(env: Mapping[str, str] = os.environ) -> Path:
    return Path(env.get("WEGWEISER_CONTENT") or _bundled("content"))


def default_locales(env: Mapping[str, str] = os.environ) -> Path:
    return Path(env.get("WEGWEISER_LOCALES") or _bundled("locales"))


def default_data_dir(env: Mapping[str, str] = os.environ) -> Path:
    """WEGWEISER_DATA_DIR, else $XDG_DATA_HOME/wegweiser, else ~/.local/share/wegweiser."""
    if env.get("WEGWEISER_DATA_DIR"):
        return Path(env["WEGWEISER_DATA_DIR"])
    base = env.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "wegweiser"


def default_cache_dir(env: Mapping[str, str] = os.environ) -> Path:
    """WEGWEISER_CACHE_DIR, else $XDG_CACHE_HOME/wegweiser, else ~/.cache/wegweiser."""
    if env.get("WEGWEISER_CACHE_DIR"):
        return Path(env["WEGWEISER_CACHE_DIR"])
    base = env.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "wegweiser"
