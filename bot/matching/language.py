"""Guess a message's language from its script and a few very common words.

Only a suggestion: the engine always lets the person confirm or change it with one tap.
"""

from __future__ import annotations

import unicodedata
from collections import Counter

from bot.matching.normalise import normalise

_PERSIAN_LETTERS = set("پچژگیک")  # Farsi yeh and keheh: Arabic keyboards type ي and ك
_PASHTO_LETTERS = set("ټډړږښګڼېۍځڅ")
_UKRAINIAN_LETTERS = set("іїєґ")
_RUSSIAN_LETTERS = set("ыэъё")
_KURMANJI_LETTERS = set("êîû")
_TURKISH_LETTERS = set("ğış")
_FRENCH_LETTERS = set("éèàùç")

_LATIN_WORDS: dict[str, frozenset[str]] = {
    lang: frozenset(normalise(words).split())
    for lang, words in {
        "de": "ich und ist nicht der die das ein eine hallo danke bitte suche brauche möchte "
              "deutsch kurs mein meine für wie wo guten tag kinder schule arbeit",
        "en": "i the and is not a an hello hi thanks please need want looking for my how "
              "where course school work children help",
        "tr": "ve bir ben merhaba selam istiyorum için nasıl nerede çocuk okul iş kurs "
              "almanca teşekkürler lütfen",
        "fr": "je le la les et est bonjour merci veux cherche pour mon ma comment où cours "
              "école travail enfant allemand",
        "ku": "ez û ji bo silav spas dixwazim zarok dibistan kar kurs almanî çawa li",
    }.items()
}


def _script(ch: str) -> str | None:
    if not ch.isalpha():
        return None
    name = unicodedata.name(ch, "")
    for script in ("ARABIC", "CYRILLIC", "ETHIOPIC", "LATIN"):
        if name.startswith(script):
            return script
    return None


def guess_language(text: str) -> str | None:
    """An ISO 639-1 code (or None) for the language `text` is most likely written in."""
    letters = set(text.lower())
    scripts = Counter(s for s in map(_script, text) if s)
    if not scripts:
        return None
    script = scripts.most_common(1)[0][0]
    if script == "ARABIC":
        if letters & _PASHTO_LETTERS:
            return "ps"
        return "fa" if letters & _PERSIAN_LETTERS else "ar"
    if script == "CYRILLIC":
        if letters & _UKRAINIAN_LETTERS:
            return "uk"
        return "ru"
    if script == "ETHIOPIC":
        return "ti"
    words = set(normalise(text).split())
    votes = {lang: len(words & vocab) for lang, vocab in _LATIN_WORDS.items()}
    votes["ku"] += 2 * len(letters & _KURMANJI_LETTERS)
    votes["tr"] += 2 * len(letters & _TURKISH_LETTERS)
    votes["fr"] += len(letters & _FRENCH_LETTERS)
    votes["de"] += len(letters & set("äöüß"))
    lang, count = max(votes.items(), key=lambda kv: kv[1])
    return lang if count > 0 else None
