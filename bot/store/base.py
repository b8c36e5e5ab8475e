"""The store protocol: where conversations, their inbox and outbox, and statistics live.

One contract (tests/test_store_contract.py) runs against every backend, so the service can
rely on exactly these promises:

* `receive` keeps an inbound event durably before the platform is told it arrived, and
  refuses an event that is already queued or was handled before (platforms redeliver).
* `commit` is one atomic step: the new state, the event moved from the inbox to the handled
  ids, and the replies put in the outbox. After a crash either all of it happened or none.
* replies leave the outbox one by one, each only after it was sent (`delivered`), so a
  restart sends what was missing and nothing that was sent already.
* `commit` with state None deletes the conversation and everything stored about it; once its
  last reply is delivered, nothing about the person is left.
* `lock` gives one worker at a time a conversation: in this process for memory and SQLite,
  across processes (with an expiry, so a dead worker blocks nobody for long) for Redis.
* statistics hold kinds, catalogue ids and days, never a conversation id or any text
  (bot/stats/model.py); the secret that makes a day's visitors countable dies with the day.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from bot.messages import ConversationId
from bot.stats.model import DailyCount, StatEvent

JsonState = dict[str, Any]
#: How many recent event ids are remembered per conversation for dedupe.
SEEN_PER_CONVERSATION = 200


class LockLost(RuntimeError):
    """This worker's lock on a conversation expired and another may have taken over: the
    commit was refused so that no turn is taken twice."""


@dataclass(frozen=True)
class Event:
    """An inbound event waiting in a conversation's inbox."""

    id: str
    inbound: JsonState
    received: datetime


class Store(Protocol):
    async def receive(self, conversation: ConversationId, event_id: str, inbound: JsonState,
                      now: datetime) -> bool:
        """Queue an event; False (storing nothing) if it is queued or was handled already."""

    async def pending(self, conversation: ConversationId) -> list[Event]:
        """The queued events of a conversation, oldest first."""

    async def load(self, conversation: ConversationId) -> JsonState | None:
        """The stored state, or None for a new (or forgotten) conversation."""

    async def commit(self, conversation: ConversationId, state: JsonState | None,
                     event_id: str | None, replies: Sequence[JsonState],
                     now: datetime) -> None:
        """Atomically: save `state` (None: delete the state and the handled ids), take the
        event out of the inbox and remember it as handled, append `replies` to the outbox.
        Raises LockLost if the store can tell that this worker no longer holds the lock."""

    async def outbox(self, conversation: ConversationId) -> list[JsonState]:
        """Replies committed but not yet delivered, oldest first."""

    async def delivered(self, conversation: ConversationId) -> None:
        """The oldest outbox reply was sent: drop it."""

    async def waiting(self) -> list[ConversationId]:
        """Conversations with queued events or undelivered replies (after a crash)."""

    def lock(self, conversation: ConversationId) -> AbstractAsyncContextManager[bool]:
        """Try to become the one worker for a conversation, without waiting: the context
        value says whether it worked. Whoever holds the lock handles every queued event."""

    async def forget_idle(self, before: datetime) -> int:
        """Delete every conversation last changed before `before`; return how many."""

    async def record(self, events: Sequence[StatEvent]) -> None:
        """Keep raw statistics events (anonymous by construction: bot/stats/model.py)."""

    async def stat_events(self, first: date, last: date) -> list[StatEvent]:
        """The raw events of the days `first` to `last`, both included."""

    async def forget_visitor(self, day: date, visitor: str) -> None:
        """Delete the raw events of one visitor on one day: "forget" on the day the visitor
        hash can still be linked to the person (afterwards it cannot, and is kept)."""

    async def forget_stat_events(self, before: date) -> int:
        """Delete the raw events of the days before `before`; return how many."""

    async def keep_counts(self, counts: Sequence[DailyCount]) -> None:
        """Keep daily counts for good, replacing those of the same day, kind and labels."""

    async def kept_counts(self, first: date, last: date) -> list[DailyCount]:
        """The kept daily counts of the days `first` to `last`, both included."""

    async def day_key(self, day: date) -> bytes:
        """The secret of `day` for keyed hashes of conversation ids, made on first use and
        the same for every worker; the secrets of earlier days are destroyed."""

    async def ping(self) -> None:
        """Raise if the store cannot be used now (for /health): the Redis server does not
        answer, the SQLite file cannot be read."""

    async def close(self) -> None:
        """Release connections and files."""


class LocalLocks:
    """Try-locks for the backends that live in one process (memory, SQLite): the event loop
    runs one task at a time, so a set of held conversations is the whole lock."""

    def __init__(self) -> None:
        self._held: set[ConversationId] = set()

    def __call__(self, conversation: ConversationId) -> AbstractAsyncContextManager[bool]:
        return self._hold(conversation)

    @asynccontextmanager
    async def _hold(self, conversation: ConversationId) -> AsyncIterator[bool]:
        if conversation in self._held:
            yield False
            return
        self._held.add(conversation)
        try:
            yield True
        finally:
            self._held.discard(conversation)

    def __len__(self) -> int:
        return len(self._held)
