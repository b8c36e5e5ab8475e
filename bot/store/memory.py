"""An in-memory store: for tests and the console chat, gone when the process ends."""

from __future__ import annotations

import copy
import secrets
from collections import OrderedDict
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import date, datetime

from bot.messages import ConversationId
from bot.stats.model import DailyCount, StatEvent
from bot.store.base import SEEN_PER_CONVERSATION, Event, JsonState, LocalLocks


class MemoryStore:
    def __init__(self) -> None:
        self._states: dict[ConversationId, JsonState] = {}
        self._seen: dict[ConversationId, OrderedDict[str, None]] = {}
        self._updated: dict[ConversationId, datetime] = {}
        self._inbox: dict[ConversationId, dict[str, Event]] = {}
        self._outbox: dict[ConversationId, list[JsonState]] = {}
        self._events: list[StatEvent] = []
        self._kept: dict[tuple[date, str, tuple[tuple[str, str], ...]], DailyCount] = {}
        self._keys: dict[date, bytes] = {}
        self._locks = LocalLocks()

    async def receive(self, conversation: ConversationId, event_id: str, inbound: JsonState,
                      now: datetime) -> bool:
        inbox = self._inbox.setdefault(conversation, {})
        if event_id in inbox or event_id in self._seen.get(conversation, ()):
            return False
        inbox[event_id] = Event(event_id, copy.deepcopy(inbound), now)
        return True

    async def pending(self, conversation: ConversationId) -> list[Event]:
        return list(self._inbox.get(conversation, {}).values())

    async def load(self, conversation: ConversationId) -> JsonState | None:
        state = self._states.get(conversation)
        return copy.deepcopy(state) if state is not None else None

    async def commit(self, conversation: ConversationId, state: JsonState | None,
                     event_id: str | None, replies: Sequence[JsonState],
                     now: datetime) -> None:
        if state is None:
            self._states.pop(conversation, None)
            self._seen.pop(conversation, None)
            self._updated.pop(conversation, None)
        else:
            self._states[conversation] = copy.deepcopy(state)
            self._updated[conversation] = now
        if event_id is not None:
            self._inbox.get(conversation, {}).pop(event_id, None)
            if state is not None:
                seen = self._seen.setdefault(conversation, OrderedDict())
                seen[event_id] = None
                while len(seen) > SEEN_PER_CONVERSATION:
                    seen.popitem(last=False)
        if replies:
            self._outbox.setdefault(conversation, []).extend(copy.deepcopy(list(replies)))
        self._tidy(conversation)

    async def outbox(self, conversation: ConversationId) -> list[JsonState]:
        return copy.deepcopy(self._outbox.get(conversation, []))

    async def delivered(self, conversation: ConversationId) -> None:
        if self._outbox.get(conversation):
            self._outbox[conversation].pop(0)
        self._tidy(conversation)

    def _tidy(self, conversation: ConversationId) -> None:
        """Drop empty boxes, so that a forgotten person leaves no key behind."""
        for boxes in (self._inbox, self._outbox):
            if not boxes.get(conversation, True):
                del boxes[conversation]

    async def waiting(self) -> list[ConversationId]:
        return sorted(self._inbox.keys() | self._outbox.keys())

    def lock(self, conversation: ConversationId) -> AbstractAsyncContextManager[bool]:
        return self._locks(conversation)

    async def forget_idle(self, before: datetime) -> int:
        idle = [c for c, updated in self._updated.items()
                if updated < before and not self._inbox.get(c)]
        for conversation in idle:
            for table in (self._states, self._seen, self._updated, self._inbox, self._outbox):
                table.pop(conversation, None)
        return len(idle)

    async def record(self, events: Sequence[StatEvent]) -> None:
        self._events.extend(events)

    async def stat_events(self, first: date, last: date) -> list[StatEvent]:
        return [e for e in self._events if first <= e.day <= last]

    async def forget_visitor(self, day: date, visitor: str) -> None:
        self._events = [e for e in self._events if (e.day, e.visitor) != (day, visitor)]

    async def forget_stat_events(self, before: date) -> int:
        kept = [e for e in self._events if e.day >= before]
        forgotten, self._events = len(self._events) - len(kept), kept
        return forgotten

    async def keep_counts(self, counts: Sequence[DailyCount]) -> None:
        for count in counts:
            self._kept[(count.day, count.kind, count.labels)] = count

    async def kept_counts(self, first: date, last: date) -> list[DailyCount]:
        return [c for c in self._kept.values() if first <= c.day <= last]

    async def day_key(self, day: date) -> bytes:
        for earlier in [d for d in self._keys if d < day]:
            del self._keys[earlier]
        return self._keys.setdefault(day, secrets.token_bytes(32))

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None
