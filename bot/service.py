"""The async glue between adapters and the engine: the only place conversations change.

For each inbound event: take the person's lock (their messages are handled in order, one at a
time, even when a platform delivers them concurrently), skip the event if it was handled
before (platforms redeliver after timeouts and restarts), load state, run the pure engine,
commit the new state together with the event id, record anonymous signals, and return the
replies for the adapter to send.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from bot.engine import Engine, State
from bot.messages import ConversationId, Inbound, Reply, UnmetNeed
from bot.store import Store

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Deliver = Callable[[list[Reply]], Awaitable[None]]


def utc_now() -> datetime:
    return datetime.now(UTC)


class _Locks:
    """One asyncio.Lock per conversation, dropped again when nobody waits for it."""

    def __init__(self) -> None:
        self._locks: dict[ConversationId, tuple[asyncio.Lock, int]] = {}

    def hold(self, conversation: ConversationId) -> _Held:
        return _Held(self, conversation)

    def _acquire_ref(self, conversation: ConversationId) -> asyncio.Lock:
        lock, users = self._locks.get(conversation, (asyncio.Lock(), 0))
        self._locks[conversation] = (lock, users + 1)
        return lock

    def _release_ref(self, conversation: ConversationId) -> None:
        lock, users = self._locks[conversation]
        if users <= 1:
            del self._locks[conversation]
        else:
            self._locks[conversation] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


class _Held:
    def __init__(self, locks: _Locks, conversation: ConversationId):
        self._locks, self._conversation = locks, conversation

    async def __aenter__(self) -> None:
        self._lock = self._locks._acquire_ref(self._conversation)
        try:
            await self._lock.acquire()
        except BaseException:
            self._locks._release_ref(self._conversation)
            raise

    async def __aexit__(self, *exc: object) -> None:
        self._lock.release()
        self._locks._release_ref(self._conversation)


class Service:
    """Handles one inbound event at a time per conversation. `engine` may be swapped live."""

    def __init__(self, engine: Engine, store: Store, clock: Clock = utc_now):
        self.engine = engine
        self.store = store
        self.clock = clock
        self._locks = _Locks()

    async def handle(self, conversation: ConversationId, inbound: Inbound,
                     event_id: str | None = None, deliver: Deliver | None = None) -> list[Reply]:
        """The replies to send for this event; empty if the event was handled before.

        With `deliver`, the replies are also sent through it while the person's lock is still
        held, so that the answers to two quick messages never interleave in the chat.
        """
        async with self._locks.hold(conversation):
            if event_id is not None and await self.store.seen(conversation, event_id):
                log.info("skipping an event that was already handled")
                return []
            stored = await self.store.load(conversation)
            state = State.from_json(stored) if stored is not None else None
            now = self.clock()
            engine = self.engine  # one catalogue for the whole turn, even during a reload
            new_state, outputs = engine.step(state, inbound, now)
            await self.store.commit(conversation, new_state.to_json() if new_state else None,
                                    event_id, now)
            replies: list[Reply] = []
            for item in outputs:
                if isinstance(item, UnmetNeed):
                    await self.store.count("unmet", (item.topic, item.lang, item.step),
                                           now.date())
                else:
                    replies.append(item)
            if deliver is not None and replies:
                await deliver(replies)
            return replies

    async def resume(self, conversation: ConversationId,
                     locale_hint: str | None = None) -> list[Reply]:
        """Show where a conversation stands (after a restart); greet a new one."""
        async with self._locks.hold(conversation):
            stored = await self.store.load(conversation)
        if stored is None:
            return await self.handle(conversation, Inbound(locale_hint=locale_hint))
        outputs = self.engine.resume(State.from_json(stored), self.clock())
        return [o for o in outputs if not isinstance(o, UnmetNeed)]

    async def keep_forgetting(self, retention: timedelta, every: float = 3600.0) -> None:
        """Delete conversations idle for longer than `retention`, now and then every `every`
        seconds, until cancelled. Nobody's answers are kept longer than needed."""
        while True:
            forgotten = await self.store.forget_idle(self.clock() - retention)
            if forgotten:
                log.info("forgot %d conversation(s) idle for over %d days", forgotten,
                         retention.days)
            await asyncio.sleep(every)

    @property
    def active_locks(self) -> int:
        return len(self._locks)
