"""Pick an interface language from a platform hint such as None, "ar", "uk-UA", "pt-br", "xx"."""

from __future__ import annotations

from collections.abc import Collection

from babel import Locale, UnknownLocaleError

#: Hints that name a close sibling of a language we have: Dari is written as Persian here.
_SIBLINGS = {"prs": "fa", "pes": "fa", "kmr": "ku", "ckb": "ku", "nb": "no", "nn": "no"}


def negotiate(hint: str | None, available: Collection[str]) -> str | None:
    """The available language the hint asks for, or None when it names none of them."""
    if not hint or not isinstance(hint, str):
        return None
    cleaned = hint.strip().replace("-", "_")[:35]
    try:
        language = Locale.parse(cleaned).language
    except (ValueError, UnknownLocaleError):
        language = cleaned.split("_")[0].lower()
    language = _SIBLINGS.get(language, language)
    return language if language in available else None
