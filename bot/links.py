"""Start links: a payload that opens the bot in a language, optionally on a topic and a
part of town, and names the organisation that handed it out.

Volunteers hand the bot on as https://t.me/<bot>?start=ar_german-course_centre_r-caritas
(Telegram). Telegram allows only A-Z, a-z, 0-9, "_" and "-" (at most 64 characters) in a
payload, so the format is `[<lang>]` then, each after a "_", any of: a topic id, a district
option id (the answer to the question that ranks offers by part of town), and `r-<code>`, a
referral code of lower-case letters, digits and "-" (counted, anonymously, in the city's
report). Ids use "-" only, so "_" separates safely. Anything that does not parse is ignored:
the bot simply greets as usual.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_REFERRAL = re.compile(r"^r-([a-z0-9-]{1,30})$")
#: Telegram's limit for a start payload.
MAX_PAYLOAD = 64


@dataclass(frozen=True)
class StartLink:
    lang: str | None = None
    topic: str | None = None
    district: str | None = None
    referral: str | None = None


def parse_start(payload: str | None, languages: Collection[str], topics: Collection[str],
                districts: Collection[str] = ()) -> StartLink:
    """What a payload preselects; unknown parts are dropped."""
    if not payload or not _PAYLOAD.match(payload):
        return StartLink()
    first, *rest = payload.split("_")
    lang = first.lower() if first.lower() in languages else None
    topic = district = referral = None
    for part in rest:
        if (code := _REFERRAL.match(part)) is not None:
            referral = referral or code.group(1)
        elif part in topics:
            topic = topic or part
        elif part in districts:
            district = district or part
    return StartLink(lang, topic, district, referral)


def start_payload(lang: str | None = None, topic: str | None = None,
                  district: str | None = None, referral: str | None = None) -> str:
    """The payload for a language, topic, district and referral code, each optional:
    "ar_school", "ar", "_school" (the language is then asked as usual), "uk_r-caritas"."""
    if referral is not None and not _REFERRAL.match(f"r-{referral}"):
        raise ValueError(f"a referral code is 1 to 30 of a-z, 0-9 and -: {referral!r}")
    parts = [p for p in (topic, district, f"r-{referral}" if referral else None) if p]
    payload = "_".join([lang or "", *parts]) if parts else (lang or "")
    if len(payload) > MAX_PAYLOAD or (payload and not _PAYLOAD.match(payload)):
        raise ValueError(f"the start payload {payload!r} is longer than {MAX_PAYLOAD} "
                         "characters or has characters Telegram does not allow")
    return payload


_START_MESSAGE = re.compile(r"^[/!]?start\s+([A-Za-z0-9_-]{1,64})\s*$", re.IGNORECASE)


def start_from_text(text: str) -> str | None:
    """The payload of a message "start <payload>" (also /start, !start): how a start link
    reaches the bot on platforms whose links cannot carry one (Matrix: the poster says
    which words to send)."""
    found = _START_MESSAGE.match(text.strip())
    return found.group(1) if found else None


def telegram_link(bot_username: str, payload: str) -> str:
    name = bot_username.removeprefix("@")
    return f"https://t.me/{name}?start={payload}" if payload else f"https://t.me/{name}"


def matrix_link(user_id: str) -> str:
    """A matrix.to link that opens a chat with the bot (it cannot carry a payload)."""
    return f"https://matrix.to/#/{user_id}"
