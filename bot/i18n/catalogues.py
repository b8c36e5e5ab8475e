"""Load the interface translations from locales/<lang>/LC_MESSAGES/messages.po.

The .po files are compiled in memory at start (Babel), so there is no build step for users and
no stale .mo file can ever be served. This is the only module of i18n that reads files.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.i18n.lang import Lang

DOMAIN = "messages"
#: The language the interface strings are written in (the msgids).
SOURCE_LANGUAGE = "en"


def _compile(po_path: Path) -> gettext.GNUTranslations:
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=po_path.parent.parent.name)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def load_languages(locales_dir: Path) -> Mapping[str, Lang]:
    """Every language with a catalogue in `locales_dir`, plus the source language."""
    source = Lang(SOURCE_LANGUAGE, gettext.NullTranslations())
    languages: dict[str, Lang] = {SOURCE_LANGUAGE: source}
    for po_path in sorted(locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        code = po_path.parent.parent.name
        languages[code] = Lang(code, _compile(po_path))
    return MappingProxyType(languages)
