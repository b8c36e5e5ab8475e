"""Stores for conversation state: memory (tests, console), SQLite (the embedded default, one
process) and Redis (several worker processes sharing the conversations)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from bot.store.base import Event, JsonState, LockLost, Store
from bot.store.memory import MemoryStore
from bot.store.sqlite import SqliteStore

SQLITE_FILE = "wegweiser.sqlite3"


def open_store(data_dir: Path | None, env: Mapping[str, str] = os.environ) -> Store:
    """The store WEGWEISER_STORE names: `redis://…` (or `rediss://…`), `memory`, or unset for
    SQLite in `data_dir` (memory without one)."""
    url = env.get("WEGWEISER_STORE", "").strip()
    if url.startswith(("redis://", "rediss://", "unix://")):
        from bot.store.redis import RedisStore  # redis-py loads only when asked for

        return RedisStore.from_url(url)
    if url == "memory" or (not url and data_dir is None):
        return MemoryStore()
    if url:
        raise ValueError("WEGWEISER_STORE must be redis://host:port/db, rediss://…, or memory "
                         "(unset: SQLite in the data directory)")
    assert data_dir is not None
    return SqliteStore(data_dir / SQLITE_FILE)


__all__ = ["Event", "JsonState", "LockLost", "MemoryStore", "SqliteStore", "Store",
           "open_store"]
