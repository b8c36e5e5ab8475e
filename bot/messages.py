"""What goes into the engine and what comes out: platform-neutral, frozen values.

Adapters translate platform events into `Inbound` and render `Reply` values in their own idiom
(an inline keyboard, a numbered list, HTML). Texts in replies are already translated and
bidi-safe; adapters only lay them out and escape them for their markup.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, NewType

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
class CounterCard(Text):
    """An offer's facts for office staff: `user` (intro, title, facts) in the person's
    language and `german` (heading, title, facts) in German, empty when the person's language
    is German. `text` is both, one under the other, for platforms that show text; Telegram
    also draws the two side by side as a picture."""

    lang: str = ""
    language_name: str = ""
    user: tuple[str, ...] = ()
    german: tuple[str, ...] = ()


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


Reply = Text | Choices | Offers  # CounterCard is a Text


@dataclass(frozen=True)
class UnmetNeed:
    """A signal for the service, never shown: nobody found an offer for this need.

    Anonymous by construction: a topic id (or "unknown"), a language code and a step name.
    """

    topic: str
    lang: str
    step: str


@dataclass(frozen=True)
class Signal:
    """A step of a conversation for the anonymous statistics (bot/stats/model.py) and the
    operators' metrics, never shown: a kind and labels that are ids from the catalogue or
    numbers, never text."""

    kind: str
    labels: tuple[tuple[str, str], ...]


Output = Reply | UnmetNeed | Signal


def replies_of(outputs: list[Output]) -> list[Reply]:
    """What is shown to the person; the signals are for the service."""
    return [o for o in outputs if isinstance(o, (Text, Choices, Offers))]


# Inbound events wait in the store's inbox and replies in its outbox (see bot/store/base.py),
# so both travel as JSON. Explicit per type: a stored value never names a Python class.

def inbound_to_json(inbound: Inbound) -> dict[str, Any]:
    return {k: v for k, v in asdict(inbound).items() if v not in (None, "", False)}


def inbound_from_json(data: dict[str, Any]) -> Inbound:
    return Inbound(text=str(data.get("text", "")), choice=data.get("choice"),
                   locale_hint=data.get("locale_hint"), start=data.get("start"),
                   late=bool(data.get("late", False)))


_REPLY_KINDS: dict[type, str] = {Text: "text", CounterCard: "counter", Choices: "choices",
                                 Offers: "offers"}


def reply_to_json(reply: Reply) -> dict[str, Any]:
    return {"kind": _REPLY_KINDS[type(reply)], **asdict(reply)}


def reply_from_json(data: dict[str, Any]) -> Reply:
    kind, rtl = data["kind"], bool(data.get("rtl", False))
    if kind == "text":
        return Text(data["text"], rtl)
    if kind == "counter":
        return CounterCard(data["text"], rtl, data["lang"], data["language_name"],
                           tuple(data["user"]), tuple(data["german"]))
    if kind == "choices":
        return Choices(data["text"], tuple(Choice(o["id"], o["label"]) for o in data["options"]),
                       rtl)
    if kind == "offers":
        return Offers(data["intro"], tuple(
            OfferCard(c["offer_id"], c["title"], c["why"], tuple(c["lines"]), c.get("url"))
            for c in data["cards"]), rtl)
    raise ValueError(f"unknown reply kind {kind!r}")
