"""Operator logs (bot/logs.py): the JSON and text formats, masking, and an audit of a whole
Telegram conversation at DEBUG for anything that identifies the person or what they wrote."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from telegram import User

from bot.engine import Engine
from bot.logs import (
    FORMATS,
    LEVELS,
    QUIET_LOGGERS,
    RedactingFilter,
    configure_logging,
)
from tests.fake_telegram import TOKEN, FakeBotApi
from tests.test_telegram import _start, _stop

log = logging.getLogger("wegweiser.test")

#: A token shaped like BotFather's, in the URL PTB and httpx would print.
REAL_LOOKING_TOKEN = "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
BOT_API_URL = f"https://api.telegram.org/bot{REAL_LOOKING_TOKEN}/sendMessage"


@pytest.fixture(autouse=True)
def _restore_logging(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Each test configures the root logger; afterwards it is as before, for other tests.

    pytest attaches a capturing handler to the root logger for each phase of a test and
    removes it itself: the one of the setup phase (in `handlers` here) is gone by now and
    must not come back; the one of the teardown phase (added after configure_logging) stays.
    """
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    yield
    per_phase = type(caplog.handler)
    ours = [h for h in root.handlers if any(isinstance(f, RedactingFilter) for f in h.filters)]
    root.handlers[:] = ([h for h in handlers if not isinstance(h, per_phase)]
                        + [h for h in root.handlers if h not in handlers and h not in ours])
    root.setLevel(level)
    for name, saved in levels.items():
        logging.getLogger(name).setLevel(saved)


def _configure(format: str = "json", level: str = "debug",
               secrets: tuple[str, ...] = ()) -> io.StringIO:
    stream = io.StringIO()
    configure_logging(format, level, secrets, stream)
    return stream


def _entries(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def _raise(message: str) -> None:
    raise RuntimeError(message)


# -- the JSON format -------------------------------------------------------------------------

def test_a_json_line_carries_time_level_logger_and_the_formatted_message() -> None:
    stream = _configure()
    before = datetime.now(UTC) - timedelta(milliseconds=1)
    log.info("reloaded %d offers in %s", 212, "Magdeburg-Süd كيتا")
    after = datetime.now(UTC)
    [entry] = _entries(stream)
    assert set(entry) == {"time", "level", "logger", "message"}
    assert entry["level"] == "info"
    assert entry["logger"] == "wegweiser.test"
    assert entry["message"] == "reloaded 212 offers in Magdeburg-Süd كيتا"
    assert "Süd كيتا" in stream.getvalue(), "non-ASCII is written as it is, not escaped"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["time"])
    moment = datetime.fromisoformat(entry["time"])
    assert before <= moment <= after


def test_levels_are_named_in_lowercase_and_lines_below_the_level_are_left_out() -> None:
    stream = _configure(level="warning")
    log.debug("not shown")
    log.info("not shown either")
    log.warning("a warning")
    log.error("an error")
    log.critical("critical")
    assert [(e["level"], e["message"]) for e in _entries(stream)] == [
        ("warning", "a warning"), ("error", "an error"), ("critical", "critical")]


def test_a_traceback_is_in_the_exception_field() -> None:
    stream = _configure()
    try:
        _raise("the store is gone")
    except RuntimeError:
        log.exception("a turn failed")
    [entry] = _entries(stream)
    assert entry["level"] == "error"
    assert entry["message"] == "a turn failed"
    assert entry["exception"].startswith("Traceback (most recent call last):")
    assert "in _raise" in entry["exception"]
    assert entry["exception"].endswith("RuntimeError: the store is gone")


def test_only_allowed_extras_are_written() -> None:
    stream = _configure()
    log.info("polling failed", extra={"adapter": "telegram", "seconds": 1.5, "event": "poll",
                                      "user_id": 987654321, "text": "Zebra-42", "chat": 5})
    [entry] = _entries(stream)
    assert entry["adapter"] == "telegram"
    assert entry["seconds"] == 1.5
    assert entry["event"] == "poll"
    assert not {"user_id", "text", "chat"} & set(entry)
    assert "987654321" not in stream.getvalue() and "Zebra" not in stream.getvalue()


