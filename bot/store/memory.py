"""An in-memory store: for tests and the console chat, gone when the process ends."""

from __future__ import annotations

import copy
from collections import Counter, OrderedDict
from collections.abc import Mapping
from datetime import date, datetime

from bot.messages import ConversationId
from bot.store.base import SEEN_PER_CONVERSATION, JsonState


class MemoryStore:
    def __init__(self) -> None:
        self._states: dict[ConversationId, JsonState] = {}
        self._seen: dict[ConversationId, OrderedDict[str, None]] = {}
        self._updated: dict[ConversationId, datetime] = {}
        self._counts: Counter[tuple[str, tuple[str, ...], date]] = Counter()

    async def load(self, conversation: ConversationId) -> JsonState | None:
        state = self._states.get(conversation)
        return copy.deepcopy(state) if state is not None else None

    async def seen(self, conversation: ConversationId, event_id: str) -> bool:
        return event_id in self._seen.get(conversation, ())

    async def commit(self, conversation: ConversationId, state: JsonState | None,
                     event_id: str | None, now: datetime) -> None:
        if state is None:
            self._drop(conversation)
            return
        self._states[conversation] = copy.deepcopy(state)
        self._updated[conversation] = now
        if event_id is not None:
            seen = self._seen.setdefault(conversation, OrderedDict())
            seen[event_id] = None
            while len(seen) > SEEN_PER_CONVERSATION:
                seen.popitem(last=False)

    def _drop(self, conversation: ConversationId) -> None:
        self._states.pop(conversation, None)
        self._seen.pop(conversation, None)
        self._updated.pop(conversation, None)

    async def forget_idle(self, before: datetime) -> int:
        idle = [c for c, updated in self._updated.items() if updated < before]
        for conversation in idle:
            self._drop(conversation)
        return len(idle)

    async def count(self, kind: str, labels: tuple[str, ...], day: date) -> None:
        self._counts[(kind, tuple(labels), day)] += 1

    async def counts(self, kind: str) -> Mapping[tuple[tuple[str, ...], date], int]:
        return {(labels, day): n for (k, labels, day), n in self._counts.items() if k == kind}

    async def close(self) -> None:
        return None
