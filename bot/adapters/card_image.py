"""The counter card as a picture: the offer in the person's language and in German, side by
side, for office staff to read off a phone (or print).

The engine answers "counter N" with a `CounterCard` (bot/messages.py): the block in the
person's language and the German block headed "Für das Büro:". `render_card` draws them as a
PNG, 1080 px wide: the person's language on the left (right-aligned and right to left for
Arabic, Persian, Pashto), German on the right.

Why headless Chromium and not Pillow: Pillow's text layout (with libraqm) shapes and orders
one run of text in ONE font, and no Noto font has both Arabic and Latin letters (Noto Sans
Arabic has no Latin, Noto Sans Ethiopic neither), while every Arabic card line quotes Latin
names, street addresses, phone numbers and links. Chromium (HarfBuzz + ICU, fontconfig
fallback per character) joins and orders such lines correctly and wraps long ones, exactly
as for the posters (bot/poster.py): Debian packages `chromium` and `fonts-noto-core`. Pillow
only trims the screenshot to the card's height.

`card_html` is pure; `render_card` runs programs (about a second) and raises `CardImageError`
when a program or font is missing.
"""

from __future__ import annotations

import html
import io
import unicodedata
from collections.abc import Sequence

from bot import chromium

#: The German block's heading on the picture.
GERMAN_NAME = "Deutsch"

#: Width of the picture in pixels (a phone screen at full resolution; prints as A5/A4).
WIDTH = 1080
#: The height Chromium draws before the picture is trimmed to the card.
_CANVAS_HEIGHT = 6000
_MARGIN = 48

#: Font families fontconfig must know, and the Debian package that has them.
BASE_FONT = "Noto Sans"
ARABIC_FONT = "Noto Sans Arabic"
ETHIOPIC_FONT = "Noto Sans Ethiopic"
FONT_PACKAGE = chromium.FONT_PACKAGE
FONT_STACK = (BASE_FONT, ARABIC_FONT, ETHIOPIC_FONT, "DejaVu Sans", "sans-serif")



class CardImageError(chromium.RenderError):
    """A program or font the picture needs is missing, or Chromium failed."""


def _script_fonts(lines: Sequence[str]) -> set[str]:
    """The Noto families these lines need besides Noto Sans."""
    needed: set[str] = set()
    for ch in "".join(lines):
        name = unicodedata.name(ch, "")
        if name.startswith("ARABIC"):
            needed.add(ARABIC_FONT)
        elif name.startswith("ETHIOPIC"):
            needed.add(ETHIOPIC_FONT)
    return needed


def _block(lines: Sequence[str], name: str, rtl: bool, lang: str | None) -> str:
    direction = "rtl" if rtl else "ltr"
    lang_attr = f' lang="{html.escape(lang)}"' if lang else ""
    intro, title, facts = (lines[0] if lines else ""), (lines[1] if len(lines) > 1 else ""), \
        lines[2:]
    rows = "".join(f'<div class="fact">{html.escape(line)}</div>' for line in facts)
    return (f'<section dir="{direction}"{lang_attr}>'
            f'<div class="name">{html.escape(name)}</div>'
            f'<div class="intro">{html.escape(intro)}</div>'
            f'<div class="title">{html.escape(title)}</div>{rows}</section>')


def card_html(user_lines: Sequence[str], german_lines: Sequence[str], rtl: bool,
              user_name: str = "", lang: str | None = None) -> str:
    """The card as an HTML page: the person's block left, the German block right."""
    fonts = ", ".join(f'"{family}"' if " " in family else family for family in FONT_STACK)
    return f"""<!doctype html>
<html lang="de" dir="ltr"><head><meta charset="utf-8"><style>
html, body {{ margin: 0; padding: 0; background: #fff; }}
body {{ width: {WIDTH}px; font-family: {fonts}; color: #111; }}
main {{ display: grid; grid-template-columns: 1fr 1fr; gap: 0; padding: {_MARGIN}px 0; }}
section {{ padding: 0 36px; font-size: 30px; line-height: 1.4; overflow-wrap: anywhere;
  text-align: start; }}
section + section {{ border-left: 3px solid #1d5f8a; }}
.name {{ font-size: 40px; font-weight: bold; color: #1d5f8a; margin-bottom: 12px; }}
.intro {{ font-size: 26px; color: #444; margin-bottom: 16px; }}
.title {{ font-size: 34px; font-weight: bold; margin-bottom: 16px; }}
.fact {{ margin-bottom: 12px; white-space: pre-wrap; }}
</style></head>
<body><main>{_block(user_lines, user_name, rtl, lang)}{_block(german_lines, GERMAN_NAME,
                                                                  False, "de")}</main>
</body></html>
"""


# --- I/O: fonts, Chromium, trimming ---------------------------------------------------------

def missing_fonts(lines: Sequence[str]) -> list[str]:
    """The font families these lines need that fontconfig does not know."""
    return chromium.missing_fonts([BASE_FONT, *sorted(_script_fonts(lines))])


def _screenshot(page_html: str, timeout: float) -> bytes:
    return chromium.render(
        page_html, "card.png",
        lambda out: ["--force-device-scale-factor=1", f"--window-size={WIDTH},{_CANVAS_HEIGHT}",
                     f"--screenshot={out}"], timeout)


def _trim(png: bytes) -> bytes:
    """The screenshot cut below the last ink, with a white margin."""
    from PIL import Image, ImageChops

    with Image.open(io.BytesIO(png)) as shot:
        image = shot.convert("RGB")
    box = ImageChops.difference(image, Image.new("RGB", image.size, "white")).getbbox()
    if box is None:
        raise CardImageError("chromium drew an empty card")
    bottom = min(image.height, box[3] + _MARGIN)
    out = io.BytesIO()
    image.crop((0, 0, image.width, bottom)).save(out, "PNG", optimize=True)
    return out.getvalue()


def render_card(user_lines: Sequence[str], german_lines: Sequence[str], rtl: bool,
                user_name: str = "", lang: str | None = None, timeout: float = 60) -> bytes:
    """The card as PNG bytes, WIDTH px wide and as high as its text."""
    missing = missing_fonts([*user_lines, *german_lines])
    if missing:
        raise CardImageError(f"font(s) {', '.join(missing)} missing: install the Debian "
                             f"package {FONT_PACKAGE}")
    return _trim(_screenshot(card_html(user_lines, german_lines, rtl, user_name, lang),
                             timeout))
