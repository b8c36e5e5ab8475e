"""Which topic is a newcomer asking about? Free text in any language, typos included."""

from __future__ import annotations

from dataclasses import dataclass

from bot.catalogue import Catalogue
from bot.matching.index import PhraseIndex

#: A best hit at least this strong means the message names a topic (tuned on tests/data).
CONFIDENT = 0.85
#: A second topic this close to the best one makes the message ambiguous: ask which is meant.
CLOSE = 0.08


@dataclass(frozen=True)
class TopicScore:
    id: str
    score: float


@dataclass(frozen=True)
class TopicMatch:
    query: str
    topics: tuple[TopicScore, ...]  # best first, at most five
    confident: bool

    @property
    def best(self) -> str | None:
        return self.topics[0].id if self.confident else None

    @property
    def close(self) -> tuple[str, ...]:
        """The topics that are about as likely as the best one (only when confident)."""
        if not self.confident:
            return ()
        top = self.topics[0].score
        return tuple(t.id for t in self.topics if t.score >= max(CONFIDENT, top - CLOSE))


class TopicMatcher:
    """Built once per catalogue: names and synonyms of every topic in every language."""

    def __init__(self, catalogue: Catalogue):
        entries: list[tuple[str, str]] = []
        for topic in catalogue.topics.values():
            entries.extend((name, topic.id) for name in topic.name.values())
            entries.extend((syn, topic.id) for syns in topic.synonyms.values() for syn in syns)
        self._index = PhraseIndex(entries)

    def match(self, query: str) -> TopicMatch:
        hits = self._index.search(query, limit=5)
        topics = tuple(TopicScore(h.key, round(h.score, 3)) for h in hits)
        return TopicMatch(query, topics, bool(hits) and hits[0].score >= CONFIDENT)
