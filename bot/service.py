"""The async glue between adapters and the engine: the only place conversations change.

Every inbound event first goes into the person's inbox in the store, before the platform is
told it arrived; from there one worker at a time (whoever holds the person's lock, in this
process or another) takes the events in order: load the state, run the pure engine, and
commit the new state, the event as handled and the replies (into the outbox) in one atomic
step. Only then are the replies sent, each one taken out of the outbox once it went out.

So a crash at any point loses nothing and answers nothing twice: an event not yet committed
is still in the inbox, a reply not yet sent is still in the outbox, and a worker that comes
back (or another one, once the dead one's lock expired) finishes the work (`recover`).
Platforms redeliver after timeouts and restarts; the store refuses an event it has seen.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from bot.engine import Engine, State
from bot.messages import (ConversationId, Inbound, Reply, Signal, inbound_from_json,
                          inbound_to_json, replies_of, reply_from_json, reply_to_json)
from bot.stats.collect import KEEP_EVENTS_DAYS, channel_of, events_of, roll_up, visitor
from bot.store import Store
from bot.store.base import Event, LockLost

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
#: Sends one reply to the person. Raises if it may be retried later (the reply stays in the
#: outbox); returns normally once the reply is sent or can never be (the person blocked the bot).
Deliver = Callable[[Reply], Awaitable[None]]
DeliverFor = Callable[[ConversationId], Deliver | None]
#: An event handled this much later than it arrived (the bot was down) gets an apology first.
LATE_AFTER = timedelta(minutes=10)


def utc_now() -> datetime:
    return datetime.now(UTC)


class Observer(Protocol):
    """Told about every turn, for the operators' metrics (bot/metrics.py): the channel
    ("telegram"), how long the turn took until its replies were sent, whether the engine
    handled it, and its signals. Never the conversation id or a text."""

    def turn_done(self, channel: str, seconds: float, ok: bool,
                  signals: Sequence[Signal]) -> None: ...


class Service:
    """Handles the events of each conversation in order, once. `engine` may be swapped live."""

    def __init__(self, engine: Engine, store: Store, clock: Clock = utc_now,
                 observer: Observer | None = None):
        self.engine = engine
        self.store = store
        self.clock = clock
        self.observer = observer
        self._busy = 0
        self._key: tuple[date, bytes] | None = None
        self._quiet = asyncio.Event()
        self._quiet.set()

    async def handle(self, conversation: ConversationId, inbound: Inbound,
                     event_id: str | None = None, deliver: Deliver | None = None) -> list[Reply]:
        """`receive` the event, then `drain` the person's inbox. Returns the replies this call
        handled, or none if the event was handled before or another worker will answer it."""
        with self._working():
            if not await self.receive(conversation, inbound, event_id):
                return []
            return await self.drain(conversation, deliver)

    async def receive(self, conversation: ConversationId, inbound: Inbound,
                      event_id: str | None = None) -> bool:
        """Put the event in the person's inbox; False if it was handled or queued before.

        Adapters call this before they acknowledge the event to the platform: once it returns
        True, a crash can no longer lose the message.
        """
        if await self.store.receive(conversation, event_id or uuid.uuid4().hex,
                                    inbound_to_json(inbound), self.clock()):
            return True
        log.info("skipping an event that was already handled")
        return False

    async def drain(self, conversation: ConversationId,
                    deliver: Deliver | None = None) -> list[Reply]:
        """Take the person's queued events in order and send the replies, unless another
        worker holds the person's lock (it takes every queued event, so nothing waits).

        `deliver` sends a reply to this conversation; without it (the console, tests) replies
        count as sent once returned. Returns the replies this call handled.
        """
        handled: list[Reply] = []
        with self._working():
            while True:
                async with self.store.lock(conversation) as mine:
                    if not mine:
                        return handled
                    try:
                        handled += await self._flush(conversation, deliver)  # left by a crash
                        for event in await self.store.pending(conversation):
                            handled += await self._turn(conversation, event, deliver)
                    except LockLost:
                        log.warning("a conversation's lock expired during a turn; another "
                                    "worker takes over")
                        return handled
                # events queued meanwhile, by this worker or by one that found the lock taken
                if not await self.store.pending(conversation):
                    return handled

    async def recover(self, deliver_for: DeliverFor) -> int:
        """Finish the work a crash or a dead worker left behind: queued events and unsent
        replies. `deliver_for` gives the sender for a conversation, or None for one that
        belongs to another platform. Returns how many conversations were looked at."""
        done = 0
        with self._working():
            for conversation in await self.store.waiting():
                deliver = deliver_for(conversation)
                if deliver is None:
                    continue
                try:
                    await self.drain(conversation, deliver)
                except Exception as err:  # noqa: BLE001  the next round tries again
                    log.warning("could not finish a conversation's queued work (%s); will "
                                "retry", type(err).__name__)
                done += 1
        return done

    async def keep_recovering(self, deliver_for: DeliverFor, every: float = 5.0) -> None:
        """`recover` now and then every `every` seconds, until cancelled."""
        while True:
            await self.recover(deliver_for)
            await asyncio.sleep(every)

    async def settle(self) -> None:
        """Wait until no turn is in progress: for a graceful shutdown."""
        await self._quiet.wait()

    @contextmanager
    def _working(self) -> Iterator[None]:
        self._busy += 1
        self._quiet.clear()
        try:
            yield
        finally:
            self._busy -= 1
            if not self._busy:
                self._quiet.set()

    async def _turn(self, conversation: ConversationId, event: Event,
                    deliver: Deliver | None) -> list[Reply]:
        started = time.perf_counter()
        stored = await self.store.load(conversation)
        state = State.from_json(stored) if stored is not None else None
        now = self.clock()
        inbound = inbound_from_json(event.inbound)
        if not inbound.late and now - event.received > LATE_AFTER:
            inbound = Inbound(inbound.text, inbound.choice, inbound.locale_hint, inbound.start,
                              late=True)
        engine = self.engine  # one catalogue for the whole turn, even during a reload
        try:
            new_state, outputs = engine.step(state, inbound, now)
        except Exception as err:  # noqa: BLE001  a bug must not block the person's inbox
            log.error("the engine failed on an event (%s); it is dropped", type(err).__name__)
            await self.store.commit(conversation, stored, event.id, [], now)
            if self.observer is not None:
                self.observer.turn_done(channel_of(conversation),
                                        time.perf_counter() - started, False, [])
            return []
        replies = replies_of(outputs)
        await self.store.commit(conversation, new_state.to_json() if new_state else None,
                                event.id, [reply_to_json(r) for r in replies], now)
        signals = [item for item in outputs if isinstance(item, Signal)]
        if signals or new_state is None:  # after the commit: a crash may lose a count only
            day = now.date()
            key = await self._day_key(day)
            if new_state is None:  # "forget": today's events could still be linked to them
                await self.store.forget_visitor(day, visitor(key, conversation))
            else:
                await self.store.record(events_of(signals, conversation, key, day))
        sent = await self._send(conversation, replies, deliver)
        if self.observer is not None:
            self.observer.turn_done(channel_of(conversation), time.perf_counter() - started,
                                    True, signals)
        return sent

    async def _day_key(self, day: date) -> bytes:
        """The store's secret of the day, asked for once a day rather than on every turn;
        the first turn of the next day replaces it, so yesterday's is not kept."""
        if self._key is None or self._key[0] != day:
            self._key = (day, await self.store.day_key(day))
        return self._key[1]

    async def _flush(self, conversation: ConversationId, deliver: Deliver | None) -> list[Reply]:
        """Send what an earlier worker committed but did not get out."""
        left = await self.store.outbox(conversation)
        return await self._send(conversation, [reply_from_json(data) for data in left], deliver)

    async def _send(self, conversation: ConversationId, replies: list[Reply],
                    deliver: Deliver | None) -> list[Reply]:
        """Send the outbox in order (`replies` is what it holds), dropping each reply only
        once it went out."""
        for reply in replies:
            if deliver is not None:
                await deliver(reply)
            await self.store.delivered(conversation)
        return replies

    async def resume(self, conversation: ConversationId,
                     locale_hint: str | None = None) -> list[Reply]:
        """Show where a conversation stands (after a restart); greet a new one."""
        stored = await self.store.load(conversation)
        if stored is None:
            return await self.handle(conversation, Inbound(locale_hint=locale_hint))
        outputs = self.engine.resume(State.from_json(stored), self.clock())
        return replies_of(outputs)

    async def keep_forgetting(self, retention: timedelta, every: float = 3600.0,
                              events_retention: timedelta = timedelta(days=KEEP_EVENTS_DAYS)
                              ) -> None:
        """Delete conversations idle for longer than `retention`, and roll statistics
        events older than `events_retention` up into daily counts, now and then every `every`
        seconds, until cancelled. Nobody's answers are kept longer than needed."""
        while True:
            now = self.clock()
            forgotten = await self.store.forget_idle(now - retention)
            if forgotten:
                log.info("forgot %d conversation(s) idle for over %d days", forgotten,
                         retention.days)
            rolled = await roll_up(self.store, (now - events_retention).date())
            if rolled:
                log.info("rolled %d statistics event(s) up into daily counts", rolled)
            await asyncio.sleep(every)

