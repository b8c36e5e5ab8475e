"""The service: ordering per person, dedupe by event id, forget, unmet-need counters."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.engine import Engine, State
from bot.messages import Choices, ConversationId, Inbound, Offers, Text
from bot.service import Service
from bot.store import MemoryStore, SqliteStore

from tests.conftest import NOW

ALICE = ConversationId("test:alice")


def _service(engine: Engine, store=None) -> Service:
    return Service(engine, store or MemoryStore(), clock=lambda: NOW)


async def test_a_conversation_runs_through_the_service(engine: Engine) -> None:
    service = _service(engine)
    replies = await service.handle(ALICE, Inbound(text="hello", locale_hint="en"), "1")
    assert isinstance(replies[-1], Choices)
    await service.handle(ALICE, Inbound(choice="lang:en"), "2")
    await service.handle(ALICE, Inbound(text="recognition of my diploma"), "3")
    state = State.from_json(await service.store.load(ALICE))
    assert state.topic == "recognition"


async def test_a_redelivered_event_is_answered_once(engine: Engine) -> None:
    service = _service(engine)
    first = await service.handle(ALICE, Inbound(text="hello"), "update-7")
    again = await service.handle(ALICE, Inbound(text="hello"), "update-7")
    assert first and again == []


async def test_messages_of_one_person_are_handled_in_order(engine: Engine) -> None:
    """Concurrent deliveries for one person must not interleave: each turn sees the last."""
    store = MemoryStore()
    service = _service(engine, store)
    await service.handle(ALICE, Inbound(choice="lang:en"), "0")
    original_load = store.load
    loads: list[str] = []

    async def slow_load(conversation):
        loads.append("load")
        state = await original_load(conversation)
        await asyncio.sleep(0.01)  # give the other task every chance to interleave
        return state

    store.load = slow_load  # type: ignore[method-assign]
    texts = ["kita", "1", "any"]
    results = await asyncio.gather(*(
        service.handle(ALICE, Inbound(text=t), f"m{i}") for i, t in enumerate(texts)))
    assert all(results)
    state = State.from_json(await original_load(ALICE))
    # all three turns built on each other: topic, then the age answer, then the district
    assert state.topic == "childcare" and state.step == "results"
    assert service.active_locks == 0, "locks of finished conversations are dropped"


async def test_forget_deletes_the_conversation(engine: Engine, tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.sqlite3")
    service = _service(engine, store)
    await service.handle(ALICE, Inbound(choice="lang:en"), "1")
    assert await store.load(ALICE) is not None
    replies = await service.handle(ALICE, Inbound(text="forget"), "2")
    assert isinstance(replies[0], Text)
    assert await store.load(ALICE) is None
    await store.close()


async def test_unmet_needs_are_counted_without_text(engine: Engine) -> None:
    store = MemoryStore()
    service = _service(engine, store)
    await service.handle(ALICE, Inbound(choice="lang:en"), "1")
    await service.handle(ALICE, Inbound(text="qwertzuiop asdfgh"), "2")
    replies = await service.handle(ALICE, Inbound(text="zxcvbnm lkjhg"), "3")
    assert any(isinstance(r, Offers) for r in replies), "counselling offers are shown"
    counts = await store.counts("unmet")
    assert counts == {(("unknown", "en", "topic"), NOW.date()): 1}
    assert "qwertz" not in repr(counts)


async def test_reload_swaps_the_engine_between_turns(engine: Engine, catalogue,
                                                     languages) -> None:
    service = _service(engine)
    await service.handle(ALICE, Inbound(choice="lang:en"), "1")
    service.engine = Engine(catalogue, languages)
    replies = await service.handle(ALICE, Inbound(text="school"), "2")
    assert replies


async def test_idle_conversations_are_forgotten_on_schedule(engine: Engine) -> None:
    from datetime import timedelta

    clock = [NOW - timedelta(days=31)]
    store = MemoryStore()
    service = Service(engine, store, clock=lambda: clock[0])
    await service.handle(ALICE, Inbound(choice="lang:en"), "1")  # 31 days ago
    clock[0] = NOW
    await service.handle(ConversationId("test:bob"), Inbound(choice="lang:de"), "1")
    task = asyncio.create_task(service.keep_forgetting(timedelta(days=30), every=0.01))
    await asyncio.sleep(0.05)
    task.cancel()
    assert await store.load(ALICE) is None, "idle for 31 days: forgotten"
    assert await store.load(ConversationId("test:bob")) is not None