def test_a_message_with_unusual_line_breaks_stays_one_line() -> None:
    stream = _configure()
    log.info("one\u2028two\u2029three\x85four\nfive")
    assert len(stream.getvalue().splitlines()) == 1
    assert _entries(stream)[0]["message"] == "one\u2028two\u2029three\x85four\nfive"


# -- the text format -------------------------------------------------------------------------

def test_the_text_format_is_unchanged() -> None:
    stream = _configure("text", "info")
    log.info("starting the %s adapter with %d offers", "telegram", 212)
    log.debug("not shown")
    assert stream.getvalue() == "INFO wegweiser.test: starting the telegram adapter with 212 " \
                                "offers\n"


def test_the_text_format_appends_the_traceback() -> None:
    stream = _configure("text", "info")
    try:
        _raise("boom")
    except RuntimeError:
        log.exception("failed")
    lines = stream.getvalue().splitlines()
    assert lines[0] == "ERROR wegweiser.test: failed"
    assert lines[1] == "Traceback (most recent call last):"
    assert lines[-1] == "RuntimeError: boom"


# -- masking ---------------------------------------------------------------------------------

WEBHOOK_SECRET = "hook-Secret_0123456789abcdef"


@pytest.mark.parametrize("format", FORMATS)
def test_given_secrets_are_masked_in_message_arguments_and_tracebacks(format: str) -> None:
    stream = _configure(format, secrets=(WEBHOOK_SECRET, "", "admin"))
    log.warning(f"the secret in the message: {WEBHOOK_SECRET}.")
    log.warning("the secret as an argument: %s.", WEBHOOK_SECRET)
    log.warning("as part of a URL: %s", f"https://bot.example.org/hook/{WEBHOOK_SECRET}?x=1")
    try:
        _raise(f"refused secret {WEBHOOK_SECRET}")
    except RuntimeError:
        log.exception("and in a traceback")
    logged = stream.getvalue()
    assert WEBHOOK_SECRET not in logged
    assert WEBHOOK_SECRET[:12] not in logged and WEBHOOK_SECRET[-12:] not in logged
    assert "the secret in the message: ***." in logged
    assert "the secret as an argument: ***." in logged
    assert "https://bot.example.org/hook/***?x=1" in logged
    assert "RuntimeError: refused secret ***" in logged
    log.info("the admin page")  # shorter than 6 characters: an ordinary word, not masked
    assert "the admin page" in stream.getvalue()


@pytest.mark.parametrize("format", FORMATS)
def test_anything_shaped_like_a_bot_token_is_masked_without_being_configured(
        format: str) -> None:
    stream = _configure(format)
    logging.getLogger("telegram.ext.Updater").debug("Set Bot API URL: %s", BOT_API_URL)
    log.info(f"in the message {REAL_LOOKING_TOKEN}")
    try:
        _raise(f"POST {BOT_API_URL} failed")
    except RuntimeError:
        log.exception("in a traceback")
    logged = stream.getvalue()
    assert REAL_LOOKING_TOKEN not in logged
    assert "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw" not in logged
    assert "Set Bot API URL: https://api.telegram.org/bot***/sendMessage" in logged
    assert "in the message ***" in logged
    assert "RuntimeError: POST https://api.telegram.org/bot***/sendMessage failed" in logged


def test_times_and_ordinary_numbers_are_not_taken_for_tokens() -> None:
    stream = _configure()
    message = "course at 10:30, 12345:short, offer 2026-11-27T10:00:00Z, 42 turns"
    log.info(message)
    assert _entries(stream)[0]["message"] == message


def test_matrix_user_and_room_ids_are_masked() -> None:
    """matrix-nio names the people it exchanges keys with in its warnings."""
    stream = _configure()
    logging.getLogger("nio.crypto").warning(
        "Error decrypting olm event from @amira.k:matrix.example.org:8448 in "
        "!AbCdEf123:example.org")
    message = _entries(stream)[0]["message"]
    assert "amira" not in message and "AbCdEf123" not in message
    assert message == "Error decrypting olm event from *** in ***"


