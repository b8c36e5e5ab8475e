"""What goes into the engine and what comes out: platform-neutral, frozen values.

Adapters translate platform events into `Inbound` and render `Reply` values in their own idiom
(an inline keyboard, a numbered list, HTML). Texts in replies are already translated and
bidi-safe; adapters only lay them out and escape them for their markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NewType

#: A conversation across platforms, e.g. "telegram:123", "matrix:!room:server", "console:local".
ConversationId = NewType("ConversationId", str)


@dataclass(frozen=True)
class Inbound:
    """One thing a person did: wrote `text`, or tapped the button with id `choice`."""

    text: str = ""
    choice: str | None = None
    #: The platform's idea of the person's language ("uk-UA", "ar", None): only a hint.
    locale_hint: str | None = None
    #: The payload of a start link the person followed ("ar_school", see bot/links.py).
    start: str | None = None
    #: The message waited long for an answer (the bot was down): apologise first.
    late: bool = False


@dataclass(frozen=True)
class Choice:
    id: str  # stable, ASCII, at most 43 bytes: fits Telegram's 64-byte callback data
    label: str


@dataclass(frozen=True)
class Text:
    text: str
    rtl: bool = False


@dataclass(frozen=True)
class Choices:
    """A question with options; the person may also answer in free text or with a number."""

    text: str
    options: tuple[Choice, ...]
    rtl: bool = False


@dataclass(frozen=True)
class OfferCard:
    offer_id: str
    title: str
    why: str  # one line on why this offer fits
    lines: tuple[str, ...]  # facts, each a finished line such as "Address: Leibnizstraße 23"
    url: str | None = None


@dataclass(frozen=True)
class Offers:
    intro: str
    cards: tuple[OfferCard, ...]
    rtl: bool = False


Reply = Text | Choices | Offers


@dataclass(frozen=True)
class UnmetNeed:
    """A signal for the service, never shown: nobody found an offer for this need.

    Anonymous by construction: a topic id (or "unknown"), a language code and a step name.
    """

    topic: str
    lang: str
    step: str


Output = Reply | UnmetNeed
