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


DISTRICTS = {"centre", "north"}


@pytest.mark.parametrize(("lang", "topic", "district", "referral"), [
    ("ar", "school", "centre", "caritas"), (None, "childcare", None, "refugee-law-clinic-2"),
    ("de", None, "north", None), (None, None, None, "caritas"), ("ar", None, None, None),
])
def test_full_payloads_round_trip(lang, topic, district, referral) -> None:  # noqa: ANN001
    payload = start_payload(lang, topic, district, referral)
    assert parse_start(payload, LANGS, TOPICS, DISTRICTS) == StartLink(lang, topic, district,
                                                                      referral)


def test_older_payloads_and_bad_parts() -> None:
    assert parse_start("ar_school", LANGS, TOPICS, DISTRICTS) == StartLink("ar", "school")
    assert parse_start("ar_r-Caritas_nowhere", LANGS, TOPICS, DISTRICTS) == StartLink("ar")
    with pytest.raises(ValueError):
        start_payload("ar", referral="Caritas e.V.")
    with pytest.raises(ValueError):
        start_payload("ar", "school", referral="x" * 30 + "y" * 30)


def test_a_start_link_with_district_and_referral(engine: Engine) -> None:
    """The poster of an organisation in the city centre: the part-of-town question is not
    asked again, and the referral code goes, anonymously, into the statistics."""
    dialogue = Dialogue(engine)
    dialogue.send_start(start_payload("uk", "childcare", "centre", "caritas"))
    assert dialogue.state.answer("district") == "centre" and dialogue.state.referral == "caritas"
    started = next(s for s in dialogue.signals if s.kind == "started")
    assert dict(started.labels) == {"lang": "uk", "referral": "caritas"}
    dialogue.send("1")  # the age: then results, the district is known already
    assert dialogue.state.step == "results" and dialogue.offers


def test_start_words_on_platforms_without_link_payloads() -> None:
    from bot.links import start_from_text

    assert start_from_text("start ar_german-course_r-caritas") == "ar_german-course_r-caritas"
    assert start_from_text(" /Start uk ") == "uk" and start_from_text("!start fa") == "fa"
    for text in ("I want to start a German course", "start", "start <b>", "restart"):
        assert start_from_text(text) is None, text


def test_share_prints_links_that_open_the_right_conversation(engine: Engine, capsys) -> None:
    from bot.cli import main
    from bot.engine.signals import district_question
    from bot.links import matrix_link

    assert main(["share", "--lang", "fa", "--topic", "german-course", "--ref", "caritas",
                 "--telegram-bot", "@wegweiser_md_bot", "--matrix-user", "@w:example.org"]) == 0
    out = capsys.readouterr().out
    link = next(line.split()[-1] for line in out.splitlines() if line.startswith("Telegram"))
    assert link.startswith("https://t.me/wegweiser_md_bot?start=")
    payload = link.split("start=", 1)[1]
    where = district_question(engine.catalogue)
    assert parse_start(payload, engine.languages, engine.catalogue.topics,
                       [o.id for o in where.options]) == StartLink("fa", "german-course",
                                                                   None, "caritas")
    assert f"{matrix_link('@w:example.org')} (then send: start {payload})" in out
    assert main(["share", "--lang", "xx", "--telegram-bot", "b"]) == 2
    assert "unknown language 'xx'" in capsys.readouterr().err
