"""What the statistics hold: designed so that nothing in them points to a person.

A `StatEvent` is one step of one conversation: a kind from KINDS, labels from the fixed
vocabulary of each kind (ids of languages, topics, questions, options and districts that
come from the catalogue, never text a person wrote), the day (never a finer time), the
channel ("telegram", "matrix", "console") and a `visitor`: an HMAC of the conversation id
under a key that exists for one day only and is then destroyed, so that one day's events of
one person can be counted once, while nobody (the city included) can link a visitor to a
chat id or to the same person on another day.

`DailyCount` is what is kept for good once raw events are deleted (after 90 days by
default): per day, kind and labels, how many events and how many distinct visitors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

#: kind -> the label names it carries (all values are ids or "" when not known).
KINDS: Mapping[str, tuple[str, ...]] = {
    # a person confirmed a language: the conversation really starts
    "started": ("lang", "channel", "referral"),
    # a topic was chosen (tapped, typed or from a start link)
    "topic": ("topic", "lang"),
    # an answer to a follow-up question (age group, German level, district): option ids
    "answer": ("topic", "lang", "question", "option"),
    # offers were shown for a topic (district: the "district" answer, if given)
    "offers_shown": ("topic", "lang", "district"),
    # nothing fitted: topic id or "unknown", and the step where it happened
    "unmet": ("topic", "lang", "district", "step"),
}


@dataclass(frozen=True)
class StatEvent:
    day: date
    kind: str
    visitor: str
    labels: tuple[tuple[str, str], ...]

    def label(self, name: str) -> str:
        return dict(self.labels).get(name, "")


@dataclass(frozen=True)
class DailyCount:
    day: date
    kind: str
    labels: tuple[tuple[str, str], ...]
    events: int
    visitors: int
