"""An in-memory store: for tests and the console chat, gone when the process ends."""

from __future__ import annotations

import copy
from collections import Counter, OrderedDict
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import date, datetime

from bot.messages import ConversationId
from bot.store.base import SEEN_PER_CONVERSATION, Event, JsonState, LocalLocks


class MemoryStore:
    def __init__(self) -> None:
        self._states: dict[ConversationId, JsonState] = {}
        self._seen: dict[ConversationId, OrderedDict[str, None]] = {}
        self._updated: dict[ConversationId, datetime] = {}
        self._inbox: dict[ConversationId, dict[str, Event]] = {}
        self._outbox: dict[ConversationId, list[JsonState]] = {}
        self._counts: Counter[tuple[str, tuple[str, ...], date]] = Counter()
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

    async def count(self, kind: str, labels: tuple[str, ...], day: date) -> None:
        self._counts[(kind, tuple(labels), day)] += 1

    async def counts(self, kind: str) -> Mapping[tuple[tuple[str, ...], date], int]:
        return {(labels, day): n for (k, labels, day), n in self._counts.items() if k == kind}

    async def close(self) -> None:
        return None
