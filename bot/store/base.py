"""The store protocol: where conversations, seen event ids and anonymous counters live.

One contract (tests/test_store_contract.py) runs against every backend, so the service can
rely on exactly these promises:
* `commit` saves a conversation's new state and marks the event seen in one step: after a
  crash either both happened or neither did, so a redelivered event is answered once.
* `commit` with state None deletes the conversation and everything stored about it.
* counters hold a kind, a few labels and a day: never a conversation id or any text.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Protocol

from bot.messages import ConversationId

JsonState = dict[str, Any]
#: How many recent event ids are remembered per conversation for dedupe.
SEEN_PER_CONVERSATION = 200


class Store(Protocol):
    async def load(self, conversation: ConversationId) -> JsonState | None:
        """The stored state, or None for a new (or forgotten) conversation."""

    async def seen(self, conversation: ConversationId, event_id: str) -> bool:
        """Has this event of this conversation been handled already?"""

    async def commit(self, conversation: ConversationId, state: JsonState | None,
                     event_id: str | None, now: datetime) -> None:
        """Save `state` (None: delete everything about the conversation), mark event seen."""

    async def forget_idle(self, before: datetime) -> int:
        """Delete every conversation last changed before `before`; return how many."""

    async def count(self, kind: str, labels: tuple[str, ...], day: date) -> None:
        """Add one to an anonymous counter."""

    async def counts(self, kind: str) -> Mapping[tuple[tuple[str, ...], date], int]:
        """All counters of a kind, by (labels, day)."""

    async def close(self) -> None:
        """Release connections and files."""
