"""A conversation's state: small, frozen, JSON-serialisable, versioned.

Stores keep it as JSON. `from_json` accepts every schema version ever written and migrates it;
anything it cannot read starts a fresh conversation instead of failing the person's message.
Only ids are kept (language, topic, question and option ids): never message text.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from collections.abc import Callable
from typing import Any, Literal

#: The version `to_json` writes. History (each older one is migrated by `_MIGRATIONS`):
#: 1: answers as a list of [question, option] pairs.
#: 2: answers as an object {question: option}, in the order answered: shorter, and one
#:    answer per question by construction.
SCHEMA_VERSION = 2

Step = Literal["language", "topic", "clarify", "question", "results"]
STEPS: tuple[Step, ...] = ("language", "topic", "clarify", "question", "results")


@dataclass(frozen=True)
class State:
    step: Step = "language"
    lang: str | None = None
    #: Language suggested from the platform hint or the first message, awaiting confirmation.
    suggested: str | None = None
    topic: str | None = None
    #: Topics that were equally likely, while asking which one is meant.
    close: tuple[str, ...] = ()
    #: (question id, option id), in the order they were answered.
    answers: tuple[tuple[str, str], ...] = ()
    #: The question waiting for an answer in the "question" step.
    question: str | None = None
    #: How many offers of the current result list were shown already.
    shown: int = 0
    #: Messages in a row that were not understood.
    misses: int = 0
    #: The referral code of the start link that brought the person (an organisation's
    #: code, for the anonymous statistics), if any.
    referral: str | None = None
    #: Helper mode: the person searches for someone else ("I am helping someone"). Changes
    #: only how questions are phrased, never which offers are found; ends with "restart".
    #: Added without a version bump: older states simply lack it (False).
    helper: bool = False

    def evolve(self, **changes: Any) -> State:
        """A copy with some fields changed: dataclasses.replace without its per-call field
        introspection (several times per turn on the hot path). Only known fields."""
        unknown = changes.keys() - _FIELDS
        if unknown:
            raise TypeError(f"State has no field(s) {sorted(unknown)}")
        new = object.__new__(State)
        new.__dict__.update(self.__dict__, **changes)
        return new

    def answer(self, question_id: str) -> str | None:
        return dict(self.answers).get(question_id)

    def with_answer(self, question_id: str, option_id: str) -> State:
        kept = tuple(a for a in self.answers if a[0] != question_id)
        return self.evolve(answers=(*kept, (question_id, option_id)))

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["close"] = list(self.close)
        data["answers"] = dict(self.answers)
        return {"v": SCHEMA_VERSION, **data}

    @classmethod
    def from_json(cls, data: object) -> State:
        """Read any stored version; unreadable data gives a fresh state, never an exception."""
        if not isinstance(data, dict):
            return cls()
        try:
            while data.get("v") in _MIGRATIONS:
                data = _MIGRATIONS[data["v"]](data)
            if data.get("v") != SCHEMA_VERSION:
                return cls()
            step = data.get("step", "language")
            state = cls(
                step=step if step in STEPS else "language",
                lang=_opt_str(data.get("lang")),
                suggested=_opt_str(data.get("suggested")),
                topic=_opt_str(data.get("topic")),
                close=tuple(str(t) for t in data.get("close") or ()),
                answers=tuple((str(q), str(o)) for q, o in (data.get("answers") or {}).items()),
                question=_opt_str(data.get("question")),
                shown=max(0, int(data.get("shown") or 0)),
                misses=max(0, int(data.get("misses") or 0)),
                referral=_opt_str(data.get("referral")),
                helper=data.get("helper") is True,
            )
        except (TypeError, ValueError, AttributeError):
            return cls()
        return state


def _opt_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "v": 2, "answers": {str(q): str(o) for q, o in data.get("answers") or ()}}


#: version -> a function that lifts a stored state to the next version
_MIGRATIONS: dict[object, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_to_v2}

_FIELDS = frozenset(f.name for f in fields(State))
