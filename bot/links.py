"""Start links: a payload that opens the bot in a language, optionally on a topic.

Volunteers hand the bot on as https://t.me/<bot>?start=ar_school (Telegram) or a Matrix link
carrying the same payload. Telegram allows only A-Z, a-z, 0-9, "_" and "-" (at most 64
characters) in a payload, so the format is `[<lang>][_<topic id>]`; topic ids use "-" only.
Anything that does not parse is ignored safely: the bot simply greets as usual.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class StartLink:
    lang: str | None = None
    topic: str | None = None


def parse_start(payload: str | None, languages: Collection[str],
                topics: Collection[str]) -> StartLink:
    """The language and topic a payload preselects; unknown parts are dropped."""
    if not payload or not _PAYLOAD.match(payload):
        return StartLink()
    lang, _, topic = payload.partition("_")
    lang = lang.lower()
    return StartLink(lang if lang in languages else None, topic if topic in topics else None)


def start_payload(lang: str | None = None, topic: str | None = None) -> str:
    """The payload for a language and/or topic: "ar_school", "ar", or "_school" (the
    language is then asked as usual)."""
    return f"{lang or ''}_{topic}" if topic else (lang or "")
