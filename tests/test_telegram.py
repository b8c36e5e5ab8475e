"""The Telegram adapter over the wire: real python-telegram-bot against a local Bot API server."""

from __future__ import annotations

import asyncio
import html
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.adapters import SettingsError
from bot.adapters.telegram import TelegramAdapter, TelegramSettings, to_inbound
from bot.adapters.telegram_render import (
    CALLBACK_LIMIT,
    MESSAGE_LIMIT,
    callback_data,
    render,
)
from bot.engine import Engine
from bot.messages import Choice, ConversationId, Choices, OfferCard, Offers, Text
from bot.service import Service
from bot.store import SqliteStore
from tests.conftest import NOW
from tests.fake_telegram import TOKEN, FakeBotApi
from tests.net import free_port


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
                                                          "privacy", "forget", "share"]
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


async def test_messages_from_while_the_bot_was_down_get_an_apology(telegram: Running) -> None:
    api = telegram.api
    api.send_text("hello", language_code="en", date=datetime.now(UTC) - timedelta(hours=3))
    await api.wait_for("sendMessage", 2)
    assert _texts(api)[0].startswith("Sorry for the late answer")


async def test_a_network_drop_while_polling_is_survived(telegram: Running) -> None:
    api = telegram.api
    api.faults["getUpdates"] = ["drop", "drop"]
    await asyncio.sleep(0.5)
    api.send_text("hello", language_code="en")
    await api.wait_for("sendMessage", 1, timeout=30)
    assert any(c.method == "getUpdates:drop" for c in api.calls)
    assert not telegram.task.done()


async def test_a_second_poller_makes_this_one_stop_clearly(engine: Engine,
                                                           tmp_path: Path) -> None:
    """A final SettingsError: bot/runner.py logs it as critical and does not restart the
    adapter, which would only take turns with the other poller."""
    api = FakeBotApi()
    await api.start()
    api.faults["getUpdates"] = ["409"]
    store = SqliteStore(tmp_path / "store.sqlite3")
    adapter = TelegramAdapter(Service(engine, store),
                              TelegramSettings(token=TOKEN, api_url=api.base_url))
    with pytest.raises(SettingsError, match="another instance is polling with this bot token"):
        await asyncio.wait_for(adapter.run(), 15)
    assert api.sent("getUpdates:409")
    await store.close()
    await api.stop()


