"""One interface language: translated strings, plural forms, dates and text direction.

Pure: built from an already loaded gettext catalogue, reads no files itself.
"""

from __future__ import annotations

import gettext
from dataclasses import dataclass
from functools import cached_property, lru_cache
from datetime import date

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.lists import format_list

from bot.i18n.bidi import anchor_text, isolate


@dataclass(frozen=True)
class Lang:
    code: str
    translations: gettext.NullTranslations

    @cached_property
    def locale(self) -> Locale:
        return Locale.parse(self.code)

    @cached_property
    def rtl(self) -> bool:
        return self.locale.character_order == "right-to-left"

    @cached_property
    def name(self) -> str:
        """The language's own name for itself ("العربية", "Deutsch")."""
        name = self.locale.get_display_name(self.code) or self.code
        return name[:1].upper() + name[1:]

    def _fill(self, text: str, params: dict[str, object]) -> str:
        if not params:
            return text
        values = {k: self.value(v) for k, v in params.items()}
        return text.format(**values)

    def value(self, value: object) -> str:
        """A value inserted into a sentence: isolated in right-to-left text (see bidi.py)."""
        text = self.date(value) if isinstance(value, date) else str(value)
        return isolate(text) if self.rtl else text

    def _(self, message: str, **params: object) -> str:
        """Translate `message` and fill its {placeholders}."""
        return self._fill(self.translations.gettext(message), params)

    def n_(self, singular: str, plural: str, n: int, **params: object) -> str:
        """Translate with the language's plural rules; `n` is available as {n}."""
        return self._fill(self.translations.ngettext(singular, plural, n), {"n": n, **params})

    def join(self, items: list[str]) -> str:
        """A list in the language's own style ("a, b und c", "a، b و c")."""
        return _format_list(tuple(items), self.code) if items else ""

    def language_name(self, code: str) -> str:
        """Another language's name in this language ("الفرنسية" for fr in Arabic)."""
        return _language_name(code, self.code)

    def date(self, day: date) -> str:
        return _format_date(day, self.code)

    def finish(self, text: str) -> str:
        """Final touch for every text sent in this language (right-to-left anchoring)."""
        return anchor_text(text) if self.rtl else text


# CLDR look-ups are slow and their answers never change: remember them.

@lru_cache(maxsize=4096)
def _format_list(items: tuple[str, ...], lang: str) -> str:
    return format_list(list(items), locale=lang)


@lru_cache(maxsize=4096)
def _format_date(day: date, lang: str) -> str:
    return format_date(day, format="long", locale=lang)


@lru_cache(maxsize=1024)
def _language_name(code: str, lang: str) -> str:
    try:
        return Locale.parse(code).get_display_name(lang) or code
    except (ValueError, UnknownLocaleError):
        return code
