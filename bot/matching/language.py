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


#: Common words that tell languages of one script apart when no letter does (normalised, so
#: Persian ی/ک already look Arabic here: only the words themselves can decide).
_SCRIPT_WORDS: dict[str, dict[str, frozenset[str]]] = {
    "ARABIC": {
        lang: frozenset(normalise(words).split()) for lang, words in {
            "ar": "انا بدي اريد عايز ابغى هل ماذا لماذا كيف اين وين شو ايش هذا هذه الذي التي "
                  "مرحبا شكرا ممكن لو سمحت عندي ابني ابنتي اطفال مدرسه",
            "fa": "من میخواهم میخوام می خواهم است هست هستم را برای این آن چطور کجا چی چه "
                  "لطفا ممنون مرسی دارم بچه پسرم دخترم مدرسه",
            "ps": "زه غواړم غواړم ده دي دا په کې ته د لپاره څنګه چېرته ولې مننه زما ستا",
        }.items()},
    "CYRILLIC": {
        lang: frozenset(normalise(words).split()) for lang, words in {
            "ru": "я мне меня хочу нужно нужен ищу как где что это есть или и для сын дочь "
                  "работа школа курс немецкий привет здравствуйте спасибо пожалуйста",
            "uk": "я мені мене хочу потрібно треба шукаю як де що це є або і для син донька "
                  "робота школа курс німецька привіт дякую будь ласка",
        }.items()},
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
        if letters & _PERSIAN_LETTERS:
            return "fa"
        return _by_words(text, "ARABIC") or "ar"
    if script == "CYRILLIC":
        if letters & _UKRAINIAN_LETTERS:
            return "uk"
        if letters & _RUSSIAN_LETTERS:
            return "ru"
        return _by_words(text, "CYRILLIC") or "ru"
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


def _by_words(text: str, script: str) -> str | None:
    """The language of `script` with the most of its common words in `text`, if any wins."""
    words = set(normalise(text).split())
    votes = sorted(((len(words & vocab), lang) for lang, vocab in _SCRIPT_WORDS[script].items()),
                   reverse=True)
    return votes[0][1] if votes[0][0] > votes[1][0] else None
