"""Languages: negotiation, plural forms, dates, right-to-left text next to Latin fragments."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.engine import Engine
from bot.i18n import anchor_line, isolate, negotiate
from bot.i18n.bidi import FSI, PDI, RLM, first_strong
from bot.messages import Offers

from tests.conftest import LOCALES
from tests.dialogue import Dialogue

AVAILABLE = {"de", "en", "ar"}


@pytest.mark.parametrize(("hint", "expected"), [
    (None, None), ("", None), ("ar", "ar"), ("ar-SY", "ar"), ("uk-UA", None), ("pt-br", None),
    ("xx", None), ("de_DE", "de"), ("EN-us", "en"), ("zh-Hant-TW", None), ("not a locale!", None),
    ("a" * 500, None),
])
def test_negotiate(hint: str | None, expected: str | None) -> None:
    assert negotiate(hint, AVAILABLE) == expected


def test_negotiate_maps_dari_to_persian() -> None:
    assert negotiate("prs-AF", {"fa", "en"}) == "fa"
    assert negotiate("fa-IR", {"fa", "en"}) == "fa"


def test_the_three_languages_of_this_release_are_complete(languages) -> None:
    assert {"de", "en", "ar"} <= set(languages)
    template = read_po((LOCALES / "messages.pot").open("rb"))
    wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id}
    for code in ("de", "ar"):
        catalog = read_po((LOCALES / code / "LC_MESSAGES" / "messages.po").open("rb"))
        translated = {m.id if isinstance(m.id, str) else m.id[0]
                      for m in catalog if m.id and all(m.string if isinstance(m.string, tuple)
                                                       else (m.string,))}
        assert wanted <= translated, f"{code}: untranslated {sorted(wanted - translated)}"


def test_template_is_up_to_date_with_the_code() -> None:
    """Every string the code marks is in locales/messages.pot (see docs/translating.md)."""
    extracted = {
        message if isinstance(message, str) else message[0]
        for _, _, message, _, _ in extract_from_dir(
            Path(__file__).parent.parent / "bot", method_map=[("**.py", "python")],
            keywords={"_": None, "n_": (1, 2), "N_": None})
    }
    template = read_po((LOCALES / "messages.pot").open("rb"))
    in_template = {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id}
    assert extracted == in_template, "run the extract and update commands"


@pytest.mark.parametrize(("n", "expected"), [
    (1, "عرضاً واحداً"), (2, "عرضين"), (3, "3 عروض"), (11, "11 عرضاً"), (100, "100 عرض"),
])
def test_arabic_plural_forms(languages, n: int, expected: str) -> None:
    ar = languages["ar"]
    text = ar.n_("I found {n} offer for \u201c{topic}\u201d:",
                 "I found {n} offers for \u201c{topic}\u201d:", n, topic="Kita")
    assert expected in text.replace(FSI, "").replace(PDI, "")


def test_german_plural_forms(languages) -> None:
    de = languages["de"]
    one = de.n_("Show {n} more offer", "Show {n} more offers", 1)
    many = de.n_("Show {n} more offer", "Show {n} more offers", 4)
    assert one != many and "4" in many


def test_dates_in_the_users_language(languages) -> None:
    day = date(2027, 3, 1)
    assert languages["de"].date(day) == "1. März 2027"
    assert languages["en"].date(day) == "March 1, 2027"
    assert "2027" in languages["ar"].date(day) and "مارس" in languages["ar"].date(day)


def test_bidi_primitives() -> None:
    assert isolate("VHS") == f"{FSI}VHS{PDI}"
    assert first_strong(f"{FSI}VHS{PDI} دورة") == "R", "isolated text does not set direction"
    assert anchor_line("VHS Magdeburg: دورة") == RLM + "VHS Magdeburg: دورة"
    assert anchor_line("دورة VHS") == "دورة VHS"


def test_arabic_offer_cards_keep_latin_fragments_isolated(engine: Engine) -> None:
    dialogue = Dialogue(engine)
    dialogue.tap("lang:ar")
    dialogue.send("كيتا")
    dialogue.send("1")
    dialogue.send("لا يهم")
    cards = [c for o in dialogue.last if isinstance(o, Offers) for c in o.cards]
    assert cards and all(o.rtl for o in dialogue.last)
    for card in cards:
        for line in (card.why, *card.lines):
            # every line displays right-to-left, whatever Latin name or URL it contains
            assert first_strong(line) == "R" or line.startswith(RLM), line
        if card.url:
            url_line = next(line for line in card.lines if card.url in line)
            assert f"{FSI}{card.url}{PDI}" in url_line, "a URL must keep its order in RTL"


def test_english_text_has_no_bidi_controls(engine: Engine) -> None:
    dialogue = Dialogue(engine)
    dialogue.tap("lang:en")
    dialogue.send("kita")
    joined = "".join(getattr(o, "text", "") for o in dialogue.last)
    assert FSI not in joined and RLM not in joined
