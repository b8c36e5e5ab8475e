"""The Telegram adapter over the wire: real python-telegram-bot against a local Bot API server."""

from __future__ import annotations

import asyncio
import html
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.adapters.telegram import SettingsError, TelegramAdapter, TelegramSettings, to_inbound
from bot.adapters.telegram_render import CALLBACK_LIMIT, MESSAGE_LIMIT, callback_data, render
from bot.engine import Engine
from bot.messages import Choice, Choices, OfferCard, Offers, Text
from bot.service import Service
from bot.store import SqliteStore

from tests.fake_telegram import TOKEN, FakeBotApi


@dataclass
class Running:
    api: FakeBotApi
    adapter: TelegramAdapter
    task: asyncio.Task


async def _start(api: FakeBotApi, engine: Engine, path: Path) -> Running:
    settings = TelegramSettings(token=TOKEN, api_url=api.base_url)
    adapter = TelegramAdapter(Service(engine, SqliteStore(path)), settings)
    task = asyncio.create_task(adapter.run())
    await api.wait_for("getUpdates", 1)
    return Running(api, adapter, task)


async def _stop(running: Running) -> None:
    running.adapter.stop()
    await asyncio.wait_for(running.task, 15)
    await running.adapter.service.store.close()


@pytest.fixture
async def telegram(engine: Engine, tmp_path: Path) -> AsyncIterator[Running]:
    api = FakeBotApi()
    await api.start()
    running = await _start(api, engine, tmp_path / "store.sqlite3")
    yield running
    await _stop(running)
    await api.stop()


def _texts(api: FakeBotApi) -> list[str]:
    return [html.unescape(m["text"]) for m in api.sent()]


async def test_a_newcomer_follows_a_start_link_and_taps_to_offers(telegram: Running) -> None:
    api = telegram.api
    api.send_text("/start ar_childcare")
    first = await api.wait_for("sendMessage", 2)
    assert first[-1]["parse_mode"] == "HTML"
    keyboard = first[-1]["reply_markup"]["inline_keyboard"]
    assert keyboard[0][0]["callback_data"] == "a:age:child-0-5"
    assert "لمن تبحث" in _texts(api)[-1]
    api.tap("a:age:child-0-5")
    await api.wait_for("answerCallbackQuery", 1)
    await api.settle()
    api.tap("a:district:any")
    await api.wait_for("answerCallbackQuery", 2)
    await api.settle()
    joined = "\n".join(_texts(api))
    assert "kitaplatz.magdeburg.de" in joined
    assert all(len(m["text"]) <= MESSAGE_LIMIT for m in api.sent())


async def test_the_command_menu_is_set_in_every_language(telegram: Running) -> None:
    menus = telegram.api.sent("setMyCommands")
    languages = {m.get("language_code") for m in menus}
    assert languages == {None} | (set(telegram.adapter.service.engine.languages) - {"en"})
    arabic = next(m for m in menus if m.get("language_code") == "ar")
    assert [c["command"] for c in arabic["commands"]] == ["start", "back", "language", "help",
                                                          "forget"]
    assert all(c["description"] and c["description"] != "Start a new search"
               for c in arabic["commands"][:1])


async def test_a_redelivered_update_is_answered_once(telegram: Running) -> None:
    api = telegram.api
    api.hold()
    first = api.send_text("hallo", language_code="de")
    api.redeliver(first)  # the same update_id twice in one batch
    api.release()
    await api.wait_for("sendMessage", 1)
    await api.settle()
    assert len(api.sent()) == 1, "the repeated update got no second answer"
    api.send_text("Deutsch", language_code="de")
    await api.wait_for("sendMessage", 2)


async def test_flood_control_is_honoured(telegram: Running) -> None:
    api = telegram.api
    api.faults["sendMessage"] = ["429:1"]
    api.send_text("hello", language_code="en")
    sent = await api.wait_for("sendMessage", 1, timeout=20)
    assert [c.method for c in api.calls].count("sendMessage:429") == 1
    assert sent, "the message arrived after waiting retry_after"


