"""The counter card as a picture (bot/adapters/card_image.py) and on Telegram: the engine's
real counter card, its two blocks drawn side by side as a PNG.

Needs Debian `chromium` and `fonts-noto-core` (as the posters do): when they are missing these
tests fail with the package to install, they are never skipped."""

from __future__ import annotations

import html
import io

import pytest
from PIL import Image, ImageChops

from bot.adapters.card_image import WIDTH, missing_fonts, render_card
from bot.catalogue.model import pick
from bot.engine import Engine
from bot.engine.engine import COUNTER_SEPARATOR
from bot.messages import CounterCard, reply_from_json, reply_to_json
from tests.dialogue import Dialogue, plain
from tests.test_telegram import Running, telegram  # noqa: F401  (the running bot)

PNG = b"\x89PNG\r\n\x1a\n"


GERMAN_HEADING = "Für das Büro:"


def _counter(engine: Engine, lang: str, number: int = 1) -> tuple[CounterCard, str]:
    """The counter card of the `number`-th childcare offer, and that offer's id."""
    dialogue = Dialogue(engine)
    dialogue.tap(f"lang:{lang}")
    dialogue.tap("topic:childcare")
    dialogue.tap("a:age:child-0-5")
    dialogue.tap("a:district:centre")
    offer = dialogue.offers[number - 1]
    dialogue.send(f"counter {number}")
    card = dialogue.last[0]
    assert isinstance(card, CounterCard)
    return card, offer


def _title(engine: Engine, offer_id: str, lang: str) -> str:
    return pick(engine.catalogue.offer(offer_id).title, lang)


def _ink_columns(image: Image.Image, left: int, right: int) -> list[int]:
    """The x positions in [left, right) with any non-white pixel."""
    gray = image.convert("L").crop((left, 0, right, image.height))
    return [left + x for x in range(gray.width)
            if gray.crop((x, 0, x + 1, gray.height)).getextrema()[0] < 128]


def test_the_fonts_are_installed() -> None:
    missing = missing_fonts(["Deutsch", "العربية", "ትግርኛ"])
    assert not missing, (f"fonts {missing} missing: install the Debian package "
                         "fonts-noto-core (and chromium) to draw counter cards")


# -- the engine's counter card ----------------------------------------------------------------

@pytest.mark.parametrize("lang", ["ar", "uk"])
def test_the_engines_counter_card_has_both_blocks(engine: Engine, lang: str) -> None:
    card, offer = _counter(engine, lang)
    assert (card.lang, card.language_name) == (lang, engine.languages[lang].name)
    assert _title(engine, offer, lang) in plain(card.user[1])
    assert plain(card.german[0]) == GERMAN_HEADING
    assert card.german[1] == _title(engine, offer, "de")
    assert any(line.startswith("Anbieter:") for line in card.german)
    assert card.text == "\n".join([*card.user, COUNTER_SEPARATOR, *card.german]), (
        "platforms that show text get both blocks, one under the other")
    assert reply_from_json(reply_to_json(card)) == card, "it survives the outbox"


def test_a_german_counter_card_has_one_block(engine: Engine) -> None:
    german_card, _ = _counter(engine, "de")  # nothing to put side by side
    assert german_card.german == () and COUNTER_SEPARATOR not in german_card.text


# -- the picture -------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["ar", "uk"])
def test_the_picture_has_both_languages_side_by_side(engine: Engine, lang: str) -> None:
    card, _ = _counter(engine, lang)
    png = render_card(card.user, card.german, rtl=card.rtl, user_name=card.language_name,
                      lang=card.lang)
    assert png.startswith(PNG)
    with Image.open(io.BytesIO(png)) as image:
        image.load()
    assert image.width == WIDTH and 400 < image.height < 4000
    half = WIDTH // 2
    left, right = _ink_columns(image, 0, half - 8), _ink_columns(image, half + 8, WIDTH)
    assert len(left) > 200 and len(right) > 200, "a half of the card is blank"
    if card.rtl:  # the Arabic block hugs the middle line, right-aligned
        assert half - 60 < max(left) < half
    else:  # the Ukrainian block starts at the left margin, as the German one at the middle
        assert min(left) < 60
    assert half < min(right) < half + 60


def test_arabic_letters_are_joined(engine: Engine) -> None:
    """Shaped Arabic differs from the same letters kept apart by ZERO WIDTH NON-JOINERs;
    without shaping both would show the same isolated letters."""
    german = [GERMAN_HEADING, "Beratung", "Wo: Breiter Weg 1"]
    word = "الاستشارة"
    joined = render_card(["", word], german, rtl=True, user_name="العربية", lang="ar")
    apart = render_card(["", "\u200c".join(word)], german, rtl=True, user_name="العربية",
                        lang="ar")
    with Image.open(io.BytesIO(joined)) as a, Image.open(io.BytesIO(apart)) as b:
        left = (0, 0, WIDTH // 2, min(a.height, b.height))
        a_half, b_half = a.convert("L").crop(left), b.convert("L").crop(left)
        assert ImageChops.difference(a_half, b_half).getbbox() is not None
        # joined letters are narrower than the same letters in their isolated forms
        assert len(_ink_columns(a, 0, WIDTH // 2)) < len(_ink_columns(b, 0, WIDTH // 2))


# -- on Telegram -----------------------------------------------------------------------------

async def test_the_counter_card_comes_as_text_and_as_a_picture(telegram: Running,  # noqa: F811
                                                                engine: Engine) -> None:
    api = telegram.api
    api.send_text("/start ar_childcare")
    await api.wait_for("sendMessage", 2)
    api.tap("a:age:child-0-5")
    await api.wait_for("answerCallbackQuery", 1)
    await api.settle()
    api.tap("a:district:centre")
    await api.wait_for("answerCallbackQuery", 2)
    await api.settle()
    before = len(api.sent())
    api.send_text("الشباك 1")  # "counter 1" in Arabic
    [photo] = await api.wait_for("sendPhoto", 1, timeout=60)
    texts = [plain(html.unescape(m["text"])) for m in api.sent()[before:]]
    card = next(text for text in texts if GERMAN_HEADING in text)
    assert "الجهة المقدمة:" in card and "Anbieter:" in card  # "Provider:" in both languages
    assert int(photo["chat_id"]) == 42
    assert photo["photo"]["body"].startswith(PNG)
    with Image.open(io.BytesIO(photo["photo"]["body"])) as image:
        assert image.width == WIDTH
    german_title = card.split(GERMAN_HEADING, 1)[1].strip().split("\n")[0]
    assert photo["caption"] == german_title
    # the photo follows the card's text, and nothing is sent twice
    methods = [c.method for c in api.calls if c.method in {"sendMessage", "sendPhoto"}]
    card_index = before + texts.index(card)
    assert methods.index("sendPhoto") == card_index + 1
    await api.settle()
    assert len(api.sent("sendPhoto")) == 1


def test_chromium_does_not_inherit_the_bots_secrets(monkeypatch) -> None:
    from bot.chromium import _child_environment

    monkeypatch.setenv("WEGWEISER_TELEGRAM_TOKEN", "123456:secret-token-value")
    monkeypatch.setenv("LANG", "C.UTF-8")
    env = _child_environment("/tmp/x")
    assert not [name for name in env if name.startswith("WEGWEISER_")]
    assert env["HOME"] == "/tmp/x" and env["LANG"] == "C.UTF-8"