def test_allowed_extras_are_masked_too() -> None:
    stream = _configure(secrets=(WEBHOOK_SECRET,))
    log.info("sent", extra={"event": f"hook {WEBHOOK_SECRET}", "status": REAL_LOOKING_TOKEN})
    [entry] = _entries(stream)
    assert entry["event"] == "hook ***"
    assert entry["status"] == "***"


def test_other_handlers_still_format_the_masked_record() -> None:
    stream = _configure("text", "info")
    other = io.StringIO()
    handler = logging.StreamHandler(other)
    handler.setFormatter(logging.Formatter("%(levelname)s|%(message)s"))
    logging.getLogger().addHandler(handler)  # after ours: it sees the record ours has masked
    try:
        log.info("calling %s with %d retries", BOT_API_URL, 3)
    finally:
        logging.getLogger().removeHandler(handler)
    assert other.getvalue() == "INFO|calling https://api.telegram.org/bot***/sendMessage " \
                               "with 3 retries\n"
    assert stream.getvalue() == "INFO wegweiser.test: calling " \
                                "https://api.telegram.org/bot***/sendMessage with 3 retries\n"


def test_a_log_call_with_wrong_arguments_is_written_and_raises_nothing() -> None:
    stream = _configure()
    # one argument missing: a bug in the caller
    log.info("two values %s and %s", REAL_LOOKING_TOKEN)  # noqa: PLE1206
    [entry] = _entries(stream)
    assert entry["message"].startswith("two values %s and %s")
    assert REAL_LOOKING_TOKEN not in stream.getvalue()


def test_libraries_that_print_tokens_or_messages_stay_quiet_even_at_debug() -> None:
    stream = _configure(level="debug")
    logging.getLogger("httpx").info("HTTP Request: POST %s", BOT_API_URL)
    logging.getLogger("telegram.Bot").debug("Calling Bot API endpoint `%s` with parameters "
                                            "`%s`", "sendMessage", {"text": "Zebra-42"})
    logging.getLogger("telegram.ext.Application").debug("Processing update %s", "Zebra-42")
    logging.getLogger("telegram.Bot").info("a line worth keeping")
    logging.getLogger("httpx").warning("a warning worth keeping")
    logging.getLogger("telegram.ext.AIORateLimiter").debug("other PTB debug is kept")
    assert [e["message"] for e in _entries(stream)] == [
        "a line worth keeping", "a warning worth keeping", "other PTB debug is kept"]


def test_no_library_line_gets_past_the_chosen_level() -> None:
    stream = _configure(level="error")
    logging.getLogger("httpx").warning("below error")
    logging.getLogger("telegram.Bot").warning("below error")
    logging.getLogger("httpx").error("shown")
    assert [e["message"] for e in _entries(stream)] == ["shown"]


# -- configuring -----------------------------------------------------------------------------

def test_configuring_twice_does_not_write_lines_twice() -> None:
    first = _configure("text")
    second = _configure("json")
    log.warning("once")
    assert first.getvalue() == ""
    assert [e["message"] for e in _entries(second)] == ["once"]
    stream = io.StringIO()
    configure_logging("json", "info", (), stream)
    configure_logging("json", "info", (), stream)
    log.warning("once")
    assert len(stream.getvalue().splitlines()) == 1


def test_level_and_format_are_read_in_any_case() -> None:
    stream = _configure(" JSON", "Warning ")
    log.info("not shown")
    log.warning("shown")
    assert [e["message"] for e in _entries(stream)] == ["shown"]


@pytest.mark.parametrize(("format", "level", "allowed"), [
    ("json", "verbose", LEVELS), ("json", "", LEVELS), ("json", "critical", LEVELS),
    ("yaml", "info", FORMATS), ("", "info", FORMATS)])
