"""Posters and QR codes (`wegweiser share --poster/--qr`), checked the way a phone and a
printer see them: the PDF printed by headless Chromium is rasterised with pdftoppm, every QR
code is decoded back with zxing-cpp, and the text is read back with pdftotext.

The programs (chromium, poppler-utils' pdftoppm/pdftotext/pdfinfo, fontconfig's fc-list) and
the fonts (fonts-noto-core) are Debian packages that `python3 dev.py test` installs; when one
is missing these tests fail with a message saying which (they never skip).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from collections.abc import Mapping
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from bot import poster
from bot.catalogue import Catalogue
from bot.cli import main
from bot.i18n.lang import Lang
from bot.links import StartLink, parse_start

BOT = "wegweiser_md_bot"
ALL = ("de", "en", "ar", "fa", "ps", "uk", "ru", "tr", "ku", "ti", "fr")


def program(name: str, package: str) -> str:
    found = shutil.which(name)
    if not found:
        pytest.fail(f"{name} not found: the poster tests need the Debian package {package} "
                    "(`python3 dev.py test` installs it)", pytrace=False)
    return found


def run(*command: str) -> str:
    done = subprocess.run(command, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    return done.stdout.decode()


def decode_qr(png: Path) -> list[str]:
    with Image.open(png) as image:
        return [found.text for found in zxingcpp.read_barcodes(image.convert("L"))
                if found.format == zxingcpp.BarcodeFormat.QRCode]


#: Bidi controls pdftotext writes around right-to-left runs (LRM, RLM, embeddings, isolates).
_BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def plain(text: str) -> str:
    """Text as pdftotext reads it back, made comparable with the catalogue's: NFKC folds any
    Arabic presentation forms (U+FB50-U+FEFF, the shaped glyphs) back to their letters, the
    bidi controls go, and runs of white space (line breaks) become one space."""
    return " ".join(_BIDI.sub("", unicodedata.normalize("NFKC", text)).split())


def present(words: str, text: str) -> bool:
    """Whether every word of `words` appears, as a whole word, in the read-back `text`.
    Words, not the whole line: where a left-to-right name ("Wegweiser") sits in a
    right-to-left line, pdftotext puts the neighbouring punctuation at the other end of the
    run. And pdftotext reverses a right-to-left line glyph by glyph, and with it the two
    letters of the lam-alef ligature (one glyph for "لا"), so "کلاس" comes back as "کالس": a
    word with "لا" may come back with them swapped; every other letter must match."""
    found = set(re.findall(r"\w+", text))
    for word in re.findall(r"\w+", plain(words)):
        if word not in found and word.replace("لا", "ال") not in found:
            return False
    return True


def make_poster(tmp_path: Path, langs: str, *more: str) -> tuple[Path, Path]:
    for name, package in (("chromium", "chromium"), ("pdftoppm", "poppler-utils"),
                          ("fc-list", "fontconfig")):
        program(name, package)
    missing = poster.missing_fonts(langs.split(","))
    if missing:
        pytest.fail(f"font(s) {', '.join(missing)} missing: install the Debian package "
                    f"{poster.FONT_PACKAGE} (`python3 dev.py test` installs it)", pytrace=False)
    pdf = tmp_path / "poster.pdf"
    code = main(["share", "--lang", langs, "--topic", "german-course", "--telegram-bot", BOT,
                 "--poster", str(pdf), *more])
    assert code == 0
    png = pdf.with_suffix(".png")
    assert pdf.read_bytes()[:5] == b"%PDF-" and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return pdf, png


def test_a_poster_for_arabic_persian_and_ukrainian_speakers_about_german_courses(
        tmp_path: Path, catalogue: Catalogue, languages: Mapping[str, Lang], capsys) -> None:
    pdf, _ = make_poster(tmp_path, "ar,fa,uk", "--matrix-user", "@wegweiser:example.org")
    assert f"wrote {pdf}" in capsys.readouterr().out

    # A4, one page.
    info = run(program("pdfinfo", "poppler-utils"), str(pdf))
    size = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info)
    assert size, info
    assert abs(float(size[1]) - 595.28) < 1.5 and abs(float(size[2]) - 841.89) < 1.5, info
    assert re.search(r"Pages:\s+1\b", info), info

    # What a phone sees: three QR codes, each opening the bot in its language on the topic.
    page = tmp_path / "page.png"
    run(program("pdftoppm", "poppler-utils"), "-r", "100", "-png", "-singlefile", str(pdf),
        str(page.with_suffix("")))
    links = decode_qr(page)
    assert sorted(links) == sorted(f"https://t.me/{BOT}?start={lang}_german-course"
                                   for lang in ("ar", "fa", "uk"))
    for link in links:
        payload = link.split("?start=", 1)[1]
        lang = payload.split("_", 1)[0]
        assert parse_start(payload, languages, catalogue.topics) == StartLink(
            lang, "german-course")

    # What a reader sees: each language's name, the topic in it and the invitation line;
    # the Matrix words to send, left to right.
    text = plain(run(program("pdftotext", "poppler-utils"), "-enc", "UTF-8", str(pdf), "-"))
    topic = catalogue.topics["german-course"].name
    for lang in ("ar", "fa", "uk"):
        for expected in (topic[lang], languages[lang].name,
                         languages[lang]._(poster.INVITATION)):
            assert present(expected, text), (lang, expected, text)
        assert f"start {lang}_german-course" in text
    assert "Deutschkurs" in text  # the subtitle, for the German-speaking volunteer
    assert "кала" not in text  # sanity: the comparison is not vacuous
    assert not present("Курс англійської", text)


def test_every_language_of_the_bot_fits_on_one_poster(
        tmp_path: Path, catalogue: Catalogue, languages: Mapping[str, Lang]) -> None:
    """All eleven, Tigrinya (Ge'ez script) and Pashto included: the fonts cover them and the
    smaller QR codes still scan."""
    assert set(ALL) <= set(languages)
    assert all(languages[lang]._(poster.INVITATION) != poster.INVITATION
               for lang in ALL if lang != "en"), "the invitation line is translated"
    pdf, png = make_poster(tmp_path, ",".join(ALL))
    assert sorted(decode_qr(png)) == sorted(f"https://t.me/{BOT}?start={lang}_german-course"
                                            for lang in ALL)
    text = plain(run(program("pdftotext", "poppler-utils"), "-enc", "UTF-8", str(pdf), "-"))
    topic = catalogue.topics["german-course"].name
    for lang in ALL:
        assert present(topic[lang], text), (lang, topic[lang], text)
    assert "ትግርኛ" in text and "ጀርመንኛ" in text


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_a_qr_code_alone_decodes_to_the_first_link(tmp_path: Path, suffix: str,
                                                   capsys) -> None:
    target = tmp_path / f"qr{suffix}"
    assert main(["share", "--lang", "uk", "--lang", "ar", "--topic", "german-course",
                 "--telegram-bot", BOT, "--qr", str(target)]) == 0
    out = capsys.readouterr().out
    assert f"Telegram uk: https://t.me/{BOT}?start=uk_german-course" in out
    assert f"Telegram ar: https://t.me/{BOT}?start=ar_german-course" in out
    png = target
    if suffix == ".svg":
        assert target.read_text().lstrip().startswith("<?xml")
        # Rasterise the SVG as a browser shows it.
        page = tmp_path / "qr.html"
        page.write_text(f'<body style="margin:0;background:#fff"><img src="{target.name}" '
                        'style="width:400px;height:400px"></body>')
        png = tmp_path / "shot.png"
        run(program("chromium", "chromium"), "--headless", "--no-sandbox", "--disable-gpu",
            "--no-first-run", "--hide-scrollbars", f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=400,400", f"--screenshot={png}", page.as_uri())
    assert decode_qr(png) == [f"https://t.me/{BOT}?start=uk_german-course"]


def test_poster_needs_languages_and_a_pdf_name(tmp_path: Path, capsys) -> None:
    assert main(["share", "--topic", "german-course", "--telegram-bot", BOT,
                 "--poster", str(tmp_path / "p.pdf")]) == 2
    assert "--lang" in capsys.readouterr().err
    assert main(["share", "--lang", "ar,xx", "--telegram-bot", BOT]) == 2
    assert "unknown language 'xx'" in capsys.readouterr().err
    assert main(["share", "--lang", "ar", "--telegram-bot", BOT,
                 "--qr", str(tmp_path / "q.jpg")]) == 1
    assert ".svg or .png" in capsys.readouterr().err


def test_poster_html_is_a4_with_one_block_per_language(
        languages: Mapping[str, Lang]) -> None:
    blocks = [poster.poster_block(languages[lang], f"https://t.me/{BOT}?start={lang}",
                                  {"de": "Deutschkurs", "ar": "دورة"}, lang, "@w:example.org")
              for lang in ("ar", "uk")]
    page = poster.poster_html(blocks, subtitle="Deutschkurs")
    assert "size: A4" in page
    assert page.count('<section class="cell"') == 2
    assert '<section class="cell" lang="ar" dir="rtl">' in page
    assert '<section class="cell" lang="uk" dir="ltr">' in page
    assert "دورة" in page and "Deutschkurs" in page  # uk falls back (en, then de)
    assert "Matrix: @w:example.org \u2192 start ar" in page
    assert poster.layout(3) == (1, 3) and poster.layout(11) == (2, 6)
