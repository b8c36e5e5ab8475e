"""Anonymous statistics: what is recorded, what is never recorded, how long it is kept."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from datetime import timedelta
from pathlib import Path

from bot.catalogue import Catalogue
from bot.engine import Engine
from bot.messages import ConversationId, Inbound
from bot.service import Service
from bot.stats.collect import counts_between, visitor
from bot.stats.model import KINDS
from bot.store import MemoryStore, SqliteStore

from tests.conftest import NOW
from tests.dialogue import Dialogue

AMIRA = ConversationId("telegram:5550001")
#: What a person writes that must never reach the statistics.
SECRET_TEXT = "Amira Haddad, Breiter Weg, +49 170 5550001"


def _kinds(dialogue: Dialogue) -> list[str]:
    """The kinds the statistics keep (the operators' "matched" signal is not one)."""
    return [s.kind for s in dialogue.signals if s.kind in KINDS]


def test_a_conversation_signals_each_step_once(engine: Engine) -> None:
    dialogue = Dialogue(engine)
    dialogue.send("hello")
    assert _kinds(dialogue) == [], "nothing before the language is confirmed"
    dialogue.tap("lang:uk")
    dialogue.send("kita")
    dialogue.send("1")
    dialogue.send("Altstadt")
    dialogue.send("more")
    assert _kinds(dialogue) == ["started", "topic", "answer", "answer", "offers_shown"]
    shown = dict(dialogue.signals[-1].labels)
    assert shown == {"topic": "childcare", "lang": "uk", "district": "centre"}
    answers = [dict(s.labels) for s in dialogue.signals if s.kind == "answer"]
    assert [(a["question"], a["option"]) for a in answers] == [
        ("age", "child-0-5"), ("district", "centre")]


def test_no_offer_found_is_signalled_with_the_district(engine: Engine) -> None:
    dialogue = Dialogue(engine)
    dialogue.tap("lang:ar")
    dialogue.send("qwertzuiop asdfgh")
    dialogue.send("zxcvbnm lkjhg")
    unmet = [dict(s.labels) for s in dialogue.signals if s.kind == "unmet"]
    assert unmet == [{"topic": "unknown", "lang": "ar", "district": "", "step": "topic"}]


async def test_what_is_stored_holds_no_identifier_and_no_text(
        engine: Engine, catalogue: Catalogue, tmp_path: Path) -> None:
    """The schema of the stored events, read straight from the SQLite file."""
    store = SqliteStore(tmp_path / "s.sqlite3")
    service = Service(engine, store, clock=lambda: NOW)
    for i, inbound in enumerate([Inbound(text=SECRET_TEXT, locale_hint="de"),
                                 Inbound(choice="lang:de"), Inbound(text="Deutschkurs"),
                                 Inbound(text=SECRET_TEXT), Inbound(text="A1"),
                                 Inbound(text="egal"), Inbound(text="qwertz uiop")]):
        await service.handle(AMIRA, inbound, str(i))
    await store.close()

    with sqlite3.connect(tmp_path / "s.sqlite3") as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(stat_events)")]
        rows = db.execute("SELECT day, kind, visitor, labels FROM stat_events").fetchall()
    assert columns == ["day", "kind", "visitor", "labels"], "a day, never a time"
    assert rows, "events were recorded"
    allowed = ({"", "telegram"} | set(catalogue.topics) | set(engine.languages)
               | {q.id for q in catalogue.questions}
               | {o.id for q in catalogue.questions for o in q.options}
               | set(catalogue.meta.districts) | {"unknown"} | {"topic", "question", "results",
                                                                  "clarify", "language"})
    for day, kind, who, labels in rows:
        assert day == NOW.date().isoformat()
        assert kind in KINDS
        assert re.fullmatch(r"[0-9a-f]{16}", who) and "5550001" not in who
        pairs = json.loads(labels)
        assert [name for name, _ in pairs] == list(KINDS[kind]), "only the schema's labels"
        assert all(value in allowed for _, value in pairs), (kind, pairs)
    dump = repr(rows)
    for fragment in ("Amira", "Breiter", "5550001", "telegram:", "qwertz"):
        assert fragment not in dump


async def test_a_person_counts_once_a_day_and_cannot_be_followed_to_the_next(
        engine: Engine) -> None:
    store = MemoryStore()
    clock = [NOW]
    service = Service(engine, store, clock=lambda: clock[0])
    await service.handle(AMIRA, Inbound(choice="lang:en"), "1")
    await service.handle(AMIRA, Inbound(text="kita"), "2")
    await service.handle(AMIRA, Inbound(text="restart"), "3")
    await service.handle(AMIRA, Inbound(text="school"), "4")
    day_one = await store.stat_events(NOW.date(), NOW.date())
    assert len({e.visitor for e in day_one}) == 1, "one person, one visitor that day"
    clock[0] = NOW + timedelta(days=1)
    await service.handle(AMIRA, Inbound(text="kita"), "5")
    day_two = await store.stat_events(clock[0].date(), clock[0].date())
    assert day_two and {e.visitor for e in day_two}.isdisjoint({e.visitor for e in day_one})
    key_then = await store.day_key(clock[0].date())
    assert visitor(key_then, AMIRA) != day_one[0].visitor, "yesterday's secret is gone"


async def test_raw_events_are_rolled_up_after_90_days_and_the_numbers_stay(
        engine: Engine) -> None:
    store = MemoryStore()
    clock = [NOW - timedelta(days=100)]
    service = Service(engine, store, clock=lambda: clock[0])
    for n in range(7):
        who = ConversationId(f"telegram:{n}")
        await service.handle(who, Inbound(choice="lang:fa"), "1")
        await service.handle(who, Inbound(text="kita"), "2")
    first, last = clock[0].date(), NOW.date()
    before = await counts_between(store, first, last)
    clock[0] = NOW
    task = asyncio.create_task(service.keep_forgetting(timedelta(days=30), every=0.01))
    await asyncio.sleep(0.05)
    task.cancel()
    assert await store.stat_events(first, last) == [], "raw events older than 90 days: gone"
    after = await counts_between(store, first, last)
    assert after == before, "the daily counts are kept"
    topic = [c for c in after if c.kind == "topic"]
    assert [(dict(c.labels)["topic"], c.visitors) for c in topic] == [("childcare", 7)]


async def test_forget_also_takes_the_days_statistics_of_the_person(engine: Engine) -> None:
    """While the day's secret exists, a visitor hash can be linked to the chat id: "forget"
    removes that person's events of the day too (those of earlier days cannot be linked)."""
    store = MemoryStore()
    service = Service(engine, store, clock=lambda: NOW)
    other = ConversationId("telegram:5550002")
    for who in (AMIRA, other):
        await service.handle(who, Inbound(choice="lang:en"), "1")
        await service.handle(who, Inbound(text="kita"), "2")
    await service.handle(AMIRA, Inbound(text="forget"), "3")
    left = await store.stat_events(NOW.date(), NOW.date())
    key = await store.day_key(NOW.date())
    assert left and {e.visitor for e in left} == {visitor(key, other)}


async def test_the_day_secret_is_asked_for_once_a_day_not_on_every_turn(engine: Engine) -> None:
    store = MemoryStore()
    asked: list[object] = []
    day_key = store.day_key

    async def counting(day):  # noqa: ANN001
        asked.append(day)
        return await day_key(day)

    store.day_key = counting  # type: ignore[method-assign]
    clock = [NOW]
    service = Service(engine, store, clock=lambda: clock[0])
    for i, text in enumerate(["kita", "1", "any", "restart", "school"]):
        await service.handle(AMIRA, Inbound(text=text, locale_hint="en"), str(i))
    clock[0] = NOW + timedelta(days=1)
    await service.handle(AMIRA, Inbound(text="kita"), "9")
    assert asked == [NOW.date(), NOW.date() + timedelta(days=1)]
