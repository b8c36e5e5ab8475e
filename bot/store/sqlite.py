"""The embedded default store: one SQLite file in the data directory, for one process.

Every call runs on the event loop's thread, on one connection. That blocks, but briefly: in
WAL mode without an fsync per commit, each of these statements takes tens of microseconds,
several times less than a hop to a worker thread and back (benchmarks/workers.py measured
both). The one bulk operation, deleting idle conversations, works in small batches and lets
other turns run in between.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import sqlite3
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

from bot.messages import ConversationId
from bot.stats.model import DailyCount, StatEvent
from bot.store.base import SEEN_PER_CONVERSATION, Event, JsonState, LocalLocks

T = TypeVar("T")
#: Idle conversations deleted per transaction: a few milliseconds of work at a time.
FORGET_BATCH = 200
log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY, state TEXT NOT NULL, updated TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS seen (
    conversation TEXT NOT NULL, event_id TEXT NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (conversation, event_id));
CREATE TABLE IF NOT EXISTS inbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, conversation TEXT NOT NULL, event_id TEXT NOT NULL,
    inbound TEXT NOT NULL, received TEXT NOT NULL, UNIQUE (conversation, event_id));
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, conversation TEXT NOT NULL, reply TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS outbox_by_conversation ON outbox (conversation, seq);
CREATE INDEX IF NOT EXISTS conversations_by_age ON conversations (updated);
CREATE TABLE IF NOT EXISTS stat_events (
    day TEXT NOT NULL, kind TEXT NOT NULL, visitor TEXT NOT NULL, labels TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS stat_events_by_day ON stat_events (day);
CREATE TABLE IF NOT EXISTS kept_counts (
    day TEXT NOT NULL, kind TEXT NOT NULL, labels TEXT NOT NULL, events INTEGER NOT NULL,
    visitors INTEGER NOT NULL, PRIMARY KEY (day, kind, labels));
CREATE TABLE IF NOT EXISTS day_keys (day TEXT PRIMARY KEY, key BLOB NOT NULL);
"""


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _labels(text: str) -> tuple[tuple[str, str], ...]:
    return tuple((str(name), str(value)) for name, value in json.loads(text))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _open(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise sqlite3.DatabaseError("integrity check failed")
        db.executescript(_SCHEMA)
    except sqlite3.DatabaseError:
        db.close()
        raise
    return db


class SqliteStore:
    """Conversations in one SQLite file. A file that is truncated or corrupt (a full disk, a
    crash during a copy) is moved aside with a clear log line and a fresh one is started:
    the bot keeps serving instead of refusing to start."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = _open(self.path)
        except sqlite3.DatabaseError as err:
            aside = self.path.with_name(
                f"{self.path.name}.corrupt-{datetime.now(UTC):%Y%m%dT%H%M%S}")
            self.path.rename(aside)
            for suffix in ("-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            log.error("the conversation store %s was unreadable (%s); moved it to %s and "
                      "started a new one", self.path.name, err, aside.name)
            self._db = _open(self.path)
        self._locks = LocalLocks()

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        return work(self._db)

    async def _write(self, sql: str, params: Sequence[Any], many: bool = False) -> int:
        """One statement (or one per row of `params` with `many`) in its own transaction;
        returns how many rows it changed."""
        def work(db: sqlite3.Connection) -> int:
            with db:
                return (db.executemany(sql, params) if many else db.execute(sql, params)).rowcount
        return await self._run(work)

    async def receive(self, conversation: ConversationId, event_id: str, inbound: JsonState,
                      now: datetime) -> bool:
        def work(db: sqlite3.Connection) -> bool:
            with db:
                db.execute("BEGIN IMMEDIATE")
                if db.execute("SELECT 1 FROM seen WHERE conversation = ? AND event_id = ?",
                              (conversation, event_id)).fetchone():
                    return False
                return db.execute(
                    "INSERT OR IGNORE INTO inbox (conversation, event_id, inbound, received) "
                    "VALUES (?, ?, ?, ?)",
                    (conversation, event_id, _dumps(inbound), _iso(now))).rowcount == 1
        return await self._run(work)

    async def pending(self, conversation: ConversationId) -> list[Event]:
        rows = await self._run(lambda db: db.execute(
            "SELECT event_id, inbound, received FROM inbox WHERE conversation = ? "
            "ORDER BY seq", (conversation,)).fetchall())
        return [Event(event_id, json.loads(inbound), datetime.fromisoformat(received))
                for event_id, inbound, received in rows]

    async def load(self, conversation: ConversationId) -> JsonState | None:
        row = await self._run(lambda db: db.execute(
            "SELECT state FROM conversations WHERE id = ?", (conversation,)).fetchone())
        return json.loads(row[0]) if row else None

    async def commit(self, conversation: ConversationId, state: JsonState | None,
                     event_id: str | None, replies: Sequence[JsonState],
                     now: datetime) -> None:
        def work(db: sqlite3.Connection) -> None:
            with db:  # one transaction: state, event and replies together, or none of them
                db.execute("BEGIN IMMEDIATE")
                if event_id is not None:
                    db.execute("DELETE FROM inbox WHERE conversation = ? AND event_id = ?",
                               (conversation, event_id))
                db.executemany("INSERT INTO outbox (conversation, reply) VALUES (?, ?)",
                               [(conversation, _dumps(reply)) for reply in replies])
                if state is None:
                    db.execute("DELETE FROM conversations WHERE id = ?", (conversation,))
                    db.execute("DELETE FROM seen WHERE conversation = ?", (conversation,))
                    return
                db.execute(
                    "INSERT INTO conversations (id, state, updated) VALUES (?, ?, ?) "
                    "ON CONFLICT(id) DO UPDATE SET state = excluded.state, "
                    "updated = excluded.updated",
                    (conversation, _dumps(state), _iso(now)))
                if event_id is not None:
                    db.execute(
                        "INSERT OR IGNORE INTO seen (conversation, event_id, seq) VALUES "
                        "(?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM seen "
                        "WHERE conversation = ?))", (conversation, event_id, conversation))
                    db.execute(
                        "DELETE FROM seen WHERE conversation = ? AND seq <= "
                        "(SELECT MAX(seq) FROM seen WHERE conversation = ?) - ?",
                        (conversation, conversation, SEEN_PER_CONVERSATION))
        await self._run(work)

    async def outbox(self, conversation: ConversationId) -> list[JsonState]:
        rows = await self._run(lambda db: db.execute(
            "SELECT reply FROM outbox WHERE conversation = ? ORDER BY seq",
            (conversation,)).fetchall())
        return [json.loads(reply) for reply, in rows]

    async def delivered(self, conversation: ConversationId) -> None:
        await self._run(lambda db: db.execute(
            "DELETE FROM outbox WHERE seq = "
            "(SELECT MIN(seq) FROM outbox WHERE conversation = ?)", (conversation,)))

    async def waiting(self) -> list[ConversationId]:
        rows = await self._run(lambda db: db.execute(
            "SELECT conversation FROM inbox UNION SELECT conversation FROM outbox "
            "ORDER BY 1").fetchall())
        return [ConversationId(conversation) for conversation, in rows]

    def lock(self, conversation: ConversationId) -> AbstractAsyncContextManager[bool]:
        return self._locks(conversation)

    async def forget_idle(self, before: datetime) -> int:
        cutoff = _iso(before)

        def batch(db: sqlite3.Connection) -> int:
            with db:
                db.execute("BEGIN IMMEDIATE")
                db.execute("CREATE TEMP TABLE idle AS SELECT id FROM conversations "
                           "WHERE updated < ? AND id NOT IN (SELECT conversation FROM inbox) "
                           "LIMIT ?", (cutoff, FORGET_BATCH))
                for table in ("seen", "outbox"):
                    db.execute(f"DELETE FROM {table} WHERE conversation IN "  # noqa: S608
                               "(SELECT id FROM idle)")
                forgotten = db.execute(
                    "DELETE FROM conversations WHERE id IN (SELECT id FROM idle)").rowcount
                db.execute("DROP TABLE idle")
                return forgotten

        total = 0
        while forgotten := await self._run(batch):
            total += forgotten
            await asyncio.sleep(0)  # let the turns waiting meanwhile run
        return total

    async def record(self, events: Sequence[StatEvent]) -> None:
        await self._write("INSERT INTO stat_events (day, kind, visitor, labels) "
                          "VALUES (?, ?, ?, ?)",
                          [(e.day.isoformat(), e.kind, e.visitor, _dumps(e.labels))
                           for e in events], many=True)

    async def stat_events(self, first: date, last: date) -> list[StatEvent]:
        rows = await self._run(lambda db: db.execute(
            "SELECT day, kind, visitor, labels FROM stat_events WHERE day BETWEEN ? AND ?",
            (first.isoformat(), last.isoformat())).fetchall())
        return [StatEvent(date.fromisoformat(day), kind, visitor, _labels(labels))
                for day, kind, visitor, labels in rows]

    async def forget_visitor(self, day: date, visitor: str) -> None:
        await self._write("DELETE FROM stat_events WHERE day = ? AND visitor = ?",
                          (day.isoformat(), visitor))

    async def forget_stat_events(self, before: date) -> int:
        return await self._write("DELETE FROM stat_events WHERE day < ?", (before.isoformat(),))

    async def keep_counts(self, counts: Sequence[DailyCount]) -> None:
        await self._write("INSERT OR REPLACE INTO kept_counts (day, kind, labels, events, "
                          "visitors) VALUES (?, ?, ?, ?, ?)",
                          [(c.day.isoformat(), c.kind, _dumps(c.labels), c.events, c.visitors)
                           for c in counts], many=True)

    async def kept_counts(self, first: date, last: date) -> list[DailyCount]:
        rows = await self._run(lambda db: db.execute(
            "SELECT day, kind, labels, events, visitors FROM kept_counts "
            "WHERE day BETWEEN ? AND ?", (first.isoformat(), last.isoformat())).fetchall())
        return [DailyCount(date.fromisoformat(day), kind, _labels(labels), events, visitors)
                for day, kind, labels, events, visitors in rows]

    async def day_key(self, day: date) -> bytes:
        def work(db: sqlite3.Connection) -> bytes:
            with db:
                db.execute("DELETE FROM day_keys WHERE day < ?", (day.isoformat(),))
                db.execute("INSERT OR IGNORE INTO day_keys (day, key) VALUES (?, ?)",
                           (day.isoformat(), secrets.token_bytes(32)))
                return db.execute("SELECT key FROM day_keys WHERE day = ?",
                                  (day.isoformat(),)).fetchone()[0]
        return await self._run(work)

    async def ping(self) -> None:
        await self._run(lambda db: db.execute("SELECT count(*) FROM sqlite_master").fetchone())

    async def close(self) -> None:
        await self._run(lambda db: db.close())
