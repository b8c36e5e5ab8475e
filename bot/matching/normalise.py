"""Script-aware normalisation: make the spellings people really type compare equal.

Applied identically to the catalogue's phrases and to every query, so a rule only has to be
right in one direction. Order matters: NFKC first (folds presentation forms and full-width
letters), then per-script letter variants, then diacritics, then clitics per token.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Arabic and Persian letter variants people use interchangeably on phone keyboards.
_LETTERS = str.maketrans({
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا",   # alef with hamza / madda / wasla
    "ى": "ي", "ی": "ي", "ې": "ي", "ۍ": "ي", "ئ": "ي",  # alef maqsura, Persian/Pashto yeh
    "ک": "ك", "ګ": "ك",                     # Persian keheh, Pashto kaf -> Arabic kaf
    "ة": "ه", "ۀ": "ه", "ە": "ه",            # teh marbuta, heh with yeh
    "ؤ": "و",
    "ء": None, "ـ": None,                    # lone hamza, tatweel
    "ё": "е", "Ё": "е",                      # Cyrillic yo
    "ı": "i", "İ": "i",                      # Turkish dotless / dotted i
    "\u200c": " ",                           # zero-width non-joiner (Persian half-space)
})

# Arabic clitics: the article and the prepositions/conjunctions glued to it.
_ARABIC_PREFIXES = ("وال", "بال", "فال", "كال", "لل", "ال")
_ARABIC_LETTER = re.compile(r"[\u0600-\u06FF]")
_WORD_CHARS = {"L", "N", "M"}  # letters, numbers, marks (marks are dropped below)


class _Folder(dict[int, str | None]):
    """A str.translate table that learns each character once: letters stay, combining marks
    go, digits of any script become ASCII digits, everything else becomes a space."""

    def __missing__(self, code: int) -> str | None:
        ch = chr(code)
        cat = unicodedata.category(ch)
        if cat == "Mn":
            folded: str | None = None
        elif cat[0] == "N":
            digit = unicodedata.digit(ch, None)
            folded = str(digit) if digit is not None else " "
        elif cat[0] in _WORD_CHARS:
            folded = ch
        else:
            folded = " "
        self[code] = folded
        return folded


_FOLD = _Folder()


def _strip_clitic(token: str) -> str:
    if _ARABIC_LETTER.match(token):
        for prefix in _ARABIC_PREFIXES:
            if token.startswith(prefix) and len(token) - len(prefix) >= 3:
                return token[len(prefix):]
    return token


_ASCII = str.maketrans({chr(c): (chr(c).lower() if chr(c).isalnum() else " ")
                        for c in range(128)})


@lru_cache(maxsize=8192)
def normalise(text: str) -> str:
    """Lower-case, variant-free, diacritic-free text with single spaces between tokens."""
    if text.isascii():  # most synonyms and many queries: nothing to fold but case and marks
        return " ".join(text.translate(_ASCII).split())
    text = unicodedata.normalize("NFKC", text).translate(_LETTERS).casefold()
    text = unicodedata.normalize("NFD", text).translate(_FOLD)
    text = unicodedata.normalize("NFC", text)
    return " ".join(_strip_clitic(token) for token in text.split())


def tokens(text: str) -> tuple[str, ...]:
    return tuple(normalise(text).split())
