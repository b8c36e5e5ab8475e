"""Live reload: staff edit content/ while people are in the middle of conversations."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path

import yaml

from bot.catalogue import load_catalogue
from bot.engine import Engine, State
from bot.i18n import Lang
from bot.messages import ConversationId, Inbound, Offers
from bot.reload import Outcome, Reloader
from bot.service import Service
from bot.store import MemoryStore

from tests.conftest import LOCALES, NOW

ALICE = ConversationId("test:alice")


def _service(content: Path, languages: Mapping[str, Lang]) -> Service:
    return Service(Engine(load_catalogue(content), languages), MemoryStore(), clock=lambda: NOW)


async def _to_district_question(service: Service) -> None:
    for i, inbound in enumerate([Inbound(choice="lang:en"), Inbound(text="kita"),
                                 Inbound(text="1")]):
        await service.handle(ALICE, inbound, str(i))
    state = State.from_json(await service.store.load(ALICE))
    assert (state.topic, state.question) == ("childcare", "district")


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _rewrite_yaml(path: Path, change) -> None:  # noqa: ANN001  a function of the data
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _titles(replies: list) -> list[str]:  # noqa: ANN001
    return [card.title for reply in replies if isinstance(reply, Offers) for card in reply.cards]


async def test_a_valid_change_reaches_a_conversation_in_progress(
        content_copy: Path, languages: Mapping[str, Lang]) -> None:
    service = _service(content_copy, languages)
    await _to_district_question(service)
    before = service.engine
    offers = content_copy / "offers"
    path = next(p for p in sorted(offers.glob("*.yaml")) if "Kita" in p.read_text())
    title = next(line.split("en:", 1)[1].strip() for line in path.read_text().splitlines()
                 if line.strip().startswith("en:") and "Kita" in line)
    _edit(path, f"en: {title}", "en: Kita places, updated today")
    outcome = await Reloader(service, content_copy, LOCALES).reload()
    assert outcome.ok and service.engine is not before
    replies = await service.handle(ALICE, Inbound(text="any"), "3")
    assert "Kita places, updated today" in _titles(replies), "the edit shows in the same chat"


async def test_a_broken_file_keeps_the_last_good_catalogue_and_admins_are_told(
        content_copy: Path, languages: Mapping[str, Lang], caplog) -> None:
    service = _service(content_copy, languages)
    await _to_district_question(service)
    serving = service.engine
    _edit(content_copy / "topics.yaml", "  - id: childcare", "  - id: childcare\n   broken: [")
    told: list[Outcome] = []
    reloader = Reloader(service, content_copy, LOCALES)

    async def tell_admins(outcome: Outcome) -> None:
        told.append(outcome)
    reloader.listeners.append(tell_admins)
    outcome = await reloader.reload()
    assert not outcome.ok and service.engine is serving, "the old catalogue keeps serving"
    assert told == [outcome], "the admins hear about it"
    problem = outcome.problems[0]
    assert problem.file.endswith("topics.yaml") and problem.line > 0
    assert "topics.yaml:" in caplog.text, "the log names file and line"
    replies = await service.handle(ALICE, Inbound(text="any"), "3")
    assert _titles(replies), "the person is answered from the last good catalogue"


async def test_removing_what_a_live_conversation_refers_to(
        content_copy: Path, languages: Mapping[str, Lang]) -> None:
    """The question the person is answering and an offer they were shown disappear: the
    conversation goes on from the nearest step that still makes sense."""
    service = _service(content_copy, languages)
    await _to_district_question(service)
    shown = await service.handle(ALICE, Inbound(text="any"), "3")
    gone_offer = next(card.offer_id for r in shown if isinstance(r, Offers) for card in r.cards)
    await service.handle(ALICE, Inbound(text="back"), "4")  # at the district question again

    def drop_district(data: dict) -> None:
        data["questions"] = [q for q in data["questions"] if q["id"] != "district"]

    def drop_offer(data: dict) -> None:
        data["offers"] = [o for o in data["offers"] if o["id"] != gone_offer]

    def drop_translations(data: dict) -> None:
        data.get("questions", {}).pop("district", None)
        data.get("offers", {}).pop(gone_offer, None)

    _rewrite_yaml(content_copy / "questions.yaml", drop_district)
    for path in (content_copy / "offers").glob("*.yaml"):
        if gone_offer in path.read_text(encoding="utf-8"):
            _rewrite_yaml(path, drop_offer)
    for path in (content_copy / "translations").glob("*.yaml"):
        _rewrite_yaml(path, drop_translations)
    outcome = await Reloader(service, content_copy, LOCALES).reload()
    assert outcome.ok, [str(p) for p in outcome.problems]

    replies = await service.handle(ALICE, Inbound(text="Altstadt"), "5")
    titles = _titles(replies)
    assert titles, "results, without the question that is gone"
    assert all(t for t in titles) and gone_offer not in {
        card.offer_id for r in replies if isinstance(r, Offers) for card in r.cards}
    assert await service.handle(ALICE, Inbound(text="more"), "6")


async def test_the_watcher_picks_up_a_change_by_itself(
        content_copy: Path, languages: Mapping[str, Lang]) -> None:
    service = _service(content_copy, languages)
    reloader = Reloader(service, content_copy, LOCALES, every=0.05)
    watching = asyncio.create_task(reloader.watch())
    try:
        _edit(content_copy / "catalogue.yaml", "version:", "version: 2099-01-01 #")
        for _ in range(100):
            if reloader.last is not None:
                break
            await asyncio.sleep(0.05)
    finally:
        watching.cancel()
    assert reloader.last is not None and reloader.last.ok
    assert service.engine.catalogue.meta.version.startswith("2099-01-01")


async def test_a_reload_keeps_the_engine_settings(content_copy: Path,
                                                  languages: Mapping[str, Lang]) -> None:
    """The retention people are told about (`--keep-days`) survives a reload."""
    service = Service(Engine(load_catalogue(content_copy), languages, keep_days=14),
                      MemoryStore(), clock=lambda: NOW)
    assert (await Reloader(service, content_copy, LOCALES).reload()).ok
    assert service.engine.keep_days == 14