async def test_a_stale_button_gets_a_friendly_answer(telegram: Running) -> None:
    api = telegram.api
    api.send_text("/start de_school")
    await api.wait_for("sendMessage", 2)
    await api.settle()
    before = len(api.sent())
    api.tap("a:german-level:b1")  # a button from another question
    await api.wait_for("answerCallbackQuery", 1)
    await api.wait_for("sendMessage", before + 1)
    assert "früheren Frage" in _texts(api)[before] or "earlier" in _texts(api)[before]


async def test_a_restart_resumes_the_conversation(engine: Engine, tmp_path: Path) -> None:
    api = FakeBotApi()
    await api.start()
    path = tmp_path / "store.sqlite3"
    first = await _start(api, engine, path)
    api.send_text("/start en_school")
    await api.wait_for("sendMessage", 2)
    await api.settle()
    await _stop(first)
    second = await _start(api, engine, path)
    before = len(api.sent())
    api.tap("a:age:child-6-11")
    await api.wait_for("sendMessage", before + 1)
    await api.settle()
    assert "Which part of Magdeburg" in "\n".join(_texts(api)[before:])
    await _stop(second)
    await api.stop()


# -- rendering and settings, without the wire ------------------------------------------------

def test_everything_is_escaped() -> None:
    card = OfferCard("x", "<b>VHS</b>", "a < b & c", ("Website: https://x.de/?a=1&b=2",),
                     "https://x.de")
    [message] = render(Offers("Intro <script>", (card,)))
    assert "<b>&lt;b&gt;VHS&lt;/b&gt;</b>" in message.html
    assert "<i>a &lt; b &amp; c</i>" in message.html
    assert "&lt;script&gt;" in message.html and "<script>" not in message.html


def test_long_replies_are_split_at_paragraphs() -> None:
    paragraph = "x" * 1500
    text = "\n\n".join([paragraph] * 4) + "\n\n" + "y" * 4097
    messages = render(Text(text))
    assert all(len(html.unescape(m.html)) <= MESSAGE_LIMIT for m in messages)
    assert "".join(m.html for m in messages).count("x") == 6000
    assert "".join(m.html for m in messages).count("y") == 4097
    assert messages[0].html == "\n\n".join([paragraph] * 2), "cut between paragraphs"


def test_keyboards_and_overlong_callback_data() -> None:
    long_id = "a:" + "q" * 40 + ":" + "o" * 40
    assert len(long_id.encode()) > CALLBACK_LIMIT
    assert callback_data(long_id, 3) == "#3"
    [message] = render(Choices("Pick", (Choice("lang:ar", "العربية"), Choice(long_id, "Long"))))
    rows = message.keyboard.inline_keyboard
    assert [r[0].callback_data for r in rows] == ["lang:ar", "#2"]


def test_button_numbers_and_start_payloads_become_inbound() -> None:
    from telegram import CallbackQuery, Chat, Message, Update, User

    user = User(1, "N", False, language_code="uk-UA")
    chat = Chat(1, Chat.PRIVATE)
    now = datetime.now(UTC)
    tapped = Update(1, callback_query=CallbackQuery("q", user, "ci", data="#2"))
    assert to_inbound(tapped, timedelta(minutes=10), now).text == "2"
    start = Update(2, message=Message(1, now, chat, from_user=user, text="/start ar_school"))
    assert to_inbound(start, timedelta(minutes=10), now).start == "ar_school"
    old = Update(3, message=Message(2, now - timedelta(hours=2), chat, from_user=user,
                                    text="/back@wegweiser_bot"))
    inbound = to_inbound(old, timedelta(minutes=10), now)
    assert inbound.text == "/back" and inbound.late and inbound.locale_hint == "uk-UA"


def test_settings_come_from_the_environment_and_hide_the_token() -> None:
    with pytest.raises(SettingsError, match="WEGWEISER_TELEGRAM_TOKEN"):
        TelegramSettings.from_env({})
    settings = TelegramSettings.from_env({"WEGWEISER_TELEGRAM_TOKEN": TOKEN})
    assert settings.token == TOKEN and TOKEN not in repr(settings)
    with pytest.raises(SettingsError, match="SECRET"):
        TelegramSettings.from_env({"WEGWEISER_TELEGRAM_TOKEN": TOKEN,
                                   "WEGWEISER_TELEGRAM_WEBHOOK_URL": "https://bot.example.org/tg"})
