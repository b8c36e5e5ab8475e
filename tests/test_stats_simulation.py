"""A simulated week: 2,000 newcomers talk to the bot; the city's report must tell the truth.

Each simulated person picks a language, often a topic, answers the follow-up questions by
tapping, and sometimes gives up half-way; the simulation writes down what they did. The
report, built only from what the bot stored, must publish exactly those numbers, except
where a cell is hidden for privacy. Every number it does publish is checked.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

from bot.engine import Engine, State
from bot.messages import Choices, ConversationId, Inbound, Offers
from bot.service import Service
from bot.stats.collect import counts_between
from bot.stats.report import Table, build
from bot.store import MemoryStore

from tests.conftest import NOW

PEOPLE = 2000
DAYS = 7
#: Roughly who writes to a bot like this in Magdeburg: many Arabic and Ukrainian speakers.
LANGUAGE_WEIGHTS = {"ar": 30, "uk": 25, "ru": 10, "fa": 10, "de": 6, "en": 6, "tr": 4,
                    "ps": 3, "ku": 3, "ti": 2, "fr": 1}


def _published(t: Table) -> dict[tuple[tuple[str, ...], str], int]:
    return {(row, column): value for row, line in zip(t.rows, t.cells, strict=True)
            for column, value in zip(t.columns, line, strict=True) if value is not None}


async def test_a_simulated_week_is_reported_truthfully(engine: Engine) -> None:
    rng = random.Random(2026)
    store = MemoryStore()
    clock = [NOW]
    service = Service(engine, store, clock=lambda: clock[0])
    first = (NOW - timedelta(days=DAYS)).date()
    topics = sorted(engine.catalogue.topics)
    # the truth, as the simulated people lived it
    started: Counter[str] = Counter()
    chosen: Counter[tuple[tuple[str, ...], str]] = Counter()
    districts: Counter[tuple[tuple[str, ...], str]] = Counter()
    shown = 0
    for n in range(PEOPLE):
        clock[0] = NOW - timedelta(days=DAYS - n * DAYS // PEOPLE, hours=-rng.randrange(10))
        who = ConversationId(f"telegram:{100000 + n}")
        lang = rng.choices(list(LANGUAGE_WEIGHTS), weights=list(LANGUAGE_WEIGHTS.values()))[0]
        events = iter(range(100))

        async def tap(choice: str, who: ConversationId = who, events=events) -> list:  # noqa: ANN001
            return await service.handle(who, Inbound(choice=choice), str(next(events)))

        await service.handle(who, Inbound(text="hi", locale_hint=lang), str(next(events)))
        replies = await tap(f"lang:{lang}")
        started[lang] += 1
        if rng.random() < 0.1:
            continue  # gone after the greeting
        topic = rng.choice(topics[:12]) if rng.random() < 0.8 else rng.choice(topics)
        replies = await tap(f"topic:{topic}")
        chosen[((topic,), lang)] += 1
        while True:
            question = [r for r in replies if isinstance(r, Choices)
                        and r.options and r.options[0].id.startswith("a:")]
            if not question:
                break
            if rng.random() < 0.07:
                break  # gives up in the middle of the questions
            option = rng.choice(question[-1].options).id
            _, question_id, option_id = option.split(":", 2)
            if question_id == "district":
                districts[((option_id,), "cases")] += 1
            replies = await tap(option)
        state = State.from_json(await store.load(who))
        if state.step == "results" and state.shown and any(
                isinstance(r, Offers) and r.cards for r in replies):
            shown += 1  # offers for the topic (not the counselling shown when none fits)

    last = NOW.date()
    report = build(await counts_between(store, first, last), first, last)

    assert sum(started.values()) == PEOPLE
    funnel = dict(zip([row[0] for row in report.funnel.rows],
                      [line[0] for line in report.funnel.cells], strict=True))
    assert funnel["started"] == PEOPLE
    assert funnel["topic"] == sum(chosen.values())
    assert funnel["offers_shown"] == shown

    topics_published = _published(report.topics)
    assert sum(topics_published.values()) >= 0.8 * sum(chosen.values()), (
        "privacy hides the small cells, not most of the picture")
    for key, value in topics_published.items():
        assert value == chosen.get(key, 0), key
    hidden = sum(1 for line in report.topics.cells for value in line if value is None)
    small = sum(1 for value in chosen.values() if 0 < value < 5)
    assert hidden >= small, "every small cell is hidden"
    assert report.topics.total == sum(chosen.values())

    for key, value in _published(report.districts).items():
        assert value == districts.get(key, 0), key
    weeks = sum(line[0] for line in report.weeks.cells if line[0] is not None)
    assert weeks <= PEOPLE and report.weeks.total == PEOPLE