async def test_webhook_requires_the_secret(engine: Engine, tmp_path: Path) -> None:
    import httpx

    api = FakeBotApi()
    await api.start()
    port = free_port()
    secret = secrets.token_urlsafe(24)  # made up per run, like a real deployment
    settings = TelegramSettings(token=TOKEN, api_url=api.base_url,
                                webhook_url="https://bot.example.org/telegram",
                                webhook_secret=secret, listen="127.0.0.1", port=port)
    adapter = TelegramAdapter(Service(engine, SqliteStore(tmp_path / "s.sqlite3")), settings)
    task = asyncio.create_task(adapter.run())
    hook = await api.wait_for("setWebhook", 1)
    assert hook[0]["url"] == "https://bot.example.org/telegram"
    assert hook[0]["secret_token"] == secret
    api.send_text("hello", language_code="en")
    update = api.updates[-1]
    url = f"http://127.0.0.1:{port}/telegram"
    async with httpx.AsyncClient() as client:
        for _ in range(50):  # the webhook server may need a moment to listen
            try:
                missing = await client.post(url, json=update)
                break
            except httpx.ConnectError:
                await asyncio.sleep(0.1)
        wrong = await client.post(url, json=update,
                                  headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"})
        assert (missing.status_code, wrong.status_code) == (403, 403)
        await asyncio.sleep(0.3)
        assert api.sent() == [], "a request without the right secret is never processed"
        garbled = await client.post(url, content=b"\xff{not json",
                                    headers={"X-Telegram-Bot-Api-Secret-Token": secret})
        assert garbled.status_code == 400, "a broken body is refused, the bot goes on"
        good = await client.post(url, json=update,
                                 headers={"X-Telegram-Bot-Api-Secret-Token": secret})
        assert good.status_code == 200
        stored = not await adapter.service.store.receive(
            ConversationId("telegram:42"), str(update["update_id"]), {}, NOW)
        assert stored, "by the time Telegram hears 200 the update is in the store"
    await api.wait_for("sendMessage", 1)
    adapter.stop()
    await asyncio.wait_for(task, 15)
    await adapter.service.store.close()
    await api.stop()


def test_run_telegram_without_a_token_explains_what_to_do(monkeypatch, capsys,
                                                          tmp_path: Path) -> None:
    from bot.cli import main

    monkeypatch.delenv("WEGWEISER_TELEGRAM_TOKEN", raising=False)
    data = tmp_path / "data"
    assert main(["run", "telegram", "--data-dir", str(data)]) == 2
    assert "@BotFather" in capsys.readouterr().err
    assert not data.exists(), "nothing is created before the settings are complete"


async def test_a_forged_long_callback_payload_is_harmless(telegram: Running) -> None:
    api = telegram.api
    api.send_text("/start en")
    await api.wait_for("sendMessage", 2)
    await api.settle()
    before = len(api.sent())
    api.tap("a:" + "x" * 63)  # 65 bytes: more than Telegram allows a button to carry
    await api.wait_for("answerCallbackQuery", 1)
    await api.wait_for("sendMessage", before + 1)
    assert "earlier question" in "\n".join(_texts(api)[before:])


async def test_hostile_catalogue_text_is_escaped_on_the_wire(content_copy: Path, languages,
                                                             tmp_path: Path) -> None:
    from bot.catalogue import load_catalogue

    path = content_copy / "offers" / "stadt-magdeburg.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("en: School enrolment for newcomer children",
                                 'en: "<b>School</b> enrolment: a < b & c"', 1), encoding="utf-8")
    engine = Engine(load_catalogue(content_copy), languages)
    api = FakeBotApi()
    await api.start()
    running = await _start(api, engine, tmp_path / "s.sqlite3")
    api.send_text("/start en_school", language_code="en")
    await api.wait_for("sendMessage", 2)
    api.tap("a:age:child-6-11", language_code="en")
    await api.wait_for("answerCallbackQuery", 1)
    await api.settle()
    api.tap("a:district:any", language_code="en")
    await api.wait_for("answerCallbackQuery", 2)
    await api.settle()
    raw = "\n".join(m["text"] for m in api.sent())
    assert "&lt;b&gt;School&lt;/b&gt; enrolment: a &lt; b &amp; c" in raw
    assert "<b>School</b>" not in raw
    await _stop(running)
    await api.stop()


async def test_quick_messages_are_answered_in_order(telegram: Running) -> None:
    """Updates are processed concurrently, but one person's turns never interleave."""
    api = telegram.api
    api.hold()
    api.send_text("/start en_childcare", language_code="en")
    api.tap("a:age:child-0-5", language_code="en")
    api.send_text("any", language_code="en")
    api.release()
    await api.wait_for("answerCallbackQuery", 1)
    await api.settle()
    texts = _texts(api)
    age = next(i for i, t in enumerate(texts) if "How old is the person?" in t)
    district = next(i for i, t in enumerate(texts) if "Which part of Magdeburg" in t)
    offers = next(i for i, t in enumerate(texts) if "kitaplatz.magdeburg.de" in t)
    assert age < district < offers


async def test_logs_hold_no_token_and_no_message_text(engine: Engine, tmp_path: Path,
                                                      caplog) -> None:
    import logging

    from bot.cli import configure_logging

    configure_logging()
    caplog.set_level(logging.INFO)
    api = FakeBotApi()
    await api.start()
    running = await _start(api, engine, tmp_path / "s.sqlite3")
    api.send_text("my name is Amira and I need a Kita", language_code="en")
    await api.wait_for("sendMessage", 1)
    await api.settle()
    await _stop(running)
    await api.stop()
    # tornado.access is the fake Telegram server's own log, not the bot's
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name != "tornado.access")
    assert TOKEN not in logged and TOKEN.split(":")[1] not in logged
    assert "Amira" not in logged
