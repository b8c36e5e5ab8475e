"""From signals to stored events, and from events to the daily counts a report is built on.

`visitor` is the only place a conversation id touches the statistics: a keyed hash under the
day's secret (Store.day_key), which the store destroys once the day is over. Until then one
person's events of that day count as one visitor; afterwards nobody can tell whose they were.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from bot.messages import ConversationId, Signal
from bot.stats.model import KINDS, DailyCount, StatEvent
from bot.store.base import Store

#: Raw events are rolled up into daily counts and deleted after this many days.
KEEP_EVENTS_DAYS = 90


def visitor(key: bytes, conversation: ConversationId) -> str:
    return hmac.new(key, conversation.encode(), hashlib.sha256).hexdigest()[:16]


def channel_of(conversation: ConversationId) -> str:
    return conversation.split(":", 1)[0]


def events_of(signals: Sequence[Signal], conversation: ConversationId, key: bytes,
              day: date) -> list[StatEvent]:
    """Stored events for a turn's signals: labels in the order of KINDS, the channel added,
    anything else dropped, so that nothing outside the schema is ever stored."""
    who = visitor(key, conversation)
    found = []
    for signal in signals:
        names = KINDS.get(signal.kind)
        if names is None:
            continue
        given = {**dict(signal.labels), "channel": channel_of(conversation)}
        found.append(StatEvent(day, signal.kind, who,
                               tuple((name, str(given.get(name, ""))) for name in names)))
    return found


def daily_counts(events: Iterable[StatEvent]) -> list[DailyCount]:
    grouped: dict[tuple[date, str, tuple[tuple[str, str], ...]], tuple[int, set[str]]] = {}
    for event in events:
        n, visitors = grouped.get((event.day, event.kind, event.labels), (0, set()))
        visitors.add(event.visitor)
        grouped[(event.day, event.kind, event.labels)] = (n + 1, visitors)
    return [DailyCount(day, kind, labels, n, len(visitors))
            for (day, kind, labels), (n, visitors) in sorted(grouped.items())]


async def counts_between(store: Store, first: date, last: date) -> list[DailyCount]:
    """Daily counts from the raw events where they are still kept, else the rolled-up ones."""
    raw = daily_counts(await store.stat_events(first, last))
    raw_days = {count.day for count in raw}
    kept = [c for c in await store.kept_counts(first, last) if c.day not in raw_days]
    return sorted([*raw, *kept], key=lambda c: (c.day, c.kind, c.labels))


async def roll_up(store: Store, before: date) -> int:
    """Keep the daily counts of the days before `before`, then delete their raw events.
    Safe to repeat after a crash: kept counts are replaced, not added to."""
    events = await store.stat_events(date.min, before - timedelta(days=1))
    await store.keep_counts(daily_counts(events))
    return await store.forget_stat_events(before)
