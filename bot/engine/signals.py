"""What a turn means for the anonymous statistics, read off the states before and after it.

Derived from the state change rather than sprinkled through the engine's steps: one place
decides what is counted, and it can only see ids (the state holds no text).
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.catalogue import Catalogue
from bot.catalogue.model import Question
from bot.engine.state import State
from bot.messages import Offers, Output, Signal, UnmetNeed

#: A typed topic answer and how the matcher took it: labels "outcome" (one, several, none)
#: and "score" (the best topic's, 0 to 1). For the operators' metrics (bot/metrics.py), not
#: the statistics: it is emitted by the engine where matching happens, and the statistics
#: store no kind outside bot/stats/model.py's KINDS.
MATCHED = "matched"


def district_question(catalogue: Catalogue) -> Question | None:
    """The question whose options rank offers by part of town ("district"), if any."""
    for question in catalogue.questions:
        if any(o.prefer and o.prefer.districts for o in question.options):
            return question
    return None


def district_of(catalogue: Catalogue, state: State) -> str:
    """The option id of the answer to the district question, or ""."""
    question = district_question(catalogue)
    return (state.answer(question.id) or "") if question else ""


def signals(catalogue: Catalogue, before: State | None, after: State | None,
            outputs: Sequence[Output]) -> list[Signal]:
    found: list[Signal] = []
    current = after or before
    lang = (current.lang if current else None) or ""
    if after is not None and after.lang and (before is None or before.lang is None):
        found.append(Signal("started", (("lang", after.lang),
                                        ("referral", after.referral or ""))))
    if after is not None and after.topic and after.topic != (before.topic if before else None):
        found.append(Signal("topic", (("topic", after.topic), ("lang", lang))))
    if after is not None and after.topic:
        earlier = set(before.answers) if before else set()
        for question_id, option_id in after.answers:
            if (question_id, option_id) not in earlier:
                found.append(Signal("answer", (("topic", after.topic), ("lang", lang),
                                               ("question", question_id),
                                               ("option", option_id))))
    first_page = after is not None and after.shown > 0 and (
        before is None or before.shown == 0 or before.topic != after.topic)
    if first_page and after is not None and after.topic and any(
            isinstance(o, Offers) and o.cards for o in outputs):
        found.append(Signal("offers_shown", (("topic", after.topic), ("lang", lang),
                                             ("district", district_of(catalogue, after)))))
    for item in outputs:
        if isinstance(item, UnmetNeed):
            found.append(Signal("unmet", (
                ("topic", item.topic), ("lang", item.lang),
                ("district", district_of(catalogue, current) if current else ""),
                ("step", item.step))))
    return found
