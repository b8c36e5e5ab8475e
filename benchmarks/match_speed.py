"""How fast is topic matching, and how does it grow with the catalogue?

Prints queries per second on the bundled catalogue and on the same catalogue with its topics'
phrases repeated N times under new ids (a stand-in for a state-wide catalogue), and the ratio
between them, measured in the same process. Run: .venv/bin/python benchmarks/match_speed.py
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.catalogue import Catalogue, load_catalogue  # noqa: E402
from bot.matching import TopicMatcher  # noqa: E402


def grown(catalogue: Catalogue, copies: int) -> Catalogue:
    topics = dict(catalogue.topics)
    for i in range(copies):
        for topic in catalogue.topics.values():
            suffix = f" x{i}"
            topics[f"{topic.id}-{i}"] = replace(
                topic, id=f"{topic.id}-{i}",
                synonyms={k: tuple(s + suffix for s in v) for k, v in topic.synonyms.items()})
    return replace(catalogue, topics=topics)


def rate(matcher: TopicMatcher, queries: list[str], seconds: float = 2.0) -> float:
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for query in queries:
            matcher.match(query)
        done += len(queries)
    return done / (time.perf_counter() - start)


def main() -> None:
    queries = [q["q"] for q in yaml.safe_load(
        (ROOT / "tests/data/match_queries.yaml").read_text(encoding="utf-8"))["queries"]]
    base = load_catalogue(ROOT / "content")
    base_rate = rate(TopicMatcher(base), queries)
    print(f"bundled catalogue ({len(base.topics)} topics): {base_rate:,.0f} queries/s")
    for copies in (10, 50):
        big = grown(base, copies)
        start = time.perf_counter()
        matcher = TopicMatcher(big)
        build = time.perf_counter() - start
        big_rate = rate(matcher, queries)
        print(f"{len(big.topics)} topics: index built in {build * 1000:.0f} ms, "
              f"{big_rate:,.0f} queries/s, ratio to bundled {big_rate / base_rate:.2f}")


if __name__ == "__main__":
    main()
