"""Which offers fit the answers so far, fast at any catalogue size.

Built once per catalogue load. Every set of offers is a bitset (a Python int, bit i = the
catalogue's i-th offer): the offers of a topic, the offers each option keeps, the offers each
option prefers, the offers visible on a given day. Narrowing by an answer is then one AND, and
"would this question change anything?" is a comparison of two ints, whether the catalogue holds
fifty offers or twenty thousand. Only the final ranking looks at individual offers.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from datetime import date
from functools import lru_cache

from bot.catalogue import Catalogue
from bot.catalogue.model import Offer, Option, Question


def _mask(indices: Iterable[int]) -> int:
    """A bitset with the given bits set, built in one go (no quadratic big-int updates)."""
    indices = list(indices)
    if not indices:
        return 0
    bits = bytearray(max(indices) // 8 + 1)
    for i in indices:
        bits[i >> 3] |= 1 << (i & 7)
    return int.from_bytes(bits, "little")


def _groups(offers: Sequence[Offer], signature: Callable[[Offer], Hashable]
            ) -> list[tuple[Offer, list[int]]]:
    """Offers grouped by what a test looks at: one representative and the members' positions.
    Thousands of offers share a handful of audiences and forty districts."""
    groups: dict[Hashable, tuple[Offer, list[int]]] = {}
    for i, offer in enumerate(offers):
        groups.setdefault(signature(offer), (offer, []))[1].append(i)
    return list(groups.values())


def _mask_where(groups: list[tuple[Offer, list[int]]], test: Callable[[Offer], bool]) -> int:
    """Offers passing `test`, evaluated once per group."""
    return _mask(i for offer, members in groups if test(offer) for i in members)


def _audience(offer: Offer) -> Hashable:
    return (offer.audience.age.min, offer.audience.age.max, offer.german_levels)


def _district(offer: Offer) -> Hashable:
    return offer.where[1]


def _members(mask: int) -> list[int]:
    """The positions of the set bits, lowest first (byte by byte: fast for sparse sets)."""
    found = []
    for index, byte in enumerate(mask.to_bytes((mask.bit_length() + 7) // 8, "little")):
        if byte:
            base = index * 8
            found.extend(base + bit for bit in _BITS[byte])
    return found


_BITS = tuple(tuple(bit for bit in range(8) if value >> bit & 1) for value in range(256))


class Selection:
    def __init__(self, catalogue: Catalogue):
        self.catalogue = catalogue
        self.offers = catalogue.offers
        offers = self.offers
        by_topic: dict[str, list[int]] = {tid: [] for tid in catalogue.topics}
        for i, offer in enumerate(offers):
            for tid in offer.topics:
                by_topic.setdefault(tid, []).append(i)
        self._topic: dict[str, int] = {tid: _mask(found) for tid, found in by_topic.items()}
        everything = (1 << len(offers)) - 1
        self._keeps: dict[tuple[str, str], int] = {}
        self._likes: dict[tuple[str, str], int] = {}
        audiences, districts = _groups(offers, _audience), _groups(offers, _district)
        for question in catalogue.questions:
            for option in question.options:
                key = (question.id, option.id)
                flt, prefer = option.filter, option.prefer
                self._keeps[key] = _mask_where(audiences, flt.keeps) if flt else everything
                if prefer:
                    self._likes[key] = _mask_where(districts, prefer.likes)
        self.visible = lru_cache(maxsize=4)(self._visible)
        self.order = lru_cache(maxsize=4 * max(1, len(catalogue.topics)))(self._order)

    def _visible(self, today: date) -> int:
        return _mask(i for i, o in enumerate(self.offers) if o.is_visible(today))

    def answered(self, topic: str, answers: Iterable[tuple[str, str]]
                 ) -> list[tuple[Question, Option]]:
        """The answered options that still exist and apply to `topic`."""
        found = []
        for question_id, option_id in answers:
            question = self.catalogue.question(question_id)
            option = question.option(option_id) if question else None
            if question and option and question.applies_to(topic):
                found.append((question, option))
        return found

    def candidates(self, topic: str, answers: Iterable[tuple[str, str]], today: date) -> int:
        mask = self._topic.get(topic, 0) & self.visible(today)
        for question, option in self.answered(topic, answers):
            mask &= self._keeps[(question.id, option.id)]
        return mask

    def narrows(self, question: Question, mask: int) -> bool:
        """Would any answer to `question` change which offers are shown, or their order?"""
        if mask.bit_count() < 2:
            return False
        for option in question.options:
            key = (question.id, option.id)
            if mask & self._keeps[key] != mask:
                return True
            liked = mask & self._likes.get(key, 0)
            if liked and liked != mask:
                return True
        return False

    def _order(self, topic: str, today: date) -> list[int]:
        """A topic's offers in their standing order: those naming the topic first come first,
        then the soonest start, then catalogue order. Computed once per topic and day."""
        def rank(i: int) -> tuple[int, date, int]:
            offer = self.offers[i]
            return (offer.topics.index(topic), offer.next_start(today) or date.max, i)

        return sorted(_members(self._topic.get(topic, 0)), key=rank)

    def page(self, topic: str, answers: Iterable[tuple[str, str]], mask: int, today: date,
             start: int, count: int) -> list[Offer]:
        """Offers start..start+count of `mask`, best first: those the answers prefer (e.g. in
        the person's part of town), then the rest, each in the topic's standing order.

        Walks the standing order only as far as the page needs, so showing five offers out of
        thousands costs about as much as showing five out of ten.
        """
        liked = 0
        for question, option in self.answered(topic, answers):
            liked |= self._likes.get((question.id, option.id), 0)
        wanted = start + count
        chosen: list[int] = []
        for group in ((mask & liked, mask & ~liked) if liked else (mask,)):
            if len(chosen) >= wanted or not group:
                continue
            bits = group.to_bytes((group.bit_length() + 7) // 8, "little")
            size = len(bits) * 8
            for i in self.order(topic, today):
                if i < size and bits[i >> 3] >> (i & 7) & 1:
                    chosen.append(i)
                    if len(chosen) >= wanted:
                        break
        return [self.offers[i] for i in chosen[start:wanted]]
