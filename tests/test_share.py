"""Sharing the bot and taking an offer to an office: the "share" command, start links in the
results (a forwarded page opens the same search) and the bilingual counter card."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from bot.catalogue import Catalogue
from bot.catalogue.model import pick
from bot.engine import Engine
from bot.engine.vocabulary import COMMAND_DESCRIPTIONS, COMMANDS, COUNTER, SHARE
from bot.i18n import Lang
from bot.i18n.bidi import RLM
from bot.links import parse_start
from bot.messages import Choices, Inbound, Offers, Text

from tests.conftest import NOW
from tests.dialogue import Dialogue, plain

BOT = "https://t.me/wegweiser_bot?start="
ALL = ["en", "de", "ar", "fa", "ps", "uk", "ru", "tr", "ku", "ti", "fr"]


@pytest.fixture(scope="module")
def sharing(catalogue: Catalogue, languages: Mapping[str, Lang]) -> Engine:
    return Engine(catalogue, languages, share_link=lambda payload: BOT + payload)


def _parse(engine: Engine, link: str):
    assert link.startswith(BOT)
    district = [o.id for o in engine.catalogue.question("district").options]
    return parse_start(link.removeprefix(BOT), engine.languages, engine.catalogue.topics,
                       district)


def _links(dialogue: Dialogue) -> list[str]:
    return [word for word in dialogue.text.split() if word.startswith(BOT)]


def _kita_results(engine: Engine, lang: str, district: str = "centre") -> Dialogue:
    dialogue = Dialogue(engine)
    dialogue.tap(f"lang:{lang}")
    dialogue.tap("topic:childcare")
    dialogue.tap("a:age:child-0-5")
    dialogue.tap(f"a:district:{district}")
    assert dialogue.state.step == "results" and len(dialogue.offers) > 1
    return dialogue


# -- share --------------------------------------------------------------------------------

def test_share_without_a_link_invites_and_asks_again(engine: Engine) -> None:
    dialogue = Dialogue(engine)
    dialogue.tap("lang:en")
    before = dialogue.state
    dialogue.send("share")
    texts = [o for o in dialogue.last if isinstance(o, Text)]
    assert len(texts) == 2 and "Forward the next message" in texts[0].text
    assert "Do you know Wegweiser?" in texts[1].text and "http" not in texts[1].text
    assert dialogue.state == before and "What are you looking for?" in dialogue.text


def test_share_links_to_the_language_and_the_topic(sharing: Engine) -> None:
    dialogue = Dialogue(sharing)
    dialogue.tap("lang:ar")
    dialogue.send("/share")
    link = _parse(sharing, _links(dialogue)[0])
    assert (link.lang, link.topic, link.district, link.referral) == ("ar", None, None, None)
    dialogue.tap("topic:childcare")
    dialogue.send("مشاركة")  # the word in Arabic
    invitation = [o for o in dialogue.last if isinstance(o, Text)][-1]
    assert invitation.rtl and "Wegweiser" in invitation.text
    [link_text] = _links(dialogue)
    assert link_text in plain(invitation.text)  # the link is in the message to forward
    link = _parse(sharing, link_text)
    assert (link.lang, link.topic) == ("ar", "childcare")
    assert dialogue.state.step == "question"  # the question is asked again


def test_share_before_the_language_is_chosen(sharing: Engine) -> None:
    dialogue = Dialogue(sharing, locale_hint="uk-UA")
    dialogue.send("share")
    assert "Wegweiser" in dialogue.text and dialogue.state.step == "language"
    assert _parse(sharing, _links(dialogue)[0]).lang == "uk"


# -- results --------------------------------------------------------------------------------

def test_results_carry_the_start_link_of_the_search(sharing: Engine) -> None:
    dialogue = _kita_results(sharing, "ar")
    [offers] = [o for o in dialogue.last if isinstance(o, Offers)]
    assert "Wegweiser" in plain(offers.intro)
    [link_text] = _links(dialogue)
    assert link_text in plain(offers.intro)
    link = _parse(sharing, link_text)
    assert (link.lang, link.topic, link.district, link.referral) == (
        "ar", "childcare", "centre", None)
    # following the forwarded link opens the same search (the age is asked again: a link
    # carries language, topic and part of town only)
    other = Dialogue(sharing)
    other.send_start(link_text.removeprefix(BOT))
    assert (other.state.lang, other.state.topic) == ("ar", "childcare")
    assert other.state.answer("district") == "centre"


def test_every_page_carries_the_link(sharing: Engine) -> None:
    dialogue = Dialogue(sharing)
    dialogue.tap("lang:de")
    dialogue.send("Deutschkurs")
    dialogue.send("35")
    dialogue.send("egal")
    assert "Diese Suche in Wegweiser öffnen" in dialogue.text
    first = _links(dialogue)
    dialogue.send("mehr")
    assert "Weitere Angebote" in dialogue.text and _links(dialogue) == first
    assert _parse(sharing, first[0]).district == "any"  # the search exactly as it was


def test_no_link_without_a_share_link(engine: Engine) -> None:
    dialogue = _kita_results(engine, "en")
    assert "http" not in plain(
        next(o for o in dialogue.last if isinstance(o, Offers)).intro)
    assert "Open this search" not in dialogue.text


# -- the counter card ---------------------------------------------------------------------

def _offer_title(engine: Engine, offer_id: str, lang: str) -> str:
    return pick(engine.catalogue.offer(offer_id).title, lang)


def test_the_counter_card_has_both_languages(engine: Engine) -> None:
    dialogue = _kita_results(engine, "ar")
    shown = dialogue.offers
    assert "counter" in dialogue.choices
    before = dialogue.state
    dialogue.send("الشباك 2")
    card = dialogue.last[0]
    assert isinstance(card, Text) and card.rtl
    text = plain(card.text)
    arabic, german = text.split("\u2014" * 12)
    assert _offer_title(engine, shown[1], "ar") in arabic
    assert "الجهة المقدمة:" in arabic  # "Provider:" in Arabic
    assert "Für das Büro:" in german and _offer_title(engine, shown[1], "de") in german
    assert "Anbieter:" in german
    # the German lines are left-to-right: not anchored as Arabic
    assert not any(line.startswith(RLM) for line in card.text.split("\u2014")[-1].split("\n"))
    assert dialogue.state == before and dialogue.choices[-1] == "counter"


def test_counter_with_a_number_in_a_latin_word_and_arabic_digits(engine: Engine) -> None:
    dialogue = _kita_results(engine, "ar")
    third = dialogue.offers[2]
    dialogue.send("/counter ٣")
    assert _offer_title(engine, third, "ar") in dialogue.text
    assert _offer_title(engine, third, "de") in dialogue.text


def test_the_button_asks_which_offer_when_the_page_has_several(engine: Engine) -> None:
    dialogue = _kita_results(engine, "en")
    shown = dialogue.offers
    dialogue.tap("counter")
    assert "Which offer do you want to show" in dialogue.text
    assert "\u201ccounter 2\u201d" in dialogue.text
    for n, offer_id in enumerate(shown, 1):
        assert f"{n}. {_offer_title(engine, offer_id, 'en')}" in dialogue.text
    dialogue.send(f"counter {len(shown) + 1}")  # no such offer on the page: ask again
    assert "Which offer" in dialogue.text
    dialogue.send("show at the counter 1")
    assert "Show this message to the staff at the counter:" in dialogue.text
    assert _offer_title(engine, shown[0], "de") in dialogue.text


def test_the_only_offer_of_a_page_is_shown_at_once(engine: Engine) -> None:
    dialogue = Dialogue(engine)
    dialogue.tap("lang:fr")
    dialogue.send("Deutschkurs")
    dialogue.send("35")
    dialogue.send("egal")
    while "more" in dialogue.choices:
        dialogue.tap("more")
    last_page = dialogue.offers
    assert len(last_page) == 1
    dialogue.tap("counter")
    assert _offer_title(engine, last_page[0], "fr") in dialogue.text
    assert _offer_title(engine, last_page[0], "de") in dialogue.text


def test_in_german_the_card_has_one_block(engine: Engine) -> None:
    dialogue = _kita_results(engine, "de")
    shown = dialogue.offers
    dialogue.send("schalter 1")
    card = plain(dialogue.last[0].text)
    assert card.count(_offer_title(engine, shown[0], "de")) == 1
    assert "Für das Büro" not in card and "\u2014" * 12 not in card


def test_counter_outside_the_results_says_how_it_works(engine: Engine) -> None:
    dialogue = Dialogue(engine)
    dialogue.tap("lang:en")
    before = dialogue.state
    dialogue.send("counter")
    assert "Once I have shown you offers" in dialogue.text and "counter" in dialogue.text
    assert dialogue.state == before
    dialogue.send("counter 2")
    assert "Once I have shown you offers" in dialogue.text
    first = Dialogue(engine)
    first.send("counter")  # before anything else: explained, then the language asked
    assert "Once I have shown you offers" in first.text and first.state.step == "language"


def test_no_counter_button_before_offers_were_shown(engine: Engine) -> None:
    dialogue = _kita_results(engine, "en")
    nothing = dialogue.state.evolve(shown=0)  # e.g. no offer fitted the answers
    state, outputs = engine.step(nothing, Inbound(choice="counter"), NOW)
    assert state == nothing
    assert "counter" not in [c.id for o in outputs if isinstance(o, Choices) for c in o.options]


# -- every language -------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ALL)
def test_the_words_work_in_every_language(engine: Engine, lang: str) -> None:
    t = engine.languages[lang]
    share = engine.vocabulary.first_word(t, SHARE)
    counter = engine.vocabulary.first_word(t, COUNTER)
    assert engine.vocabulary.command(share) == "share"
    assert engine.vocabulary.command(counter) == "counter"
    assert COMMANDS["share"] == SHARE and COMMAND_DESCRIPTIONS["share"]
    dialogue = _kita_results(engine, lang)
    first = dialogue.offers[0]
    dialogue.send(f"{counter} 1")
    assert _offer_title(engine, first, lang) in dialogue.text
    assert _offer_title(engine, first, "de") in dialogue.text
    dialogue.send(share)
    assert "Wegweiser" in dialogue.text and dialogue.state.step == "results"


def test_the_share_link_comes_from_the_bots_username_and_survives_a_reload(
        content_copy, languages) -> None:  # noqa: ANN001
    import asyncio

    from bot.catalogue import load_catalogue
    from bot.cli import _share_link
    from bot.reload import Reloader
    from bot.service import Service
    from bot.store import MemoryStore

    from tests.conftest import LOCALES

    assert _share_link({}) is None
    link = _share_link({"WEGWEISER_TELEGRAM_BOT": "@wegweiser_md_bot"})
    assert link is not None and link("ar_school") == "https://t.me/wegweiser_md_bot?start=ar_school"
    service = Service(Engine(load_catalogue(content_copy), languages, share_link=link),
                      MemoryStore())
    assert asyncio.run(Reloader(service, content_copy, LOCALES).reload()).ok
    assert service.engine.share_link is link
