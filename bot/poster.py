"""Printable posters and QR codes for start links (`wegweiser share --poster/--qr`).

A poster is one A4 page with, for each chosen language, a QR code that opens the bot in that
language on the chosen topic, the language's own name, the topic's name in it and a short
invitation line. The page is written as HTML and printed to PDF by headless Chromium (Debian
package `chromium`): its text engine (HarfBuzz + ICU) joins and orders Arabic and Persian letters
right to left, shapes Ge'ez syllables and follows the page's `lang`/`dir` attributes, which is
more than a PDF library would get right on its own. The PNG next to the PDF is the same page
rasterised by `pdftoppm` (Debian package `poppler-utils`), so both are identical.

Fonts (Debian `fonts-noto-core`): Noto Sans (Latin and Cyrillic), Noto Sans Arabic (Arabic,
Persian, Pashto, Sorani), Noto Sans Ethiopic (Tigrinya); DejaVu Sans (`fonts-dejavu-core`) is
the fallback. `missing_fonts` checks with fontconfig's `fc-list` before printing, so a poster
is never printed with empty boxes instead of letters.

The pure part (texts, layout, HTML) is `PosterBlock`, `poster_blocks` and `poster_html`;
`render_poster` and `save_qr` run the programs and write files.
"""

from __future__ import annotations

import html
import math
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import segno

from bot import chromium
from bot.engine.vocabulary import N_
from bot.i18n import Lang

# NOTE: translators: a line printed on a poster next to a QR code. Name your own language
# instead of English ("... answers you in Arabic"), as people of your language would say it.
INVITATION = N_("Scan the code: Wegweiser answers you in English.")

#: Right-to-left languages among the bot's (Lang.rtl says the same through Babel).
RTL = frozenset({"ar", "fa", "ps", "ckb", "ur", "he"})

#: Font families the poster asks for, in order; fontconfig picks per character.
FONT_STACK = ("Noto Sans", "Noto Sans Arabic", "Noto Naskh Arabic", "Noto Sans Ethiopic",
              "DejaVu Sans", "sans-serif")

#: The fonts a poster in a language needs -> the Debian package that has them.
FONTS_FOR: dict[str, str] = {"ar": "Noto Sans Arabic", "fa": "Noto Sans Arabic",
                             "ps": "Noto Sans Arabic", "ti": "Noto Sans Ethiopic"}
FONT_PACKAGE = chromium.FONT_PACKAGE
#: Latin and Cyrillic, needed by every poster.
BASE_FONT = "Noto Sans"


class PosterError(chromium.RenderError):
    """A program or font the poster needs is missing, or a program failed."""


@dataclass(frozen=True)
class PosterBlock:
    """One language on the poster: what to print next to its QR code."""

    lang: str
    link: str  # what the QR code opens
    language_name: str  # the language's own name ("العربية")
    topic_name: str | None  # the topic in that language, if the link has one
    invitation: str
    matrix_user: str | None = None  # the bot on Matrix, "@wegweiser:example.org"
    start_words: str | None = None  # what to send it there: "start ar_german-course"

    @property
    def rtl(self) -> bool:
        return self.lang in RTL


def qr_svg(data: str) -> str:
    """An inline SVG of the QR code with no fixed size (it fills its box; the quiet zone of
    four modules is part of it)."""
    return segno.make(data, error="m", micro=False).svg_inline(
        omitsize=True, border=4, dark="#000", light="#fff")


def layout(count: int) -> tuple[int, int]:
    """Columns and rows for `count` blocks on a portrait A4 page."""
    columns = 1 if count <= 4 else 2
    return columns, max(1, math.ceil(count / columns))


#: Page geometry in millimetres.
PAGE_W, PAGE_H, MARGIN, HEADER = 210, 297, 12, 26


