"""One contract for every store backend (memory, SQLite, a real Redis): what the service
relies on."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from bot.messages import ConversationId
from bot.store import MemoryStore, SqliteStore, Store
from bot.stats.model import DailyCount, StatEvent
from bot.store.base import SEEN_PER_CONVERSATION

from tests.conftest import NOW
from tests.redis_server import redis_dump, redis_url  # noqa: F401  (a fixture)

ALICE = ConversationId("test:alice")
BOB = ConversationId("test:bob")
HELLO = {"text": "hallo 👋 مرحبا"}

#: Everything a backend holds, as text: to prove that a forgotten person left nothing behind.
Dump = Callable[[], Awaitable[str]]


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def backend(request: pytest.FixtureRequest,
                  tmp_path: Path) -> AsyncIterator[tuple[Store, Dump]]:
    if request.param == "memory":
        memory = MemoryStore()

        async def dump() -> str:
            return repr(vars(memory))
        yield memory, dump
        return
    if request.param == "sqlite":
        path = tmp_path / "store.sqlite3"
        sqlite = SqliteStore(path)

        async def dump() -> str:
            with sqlite3.connect(path) as db:
                return "\n".join(db.iterdump())
        yield sqlite, dump
        await sqlite.close()
        return
    from bot.store.redis import RedisStore

    url = request.getfixturevalue("redis_url")
    prefix = f"contract-{uuid.uuid4().hex[:8]}:"  # no glob characters: SCAN MATCH below
    redis = RedisStore.from_url(url, prefix=prefix)

    async def dump() -> str:
        return await redis_dump(url)
    yield redis, dump
    await redis.close()
    client = aioredis.Redis.from_url(url)
    async for key in client.scan_iter(match=f"{prefix}*"):
        await client.delete(key)
    await client.aclose()


@pytest.fixture
def store(backend: tuple[Store, Dump]) -> Store:
    return backend[0]


async def test_new_conversation_has_nothing(store: Store) -> None:
    assert await store.load(ALICE) is None
    assert await store.pending(ALICE) == []
    assert await store.outbox(ALICE) == []
    assert ALICE not in await store.waiting()


async def test_events_queue_in_order_and_once(store: Store) -> None:
    assert await store.receive(ALICE, "e2", HELLO, NOW)
    assert await store.receive(ALICE, "e1", {"choice": "lang:ar"}, NOW + timedelta(seconds=1))
    assert not await store.receive(ALICE, "e2", HELLO, NOW), "a queued event is refused"
    assert await store.receive(BOB, "e2", HELLO, NOW), "event ids are per conversation"
    pending = await store.pending(ALICE)
    assert [e.id for e in pending] == ["e2", "e1"], "arrival order, not id order"
    assert pending[0].inbound == HELLO and pending[0].received == NOW
    assert set(await store.waiting()) == {ALICE, BOB}


async def test_commit_saves_state_takes_the_event_and_queues_replies(store: Store) -> None:
    await store.receive(ALICE, "e1", HELLO, NOW)
    await store.receive(ALICE, "e2", HELLO, NOW)
    replies = [{"kind": "text", "text": "one"}, {"kind": "text", "text": "two"}]
    await store.commit(ALICE, {"v": 1, "step": "topic", "lang": "ar"}, "e1", replies, NOW)
    assert await store.load(ALICE) == {"v": 1, "step": "topic", "lang": "ar"}
    assert [e.id for e in await store.pending(ALICE)] == ["e2"]
    assert not await store.receive(ALICE, "e1", HELLO, NOW), "a handled event is refused"
    assert await store.outbox(ALICE) == replies
    await store.delivered(ALICE)
    assert await store.outbox(ALICE) == replies[1:], "the oldest reply leaves first"
    await store.commit(ALICE, {"v": 1, "step": "results"}, "e2", [], NOW)
    await store.delivered(ALICE)
    assert await store.outbox(ALICE) == [] and await store.pending(ALICE) == []
    assert ALICE not in await store.waiting(), "nothing left to do"
    assert await store.load(BOB) is None


async def test_undelivered_replies_wait_across_commits(store: Store) -> None:
    await store.commit(ALICE, {"v": 1}, None, [{"kind": "text", "text": "a"}], NOW)
    await store.commit(ALICE, {"v": 1}, None, [{"kind": "text", "text": "b"}], NOW)
    assert [r["text"] for r in await store.outbox(ALICE)] == ["a", "b"]
    assert ALICE in await store.waiting(), "a restart finds the replies still to send"


async def test_loaded_state_is_a_copy(store: Store) -> None:
    await store.commit(ALICE, {"v": 1, "answers": [["age", "adult-27"]]}, None, [], NOW)
    loaded = await store.load(ALICE)
    assert loaded is not None
    loaded["answers"].append(["x", "y"])
    assert await store.load(ALICE) == {"v": 1, "answers": [["age", "adult-27"]]}


async def test_unicode_survives(store: Store) -> None:
    state = {"v": 1, "lang": "ar", "note": "العربية \u2068Kita\u2069 👍"}
    reply = {"kind": "text", "text": "مرحبا \u200f 👋", "rtl": True}
    await store.commit(ALICE, state, None, [reply], NOW)
    assert await store.load(ALICE) == state
    assert await store.outbox(ALICE) == [reply]


async def test_forget_leaves_nothing_about_the_person(backend: tuple[Store, Dump]) -> None:
    store, dump = backend
    for i in range(3):
        await store.receive(ALICE, f"e{i}", HELLO, NOW)
        await store.commit(ALICE, {"v": 1, "i": i}, f"e{i}", [{"kind": "text", "text": "x"}],
                           NOW)
        await store.delivered(ALICE)
    await store.commit(BOB, {"v": 1}, "e1", [], NOW)
    await store.receive(ALICE, "forget", {"text": "forget"}, NOW)
    await store.commit(ALICE, None, "forget", [{"kind": "text", "text": "done"}], NOW)
    assert await store.load(ALICE) is None
    assert await store.outbox(ALICE) == [{"kind": "text", "text": "done"}], (
        "the confirmation still goes out")
    await store.delivered(ALICE)
    assert "alice" not in await dump(), "no key, row or member names the person"
    assert await store.load(BOB) == {"v": 1}, "forgetting one person keeps the others"
    assert await store.receive(ALICE, "e1", HELLO, NOW), "a forgotten person starts afresh"


async def test_handled_ids_are_bounded_and_keep_the_newest(store: Store) -> None:
    for i in range(SEEN_PER_CONVERSATION + 20):
        await store.receive(ALICE, f"e{i}", HELLO, NOW)
        await store.commit(ALICE, {"v": 1, "i": i}, f"e{i}", [], NOW)
    assert await store.receive(ALICE, "e0", HELLO, NOW), "the oldest ids are let go"
    assert not await store.receive(ALICE, f"e{SEEN_PER_CONVERSATION + 19}", HELLO, NOW)
    assert not await store.receive(ALICE, "e20", HELLO, NOW)


async def test_one_worker_at_a_time(store: Store) -> None:
    async with store.lock(ALICE) as first:
        async with store.lock(ALICE) as second, store.lock(BOB) as other:
            assert first and not second, "the conversation is taken"
            assert other, "other people are not blocked"
    async with store.lock(ALICE) as again:
        assert again, "released on exit"


async def test_idle_conversations_are_forgotten(backend: tuple[Store, Dump]) -> None:
    store, dump = backend
    old, recent = NOW - timedelta(days=40), NOW - timedelta(days=2)
    await store.receive(ALICE, "e1", HELLO, old)
    await store.commit(ALICE, {"v": 1}, "e1", [{"kind": "text", "text": "x"}], old)
    await store.commit(BOB, {"v": 1}, "e1", [], recent)
    assert await store.forget_idle(NOW - timedelta(days=30)) == 1
    assert await store.load(ALICE) is None and await store.outbox(ALICE) == []
    assert "alice" not in await dump()
    assert await store.load(BOB) == {"v": 1}
    assert not await store.receive(BOB, "e1", HELLO, NOW), "kept with its handled ids"
    await store.commit(BOB, {"v": 1, "step": "topic"}, "e2", [], NOW)  # active again: kept
    assert await store.forget_idle(NOW - timedelta(days=1)) == 0


async def test_someone_who_writes_again_is_not_forgotten(store: Store) -> None:
    """Idle by the date of the last turn, but a new message is waiting: it is answered."""
    old = NOW - timedelta(days=40)
    await store.commit(ALICE, {"v": 1, "lang": "uk"}, "e1", [], old)
    await store.receive(ALICE, "e2", HELLO, NOW)
    await store.commit(BOB, {"v": 1}, "e1", [], old)
    assert await store.forget_idle(NOW - timedelta(days=30)) == 1
    assert await store.load(ALICE) == {"v": 1, "lang": "uk"}
    assert [e.id for e in await store.pending(ALICE)] == ["e2"]
    assert await store.load(BOB) is None


async def test_sqlite_state_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    first = SqliteStore(path)
    await first.receive(ALICE, "e2", HELLO, NOW)
    await first.commit(ALICE, {"v": 1, "step": "results"}, "e1", [{"kind": "text", "text": "x"}],
                       NOW)
    await first.close()
    second = SqliteStore(path)
    assert await second.load(ALICE) == {"v": 1, "step": "results"}
    assert not await second.receive(ALICE, "e1", HELLO, NOW)
    assert [e.id for e in await second.pending(ALICE)] == ["e2"]
    assert await second.outbox(ALICE) == [{"kind": "text", "text": "x"}]
    await second.close()


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
async def test_a_corrupt_sqlite_file_is_moved_aside(tmp_path: Path, damage: str,
                                                    caplog) -> None:
    path = tmp_path / "store.sqlite3"
    first = SqliteStore(path)
    for i in range(50):
        await first.commit(ConversationId(f"test:{i}"), {"v": 1, "i": i}, f"e{i}", [],
                           NOW)
    await first.close()
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 3] if damage == "truncate"
                     else b"this is not a database" * 100)
    second = SqliteStore(path)  # starts instead of refusing
    await second.commit(ALICE, {"v": 1}, "e1", [], NOW)
    assert await second.load(ALICE) == {"v": 1}
    await second.close()
    assert list(tmp_path.glob("store.sqlite3.corrupt-*")), "the damaged file is kept aside"
    assert any("moved it to" in r.getMessage() for r in caplog.records)


async def test_many_idle_conversations_are_all_forgotten(store: Store) -> None:
    """Backends delete in batches (so that turns go on meanwhile); none may be left over."""
    old = NOW - timedelta(days=40)
    for i in range(520):
        await store.commit(ConversationId(f"test:{i}"), {"v": 2}, f"e{i}", [], old)
    await store.commit(ALICE, {"v": 2}, "e1", [], NOW)
    assert await store.forget_idle(NOW - timedelta(days=30)) == 520
    assert await store.load(ConversationId("test:519")) is None
    assert await store.load(ALICE) == {"v": 2}


def _event(day: date, kind: str, visitor: str, **labels: str) -> StatEvent:
    return StatEvent(day, kind, visitor, tuple(labels.items()))


async def test_statistics_events_are_kept_by_day_and_forgotten(store: Store) -> None:
    day = NOW.date()
    old = day - timedelta(days=100)
    events = [_event(old, "topic", "v1", topic="school", lang="ar"),
              _event(day, "topic", "v2", topic="childcare", lang="uk"),
              _event(day, "unmet", "v2", topic="unknown", lang="uk", district="", step="topic")]
    await store.record(events)
    assert sorted(await store.stat_events(old, day), key=repr) == sorted(events, key=repr)
    assert await store.stat_events(day, day) == events[1:]
    assert await store.forget_stat_events(day - timedelta(days=90)) == 1
    assert await store.stat_events(old, day) == events[1:]


async def test_kept_counts_replace_and_stay(store: Store) -> None:
    day = NOW.date()
    labels = (("topic", "school"), ("lang", "ar"))
    await store.keep_counts([DailyCount(day, "topic", labels, 7, 5)])
    await store.keep_counts([DailyCount(day, "topic", labels, 9, 6)])  # a second roll-up
    assert await store.kept_counts(day, day) == [DailyCount(day, "topic", labels, 9, 6)]
    assert await store.kept_counts(day + timedelta(days=1), day + timedelta(days=2)) == []


async def test_a_day_key_is_shared_and_destroyed_the_next_day(store: Store) -> None:
    day = NOW.date()
    today = await store.day_key(day)
    assert len(today) == 32 and await store.day_key(day) == today, "one key per day"
    tomorrow = await store.day_key(day + timedelta(days=1))
    assert tomorrow != today
    assert await store.day_key(day) != today, "yesterday's key is gone for good"


async def test_one_visitors_events_of_a_day_can_be_forgotten(store: Store) -> None:
    day = NOW.date()
    events = [_event(day, "topic", "v1", topic="school", lang="ar"),
              _event(day, "topic", "v2", topic="school", lang="ar"),
              _event(day - timedelta(days=1), "topic", "v1", topic="school", lang="ar")]
    await store.record(events)
    await store.forget_visitor(day, "v1")
    assert sorted(await store.stat_events(day - timedelta(days=1), day), key=repr) == sorted(
        events[1:], key=repr)