def test_an_unknown_level_or_format_is_refused_naming_what_is_allowed(
        format: str, level: str, allowed: tuple[str, ...]) -> None:
    stream = _configure("text", "info")
    with pytest.raises(ValueError) as refused:
        configure_logging(format, level, (), io.StringIO())
    assert all(value in str(refused.value) for value in allowed)
    assert repr(level if allowed is LEVELS else format) in str(refused.value)
    log.info("still configured as before")
    assert stream.getvalue() == "INFO wegweiser.test: still configured as before\n"


def test_the_allowed_values_are_the_documented_ones() -> None:
    assert FORMATS == ("text", "json")
    assert LEVELS == ("debug", "info", "warning", "error")


# -- the audit: a real conversation, logged at DEBUG -----------------------------------------

USER_ID = 987654321
FIRST_NAME = "Quirinius"
LAST_NAME = "Xylander"
USERNAME = "zebra_quirin_77"
TEXTS = ("Deutschkurs bitte Zebra-42", "Ich wohne in der Okapistraße 17")


class _PersonalFake(FakeBotApi):
    """The fake Bot API, with a newcomer whose name and username are easy to find."""

    @staticmethod
    def _user(user_id: int, language_code: str | None) -> User:
        return User(id=user_id, is_bot=False, first_name=FIRST_NAME, last_name=LAST_NAME,
                    username=USERNAME, language_code=language_code)


async def test_a_whole_telegram_conversation_logs_nothing_about_the_person(
        engine: Engine, tmp_path: Path) -> None:
    """A start link, a button, two free texts, at DEBUG: no id, name, text or token in the log.

    Every DEBUG line python-telegram-bot writes in such a conversation comes from
    telegram.ext.ExtBot and dumps whole requests and updates (text, ids, names); bot/logs.py
    holds that logger at INFO (QUIET_LOGGERS), which this test would notice being undone.
    """
    stream = _configure("json", "debug")
    api = _PersonalFake()
    await api.start()
    running = await _start(api, engine, tmp_path / "store.sqlite3")
    try:
        api.send_text("/start de_german-course", user_id=USER_ID, language_code="de")
        await api.wait_for("sendMessage", 1)
        await api.settle(0.2)
        keyboard = next(m["reply_markup"]["inline_keyboard"] for m in reversed(api.sent())
                        if m.get("reply_markup"))
        api.tap(keyboard[0][0]["callback_data"], user_id=USER_ID, language_code="de")
        await api.wait_for("answerCallbackQuery", 1)
        await api.settle(0.2)
        for text in TEXTS:
            before = len(api.sent())
            api.send_text(text, user_id=USER_ID, language_code="de")
            await api.wait_for("sendMessage", before + 1)
            await api.settle(0.2)
    finally:
        await _stop(running)
        await api.stop()

    assert all(int(m["chat_id"]) == USER_ID for m in api.sent()), "the conversation happened"
    logged = stream.getvalue()
    entries = _entries(stream)  # every line is one JSON object
    loggers = {e["logger"] for e in entries}
    assert "bot.adapters.telegram" in loggers, f"our lines are missing; loggers: {loggers}"
    # the Bot API calls were logged (by the fake's web server), with the token masked
    assert "POST /bot***/sendMessage" in logged, f"no Bot API calls logged; {loggers}"
    leaks = {what: value for what, value in {
        "user and chat id": str(USER_ID),
        "conversation id": f"telegram:{USER_ID}",
        "first name": FIRST_NAME, "last name": LAST_NAME, "username": USERNAME,
        "bot token": TOKEN, "the token's secret part": TOKEN.partition(":")[2],
        **{f"message {n}": text for n, text in enumerate(TEXTS, 1)},
        "a word of a message": "Zebra-42", "another": "Okapistraße",
    }.items() if value.lower() in logged.lower()}
    assert not leaks, "\n".join(
        f"{what} ({value!r}) in: {next(line for line in logged.splitlines() if value in line)}"
        for what, value in leaks.items())