def poster_html(blocks: Sequence[PosterBlock], title: str = "Wegweiser",
                subtitle: str | None = None) -> str:
    """The whole poster as one self-contained HTML page sized to A4."""
    if not blocks:
        raise ValueError("a poster needs at least one language")
    columns, rows = layout(len(blocks))
    cell_w = (PAGE_W - 2 * MARGIN) / columns
    cell_h = (PAGE_H - 2 * MARGIN - HEADER) / rows
    # The QR code takes most of the cell's height, but leaves room for the text beside it.
    qr = min(cell_h - 8, cell_w * (0.42 if columns == 1 else 0.5), 80)
    dense = columns > 1 or rows > 4
    # Two columns leave about 50 mm beside each QR code: smaller type, and no printed link
    # (the QR code carries it).
    big = 6 if dense else min(12, cell_h / 5)
    small = 3.0 if dense else max(3.6, big * 0.45)
    fonts = ", ".join(f'"{f}"' if " " in f else f for f in FONT_STACK)
    cells = []
    for block in blocks:
        direction = "rtl" if block.rtl else "ltr"
        topic = (f'<div class="topic">{html.escape(block.topic_name)}</div>'
                 if block.topic_name else "")
        hint = ""
        if block.matrix_user:
            # Dense: the Matrix id once in the header, only the words to send here.
            who = "Matrix" if dense else f"Matrix: {block.matrix_user}"
            words = f" \u2192 {block.start_words}" if block.start_words else ""
            hint = f'<div class="hint" dir="ltr">{html.escape(who + words)}</div>'
        cells.append(
            f'<section class="cell" lang="{html.escape(block.lang)}" dir="{direction}">'
            f'<div class="qr">{qr_svg(block.link)}</div>'
            f'<div class="text"><div class="name">{html.escape(block.language_name)}</div>'
            f'{topic}<div class="invite">{html.escape(block.invitation)}</div>'
            + ("" if dense else f'<div class="link" dir="ltr">{html.escape(block.link)}</div>')
            + f'{hint}</div>'
            f"</section>")
    users = sorted({b.matrix_user for b in blocks if b.matrix_user})
    if dense and users:
        subtitle = " \u00b7 ".join([*([subtitle] if subtitle else []),
                                     *(f"Matrix: {user}" for user in users)])
    sub = f'<div class="subtitle">{html.escape(subtitle)}</div>' if subtitle else ""
    return f"""<!DOCTYPE html>
<html lang="de"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
@page {{ size: A4 portrait; margin: 0; }}
* {{ box-sizing: border-box; margin: 0; padding: 0; }}
html, body {{ width: {PAGE_W}mm; height: {PAGE_H}mm; background: #fff; color: #111;
  font-family: {fonts}; -webkit-print-color-adjust: exact; print-color-adjust: exact; }}
.page {{ width: {PAGE_W}mm; height: {PAGE_H}mm; padding: {MARGIN}mm; overflow: hidden; }}
header {{ height: {HEADER}mm; border-bottom: 0.8mm solid #1d5f8a; }}
.title {{ font-size: 15mm; font-weight: bold; color: #1d5f8a; line-height: 1.1; }}
.subtitle {{ font-size: 5.5mm; color: #333; }}
.grid {{ display: grid; grid-template-columns: repeat({columns}, {cell_w:.2f}mm);
  grid-template-rows: repeat({rows}, {cell_h:.2f}mm); }}
.cell {{ display: flex; align-items: center; gap: 5mm; padding: 3mm 2mm;
  border-bottom: 0.3mm solid #bbb; overflow: hidden; }}
.qr {{ flex: none; width: {qr:.2f}mm; height: {qr:.2f}mm; }}
.qr svg {{ width: 100%; height: 100%; display: block; }}
.text {{ flex: 1; min-width: 0; max-height: 100%; overflow: hidden; }}
.name {{ font-size: {big:.2f}mm; font-weight: bold; line-height: 1.3; }}
.topic {{ font-size: {big * 0.8:.2f}mm; color: #1d5f8a; line-height: 1.3; }}
.invite {{ font-size: {small:.2f}mm; line-height: 1.45; margin-top: 1mm; }}
.link, .hint {{ font-size: 2.8mm; color: #444; margin-top: 1.5mm; overflow-wrap: anywhere;
  unicode-bidi: isolate; }}
.hint {{ font-size: {2.7 if dense else 3.4}mm; color: #111; white-space: nowrap; }}
</style></head>
<body><div class="page"><header><div class="title">{html.escape(title)}</div>{sub}</header>
<div class="grid">{"".join(cells)}</div></div></body></html>
"""


