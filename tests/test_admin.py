"""Admin commands in chat: for the configured admin accounts only, on Telegram and Matrix."""

from __future__ import annotations

import asyncio
import html
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import pytest

from bot.admin import AdminCommand, admins_from_env, parse
from bot.catalogue import load_catalogue
from bot.engine import Engine
from bot.i18n import Lang
from bot.messages import ConversationId
from bot.reload import Reloader

from tests.conftest import LOCALES
from tests.fake_telegram import FakeBotApi
from tests.test_telegram import Running, _start, _stop

ADMIN, NEWCOMER = 42, 43


def test_admin_commands_are_recognised() -> None:
    assert parse("/status") == AdminCommand("status")
    assert parse("/status@wegweiser_bot") == AdminCommand("status")
    assert parse("!reload") == AdminCommand("reload")
    assert parse(" /preview vhs-grundbildung ar ") == AdminCommand("preview",
                                                                  "vhs-grundbildung ar")
    for text in ("/start", "status", "/", "!", "/statusreport", "Deutschkurs"):
        assert parse(text) is None, text
    assert admins_from_env({"WEGWEISER_ADMINS": "telegram:42, matrix:@a:b.org,\n"}) == {
        "telegram:42", "matrix:@a:b.org"}
    assert admins_from_env({}) == frozenset()


@pytest.fixture
async def telegram(tmp_path: Path, content_copy: Path,
                   languages: Mapping[str, Lang]) -> AsyncIterator[tuple[Running, Path]]:
    api = FakeBotApi()
    await api.start()
    engine = Engine(load_catalogue(content_copy), languages)
    running = await _start(api, engine, tmp_path / "store.sqlite3")
    adapter = running.adapter
    adapter.admin.accounts = frozenset({f"telegram:{ADMIN}"})
    reloader = Reloader(adapter.service, content_copy, LOCALES)
    adapter.admin.reloader = reloader
    reloader.listeners.append(adapter.tell_admins)
    yield running, content_copy
    await _stop(running)
    await api.stop()


def _to(api: FakeBotApi, chat: int) -> list[str]:
    return [html.unescape(m["text"]) for m in api.sent() if int(m["chat_id"]) == chat]


async def test_an_admin_gets_status_and_a_preview(telegram: tuple[Running, Path]) -> None:
    running, _ = telegram
    api = running.api
    api.send_text("/status", user_id=ADMIN, language_code="de")
    await api.wait_for("sendMessage", 1)
    status = _to(api, ADMIN)[0]
    assert "Catalogue: 2026-11-27" in status and "offers" in status
    api.send_text("/preview vhs-grundbildung ar", user_id=ADMIN)
    await api.wait_for("sendMessage", 3)
    preview = _to(api, ADMIN)[1:]
    assert "shown to newcomers today" in preview[0]
    assert "\u0627" in preview[1], "the card as Arabic-speaking newcomers see it"
    api.send_text("/preview no-such-offer", user_id=ADMIN)
    await api.wait_for("sendMessage", 4)
    assert "no offer with the id 'no-such-offer'" in _to(api, ADMIN)[-1]
    state = await running.adapter.service.store.load(ConversationId(f"telegram:{ADMIN}"))
    assert state is None, "admin commands are not conversation turns"


async def test_a_non_admin_gets_the_normal_bot(telegram: tuple[Running, Path], caplog) -> None:
    running, _ = telegram
    api = running.api
    api.send_text("/status", user_id=NEWCOMER, language_code="en")
    await api.wait_for("sendMessage", 1)
    await api.settle()
    answer = "\n".join(_to(api, NEWCOMER))
    assert "Catalogue:" not in answer, "nothing is revealed"
    assert "language" in answer.lower(), "answered like any first message"
    assert "not an admin" in caplog.text and str(NEWCOMER) not in caplog.text


async def test_reload_by_command_and_failures_reach_the_admins(
        telegram: tuple[Running, Path]) -> None:
    running, content = telegram
    api = running.api
    topics = content / "topics.yaml"
    good = topics.read_text(encoding="utf-8")
    topics.write_text(good.replace("  - id: childcare", "  - id: childcare\n   oops: [", 1),
                      encoding="utf-8")
    api.send_text("/reload", user_id=ADMIN)
    await api.wait_for("sendMessage", 1)
    answer = _to(api, ADMIN)[0]
    assert "NOT reloaded" in answer and "topics.yaml:" in answer

    # the watcher (or SIGHUP) finds the same failure: the admins are told without asking
    await running.adapter.admin.reloader.reload()
    await api.wait_for("sendMessage", 2)
    assert "NOT reloaded" in _to(api, ADMIN)[1]
    topics.write_text(good, encoding="utf-8")
    await running.adapter.admin.reloader.reload()
    await api.wait_for("sendMessage", 3)
    assert "Content reloaded" in _to(api, ADMIN)[2], "and when it is fixed"
    await running.adapter.admin.reloader.reload()
    await asyncio.sleep(0.3)
    assert len(_to(api, ADMIN)) == 3, "routine reloads are not announced"
