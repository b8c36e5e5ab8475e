"""The service: ordering per person, dedupe by event id, forget, unmet-need counters."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

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
    replies = [reply for result in results for reply in result]
    assert any(isinstance(r, Offers) for r in replies), "every message answered, up to results"
    state = State.from_json(await original_load(ALICE))
    # all three turns built on each other: topic, then the age answer, then the district
    assert state.topic == "childcare" and state.step == "results"
    async with store.lock(ALICE) as free:
        assert free, "the lock is let go once the inbox is empty"


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
    unmet = [e for e in await store.stat_events(NOW.date(), NOW.date()) if e.kind == "unmet"]
    assert [dict(e.labels) for e in unmet] == [
        {"topic": "unknown", "lang": "en", "district": "", "step": "topic"}]
    assert "qwertz" not in repr(await store.stat_events(NOW.date(), NOW.date()))


async def test_reload_swaps_the_engine_between_turns(engine: Engine, catalogue,
                                                     languages) -> None:
    service = _service(engine)
    await service.handle(ALICE, Inbound(choice="lang:en"), "1")
    service.engine = Engine(catalogue, languages)
    replies = await service.handle(ALICE, Inbound(text="school"), "2")
    assert replies


async def test_idle_conversations_are_forgotten_on_schedule(engine: Engine) -> None:
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


class _Dropped(ConnectionError):
    """The connection to the platform broke while sending."""


async def test_replies_unsent_at_a_crash_are_sent_after_restart_once(
        engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    sent: list[str] = []

    async def flaky(reply) -> None:
        if sent:  # the first reply goes out, then the connection drops
            raise _Dropped
        sent.append(_text(reply))

    before = _service(engine, SqliteStore(path))
    await before.handle(ALICE, Inbound(choice="lang:en"), "0")
    for i, text in enumerate(["kita", "1"], 1):
        await before.handle(ALICE, Inbound(text=text), str(i))
    with pytest.raises(_Dropped):  # results, then "what next?": the second one fails
        await before.handle(ALICE, Inbound(text="any"), "3", deliver=flaky)
    await before.store.close()

    after = _service(engine, SqliteStore(path))  # the restarted bot
    resent: list[str] = []

    async def deliver(reply) -> None:
        resent.append(_text(reply))

    assert await after.recover(lambda conversation: deliver) == 1
    assert len(sent) == 1 and len(resent) == 1 and sent != resent, (
        "the reply that went out is not sent again; the one that did not is")
    assert await after.handle(ALICE, Inbound(text="any"), "3",
                              deliver=deliver) == [], "the redelivered event is not answered"
    assert await after.store.waiting() == []
    await after.store.close()


async def test_an_event_queued_before_a_crash_is_answered_after_restart(
        engine: Engine) -> None:
    store = MemoryStore()
    # the bot took the event and died before its turn
    await store.receive(ALICE, "7", {"text": "hello", "locale_hint": "en"}, NOW)
    service = _service(engine, store)
    got: list[object] = []

    async def deliver(reply) -> None:
        got.append(reply)

    assert await service.recover(
        lambda c: deliver if c == ALICE else None) == 1
    assert isinstance(got[-1], Choices), "the language question, as if nothing happened"
    assert await store.pending(ALICE) == []


async def test_an_event_answered_long_after_it_came_gets_an_apology(engine: Engine) -> None:
    store = MemoryStore()
    await store.receive(ALICE, "7", {"text": "hello", "locale_hint": "en"},
                        NOW - timedelta(hours=3))
    replies = await _service(engine, store).handle(ALICE, Inbound(text="hi"), "8")
    assert "late" in _text(replies[0]).lower(), "sorry for the late answer, first"


async def test_a_failing_turn_does_not_block_the_person(engine: Engine, caplog) -> None:
    service = _service(engine)
    await service.handle(ALICE, Inbound(choice="lang:en"), "1")

    class Broken:
        def step(self, *args: object) -> None:
            raise KeyError("what the person wrote")

    service.engine, working = Broken(), service.engine  # type: ignore[assignment]
    assert await service.handle(ALICE, Inbound(text="kita"), "2") == []
    assert "what the person wrote" not in caplog.text and "KeyError" in caplog.text
    service.engine = working
    assert await service.handle(ALICE, Inbound(text="kita"), "3"), "the next message works"


async def test_settle_waits_for_turns_in_flight(engine: Engine) -> None:
    service = _service(engine)
    release = asyncio.Event()
    sent: list[object] = []

    async def slow(reply) -> None:
        await release.wait()
        sent.append(reply)

    turn = asyncio.create_task(service.handle(ALICE, Inbound(text="hi"), "1", deliver=slow))
    await asyncio.sleep(0.01)
    settled = asyncio.create_task(service.settle())
    await asyncio.sleep(0.01)
    assert not settled.done(), "a reply is still being sent"
    release.set()
    await asyncio.wait_for(settled, 1)
    assert sent and turn.done()


def _text(reply: object) -> str:
    return getattr(reply, "text", None) or getattr(reply, "intro", "")


async def test_a_conversation_stored_by_the_previous_version_goes_on(
        engine: Engine, tmp_path: Path) -> None:
    """Schema version 1 (answers as pairs) is migrated when read: an upgrade mid-conversation
    loses nobody's answers."""
    store = SqliteStore(tmp_path / "s.sqlite3")
    written_by_v1 = {"v": 1, "step": "question", "lang": "en", "suggested": None,
                     "topic": "childcare", "close": [], "answers": [["age", "child-0-5"]],
                     "question": "district", "shown": 0, "misses": 0}
    await store.commit(ALICE, written_by_v1, None, [], NOW)
    replies = await _service(engine, store).handle(ALICE, Inbound(text="any"), "1")
    assert any(isinstance(r, Offers) for r in replies), "results, without asking the age again"
    stored = await store.load(ALICE)
    assert stored is not None and stored["v"] == 2
    assert stored["answers"]["age"] == "child-0-5"
    await store.close()
