"""Start links: payloads that preselect a language and a topic, and are safe when garbled."""

from __future__ import annotations

import pytest

from bot.engine import Engine
from bot.links import StartLink, parse_start, start_payload

from tests.dialogue import Dialogue

LANGS = {"de", "en", "ar"}
TOPICS = {"school", "school-certificate", "childcare"}


@pytest.mark.parametrize(("payload", "expected"), [
    ("ar", StartLink("ar", None)), ("ar_school", StartLink("ar", "school")),
    ("AR_school-certificate", StartLink("ar", "school-certificate")),
    ("xx_school", StartLink(None, "school")), ("ar_nope", StartLink("ar", None)),
    ("", StartLink()), (None, StartLink()), ("ar school", StartLink()), ("a" * 65, StartLink()),
    ("<script>", StartLink()), ("../../etc", StartLink()),
])
def test_parse_start(payload: str | None, expected: StartLink) -> None:
    assert parse_start(payload, LANGS, TOPICS) == expected


@pytest.mark.parametrize(("lang", "topic"), [("ar", "school"), ("de", None), (None, "childcare")])
def test_payloads_round_trip(lang: str | None, topic: str | None) -> None:
    assert parse_start(start_payload(lang, topic), LANGS, TOPICS) == StartLink(lang, topic)


def test_a_start_link_opens_in_its_language_on_its_topic(engine: Engine) -> None:
    dialogue = Dialogue(engine)
    dialogue.send_start("ar_childcare")
    assert dialogue.state.lang == "ar" and dialogue.state.topic == "childcare"
    assert dialogue.state.step == "question", "straight to the first follow-up question"
    assert "مرحباً" in dialogue.text, "the greeting comes first"


def test_a_start_link_mid_conversation_starts_a_new_search(engine: Engine) -> None:
    dialogue = Dialogue(engine)
    dialogue.tap("lang:de")
    dialogue.send("kita")
    dialogue.send_start("uk_school")
    assert dialogue.state.lang == "uk" and dialogue.state.topic == "school"
    assert dialogue.state.answers == ()


def test_a_garbled_start_link_just_greets(engine: Engine) -> None:
    dialogue = Dialogue(engine, locale_hint="fa-IR")
    dialogue.send_start("<<garbage>>")
    assert dialogue.state.step == "language" and dialogue.choices[0] == "lang:fa"
