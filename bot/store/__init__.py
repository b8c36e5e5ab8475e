"""Stores for conversation state: memory (tests, console) and SQLite (the embedded default)."""

from pathlib import Path

from bot.store.base import JsonState, Store
from bot.store.memory import MemoryStore
from bot.store.sqlite import SqliteStore

SQLITE_FILE = "wegweiser.sqlite3"


def open_store(data_dir: Path | None) -> Store:
    """SQLite in `data_dir` when one is given, else memory."""
    return SqliteStore(data_dir / SQLITE_FILE) if data_dir else MemoryStore()


__all__ = ["JsonState", "MemoryStore", "SqliteStore", "Store", "open_store"]