# --- I/O: fonts, Chromium, pdftoppm, files ----------------------------------------------------

def missing_fonts(langs: Iterable[str]) -> list[str]:
    """The font families a poster in `langs` needs that fontconfig does not know."""
    return chromium.missing_fonts(
        [BASE_FONT, *sorted({FONTS_FOR[lang] for lang in langs if lang in FONTS_FOR})])


def save_qr(data: str, path: Path, scale: int = 10) -> None:
    """One QR code alone, as SVG or PNG (by the file's suffix)."""
    if path.suffix.lower() not in {".svg", ".png"}:
        raise ValueError(f"a QR code is written as .svg or .png, not {path.name!r}")
    segno.make(data, error="m", micro=False).save(str(path), scale=scale, border=4)


def print_pdf(page_html: str, pdf: Path, timeout: float = 120) -> None:
    """Print an HTML page to `pdf` with headless Chromium."""
    printed = chromium.render(
        page_html, "poster.pdf",
        lambda out: ["--no-pdf-header-footer", "--print-to-pdf-no-header",
                     f"--print-to-pdf={out}"], timeout)
    pdf.parent.mkdir(parents=True, exist_ok=True)
    pdf.write_bytes(printed)


def pdf_to_png(pdf: Path, png: Path, dpi: int = 300) -> None:
    """The first page of `pdf` as a PNG (pdftoppm, poppler-utils)."""
    pdftoppm = chromium.program("pdftoppm", package="poppler-utils")
    stem = png.with_suffix("")
    done = subprocess.run([pdftoppm, "-png", "-r", str(dpi), "-singlefile", str(pdf),
                           str(stem)], capture_output=True, timeout=120)
    made = stem.with_suffix(".png")
    if done.returncode != 0 or not made.exists():
        raise PosterError("pdftoppm could not rasterise the poster: "
                          + done.stderr.decode(errors="replace")[-2000:])
    if made != png:
        made.replace(png)


def render_poster(blocks: Sequence[PosterBlock], pdf: Path, title: str = "Wegweiser",
                  subtitle: str | None = None, dpi: int = 300) -> Path:
    """Write the poster as `pdf` and as a PNG next to it; return the PNG's path."""
    if pdf.suffix.lower() != ".pdf":
        raise ValueError(f"the poster is written as a .pdf file, not {pdf.name!r}")
    missing = missing_fonts(block.lang for block in blocks)
    if missing:
        raise PosterError(f"font(s) {', '.join(missing)} missing: install the Debian package "
                          f"{FONT_PACKAGE} (`python3 dev.py test` installs it)")
    print_pdf(poster_html(blocks, title, subtitle), pdf)
    png = pdf.with_suffix(".png")
    pdf_to_png(pdf, png, dpi)
    return png


def poster_block(t: Lang, link: str, topic_names: dict[str, str] | None,
                 payload: str = "", matrix_user: str | None = None) -> PosterBlock:
    """The block for one language: its own name, the topic's name in it (`topic_names` as in
    the catalogue, falling back to English, then German), the invitation line and, for
    Matrix, the words to send."""
    from bot.catalogue.model import pick

    lang = t.code
    return PosterBlock(lang, link, t.name,
                       pick(topic_names, lang) if topic_names else None,
                       t._(INVITATION), matrix_user or None,
                       f"start {payload}" if matrix_user and payload else None)
