"""A fuzzy phrase index: which keys (topics, options, commands) does a message mention?

Built once per catalogue load. Every phrase is split into normalised tokens; a query matches a
phrase when most of the phrase's tokens occur in the query, each allowing typos (rapidfuzz
ratio against the index's vocabulary, so the cost grows with the query, not the catalogue).

A phrase's *coverage* is the weighted share of its tokens found in the query (filler words
weigh little). Longer phrases found whole are stronger evidence than single words, which is
how "deutsch für den beruf" beats "deutsch" in "ich will deutsch für meinen beruf lernen".
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from rapidfuzz import fuzz, process

from bot.matching.normalise import tokens as tokenise
from bot.matching.stopwords import STOPWORDS

K = TypeVar("K", bound=Hashable)

#: Tokens shorter than this must match exactly (too many short words are one typo apart).
MIN_FUZZY_LENGTH = 4
#: Only this much of a query is matched, so a pasted novel costs what a sentence costs.
MAX_QUERY_CHARS = 500
MAX_QUERY_TOKENS = 40
#: Query words whose similar vocabulary is remembered; emptied when full.
SIMILAR_CACHE_SIZE = 20_000
#: Fuzzy matching compares words whose lengths differ by at most this much.
LENGTH_SLACK = 2
#: Words sharing their first STEM_LENGTH letters (and most of the shorter one) are one word.
STEM_LENGTH = 6
FILLER_WEIGHT = 0.15
#: A phrase counts as mentioned when this share of it (by weight) is in the query.
MIN_COVERAGE = 0.75
#: Weight of the share of the query that all phrases of a key explain together.
EVIDENCE_BONUS = 0.15


def _token_cutoff(token: str) -> float:
    return 100.0 if len(token) < MIN_FUZZY_LENGTH else (80.0 if len(token) < 7 else 75.0)


@dataclass(frozen=True)
class Hit(Generic[K]):
    key: K
    score: float  # 0..1 and a little above for long phrases; compare, don't print as percent
    coverage: float  # share of the phrase found in the query
    query_coverage: float  # share of the query's content words explained by the phrase


@dataclass(frozen=True)
class _Phrase(Generic[K]):
    key: K
    tokens: tuple[str, ...]
    weights: tuple[float, ...]
    content_tokens: int


class PhraseIndex(Generic[K]):
    """Maps phrases to keys; `search(query)` ranks keys by their best-matching phrase."""

    def __init__(self, entries: Iterable[tuple[str, K]]):
        self._phrases: list[_Phrase[K]] = []
        self._order: dict[K, int] = {}  # first appearance: the tie-break, stable across runs
        self._by_token: dict[str, list[int]] = defaultdict(list)
        seen: set[tuple[tuple[str, ...], K]] = set()
        for text, key in entries:
            toks = tokenise(text)
            if not toks or (toks, key) in seen:
                continue
            seen.add((toks, key))
            weights = tuple(FILLER_WEIGHT if t in STOPWORDS else 1.0 for t in toks)
            content = sum(1 for w in weights if w == 1.0)
            if content == 0:  # a phrase made only of filler words: take it literally
                weights = tuple(1.0 for _ in toks)
                content = len(toks)
            self._order.setdefault(key, len(self._order))
            phrase_id = len(self._phrases)
            self._phrases.append(_Phrase(key, toks, weights, content))
            for tok in set(toks):
                self._by_token[tok].append(phrase_id)
        self._vocabulary = list(self._by_token)
        self._similar_cache: dict[str, dict[str, float]] = {}
        self._by_stem: dict[str, list[str]] = defaultdict(list)
        # Fuzzy candidates by shape: same first, second or last letter, similar length. A
        # query word is compared with these few words instead of the whole vocabulary, which
        # keeps matching fast however large the catalogue; the price is that a word with typos
        # in its first two letters and its last one is not recognised.
        self._by_shape: dict[tuple[int, str, int], list[str]] = defaultdict(list)
        for word in self._vocabulary:
            if len(word) >= STEM_LENGTH:
                self._by_stem[word[:STEM_LENGTH]].append(word)
            if len(word) >= MIN_FUZZY_LENGTH:
                self._by_shape[(0, word[0], len(word))].append(word)
                self._by_shape[(1, word[1], len(word))].append(word)
                self._by_shape[(-1, word[-1], len(word))].append(word)

    def __len__(self) -> int:
        return len(self._phrases)

    def _similar(self, token: str) -> dict[str, float]:
        """Vocabulary tokens similar to `token`, with similarity 0..100 (remembered: people
        write the same words again and again)."""
        cached = self._similar_cache.get(token)
        if cached is None:
            if len(self._similar_cache) >= SIMILAR_CACHE_SIZE:
                self._similar_cache.clear()
            cached = self._similar_cache[token] = self._find_similar(token)
        return cached

    def _find_similar(self, token: str) -> dict[str, float]:
        found: dict[str, float] = {}
        if token in self._by_token:
            found[token] = 100.0
        if len(token) >= MIN_FUZZY_LENGTH:
            shaped: list[str] = []
            for length in range(len(token) - LENGTH_SLACK, len(token) + LENGTH_SLACK + 1):
                shaped += self._by_shape.get((0, token[0], length), ())
                shaped += self._by_shape.get((1, token[1], length), ())
                shaped += self._by_shape.get((-1, token[-1], length), ())
            for word, score, _ in process.extract(
                token, shaped, scorer=fuzz.ratio,
                score_cutoff=min(_token_cutoff(token), 90.0), limit=None,
            ):
                if score >= _token_cutoff(word) and score > found.get(word, 0.0):
                    found[word] = score
            # Word forms: "recognised" ~ "recognition", "anerkannt" ~ "anerkennung" share a stem.
            for word in self._by_stem.get(token[:STEM_LENGTH], ()):
                common = len(os.path.commonprefix([token, word]))
                if common >= 0.7 * min(len(token), len(word)) and found.get(word, 0.0) < 85.0:
                    found[word] = 85.0
            # German compounds and plurals: "integrationskursen" contains "integrationskurs".
            for cut in range(6, len(token)):
                if token[:cut] in self._by_token:
                    found[token[:cut]] = max(found.get(token[:cut], 0.0), 92.0)
        return found

    def search(self, query: str, limit: int = 5) -> list[Hit[K]]:
        """Keys mentioned in `query`, best first, at most one hit per key."""
        query_tokens = tokenise(query[:MAX_QUERY_CHARS])[:MAX_QUERY_TOKENS]
        if not query_tokens:
            return []
        content_query = [t for t in query_tokens if t not in STOPWORDS] or list(query_tokens)
        similar = {tok: self._similar(tok) for tok in set(query_tokens)}
        # best similarity of each vocabulary word to any query token, and which token gave it
        best: dict[str, tuple[float, str]] = {}
        for qtok, words in similar.items():
            for word, score in words.items():
                if score > best.get(word, (0.0, ""))[0]:
                    best[word] = (score, qtok)
        candidates = sorted({pid for word in best for pid in self._by_token[word]})
        hits: dict[K, Hit[K]] = {}
        explained_by: dict[K, set[str]] = defaultdict(set)
        for pid in candidates:
            phrase = self._phrases[pid]
            found = 0.0
            explained: set[str] = set()
            for tok, weight in zip(phrase.tokens, phrase.weights, strict=True):
                score, qtok = best.get(tok, (0.0, ""))
                found += weight * score / 100.0
                if score and qtok not in STOPWORDS:
                    explained.add(qtok)
            coverage = found / sum(phrase.weights)
            if coverage < MIN_COVERAGE:
                continue
            query_coverage = len(explained) / len(set(content_query))
            score = coverage * (1.0 + 0.12 * (phrase.content_tokens - 1))
            explained_by[phrase.key] |= explained
            previous = hits.get(phrase.key)
            if previous is None or score > previous.score:
                hits[phrase.key] = Hit(phrase.key, score, coverage, query_coverage)
        # Several phrases of one key that together explain more of the query are more evidence
        # ("deutsch" + "beruf" for German for work) than one phrase alone.
        distinct = len(set(content_query))
        ranked = sorted(
            (Hit(h.key, h.score + EVIDENCE_BONUS * len(explained_by[h.key]) / distinct,
                 h.coverage, len(explained_by[h.key]) / distinct) for h in hits.values()),
            key=lambda h: (-h.score, -h.query_coverage, self._order[h.key]))
        return ranked[:limit]
