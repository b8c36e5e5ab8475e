"""The loaded catalogue: one immutable value that the engine reads and a reload replaces whole."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

from bot.catalogue.model import Meta, Offer, Question, Topic


@dataclass(frozen=True)
class Catalogue:
    meta: Meta
    topics: Mapping[str, Topic]
    questions: tuple[Question, ...]
    offers: tuple[Offer, ...]
    _by_topic: Mapping[str, tuple[Offer, ...]] = field(init=False, repr=False, compare=False)
    _by_id: Mapping[str, Offer] = field(init=False, repr=False, compare=False)
    _questions: Mapping[str, Question] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_topic: dict[str, list[Offer]] = {tid: [] for tid in self.topics}
        for offer in self.offers:
            for tid in offer.topics:
                by_topic.setdefault(tid, []).append(offer)
        object.__setattr__(self, "topics", MappingProxyType(dict(self.topics)))
        object.__setattr__(self, "_by_topic",
                           MappingProxyType({k: tuple(v) for k, v in by_topic.items()}))
        object.__setattr__(self, "_by_id", MappingProxyType({o.id: o for o in self.offers}))
        object.__setattr__(self, "_questions",
                           MappingProxyType({q.id: q for q in self.questions}))

    def offers_for(self, topic_id: str, today: date) -> tuple[Offer, ...]:
        """The visible offers of a topic, those naming it first ranked first."""
        offers = [o for o in self._by_topic.get(topic_id, ()) if o.is_visible(today)]
        offers.sort(key=lambda o: o.topics.index(topic_id))
        return tuple(offers)

    def offer(self, offer_id: str) -> Offer | None:
        return self._by_id.get(offer_id)

    def question(self, question_id: str) -> Question | None:
        return self._questions.get(question_id)
