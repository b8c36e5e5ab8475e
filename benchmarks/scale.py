"""Wegweiser at any catalogue size: load time, matcher and engine latency, memory, baseline.

Run it with `python3 dev.py bench` (installs the bench extra, then runs this file), or
`.venv/bin/python benchmarks/scale.py [--sizes 100,1000,20000] [--quick]`.

For each size it generates a synthetic catalogue on disk from the bundled one: the real offers
copied with new ids across all 40 Stadtteile, the real translations copied with them (so every
language of content/translations/ is present), and extra synthetic topics with pronounceable
nonsense names and synonyms in every script, one per 100 offers (a state-wide catalogue has
more, narrower topics; these also act as distractors for the matcher). Then it measures, in
one process:

* load + validate + index: `load_catalogue` and building the `Engine`;
* matcher latency per query over the labelled queries of tests/data/ (cold: caches empty);
* engine latency per turn and turns per second, for simulated conversations;
* memory per stored conversation (JSON in SQLite, and Python objects in the memory store);
* a naive baseline: rapidfuzz `process.extract` with `WRatio` over every synonym string, no
  index, with its accuracy on the same queries next to ours;
* python-telegram-bot's `Update.de_json` for one incoming message, the reference for a turn.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import shutil
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rapidfuzz import fuzz, process  # noqa: E402

from bot.catalogue import Catalogue, load_catalogue  # noqa: E402
from bot.catalogue.parsecache import ParseCache  # noqa: E402
from bot.engine import Engine, State  # noqa: E402
from bot.i18n.catalogues import load_languages  # noqa: E402
from bot.matching import TopicMatcher  # noqa: E402
from bot.messages import Choices, ConversationId, Inbound  # noqa: E402
from bot.store import MemoryStore, SqliteStore  # noqa: E402

CONTENT = ROOT / "content"
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
NAIVE_CONFIDENT = 86.0  # WRatio score the naive baseline needs to claim a topic
#: A state-wide catalogue has more, narrower topics than a city: one per this many offers.
OFFERS_PER_TOPIC = 100
SCRIPTS = {  # letters that synthetic words are drawn from, per script
    "latin": "abcdefghijklmnopqrstuvwxyz",
    "arabic": "ابتثجحخدذرزسشصضطظعغفقكلمنهوي",
    "cyrillic": "абвгдежзийклмнопрстуфхцчшщыэюя",
    "ethiopic": "ሀለሐመሠረሰሸቀበተቸነኘአከኸወዐዘዠየደጀገጠጨጰጸፀፈፐ",
}
LANG_SCRIPT = {"de": "latin", "en": "latin", "fr": "latin", "tr": "latin", "ku": "latin",
               "ar": "arabic", "fa": "arabic", "ps": "arabic", "uk": "cyrillic",
               "ru": "cyrillic", "ti": "ethiopic"}


# -- synthetic catalogues ---------------------------------------------------------------------

def _word(rng: random.Random, script: str) -> str:
    """A made-up word of 5 to 9 letters: as distinct from real words as real words are."""
    return "".join(rng.choice(SCRIPTS[script]) for _ in range(rng.randint(5, 9)))


def _dump(path: Path, data: object) -> None:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def generate(target: Path, offers: int, seed: int = 7) -> None:
    """Write a catalogue of `offers` offers into `target`, built from the bundled content."""
    rng = random.Random(seed)
    shutil.copytree(CONTENT, target, ignore=shutil.ignore_patterns("offers", "translations"))
    (target / "offers").mkdir()
    (target / "translations").mkdir()
    meta = yaml.safe_load((CONTENT / "catalogue.yaml").read_text(encoding="utf-8"))
    topics = yaml.safe_load((CONTENT / "topics.yaml").read_text(encoding="utf-8"))
    translations = {p.stem: yaml.safe_load(p.read_text(encoding="utf-8"))
                    for p in sorted((CONTENT / "translations").glob("*.yaml"))}
    originals = []
    for path in sorted((CONTENT / "offers").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        originals += [(data["provider"], offer) for offer in data["offers"]]

    extra_topics = max(0, offers // OFFERS_PER_TOPIC - len(topics["topics"]))
    synthetic_ids = [f"synthetic-{k}" for k in range(extra_topics)]
    for tid in synthetic_ids:
        topics["topics"].append({
            "id": tid,
            "name": {lang: _word(rng, "latin") for lang in ("de", "en")},
            "synonyms": {lang: [f"{_word(rng, 'latin')} {_word(rng, 'latin')}" for _ in range(8)]
                         for lang in ("de", "en")},
        })
        for lang, text in translations.items():
            script = LANG_SCRIPT.get(lang, "latin")
            text.setdefault("topics", {})[tid] = {
                "name": _word(rng, script),
                "synonyms": [f"{_word(rng, script)} {_word(rng, script)}" for _ in range(8)]}
    _dump(target / "topics.yaml", topics)

    per_file = 100
    translated_offers = {lang: dict(text.pop("offers", {})) for lang, text in translations.items()}
    for lang, text in translations.items():  # topics, questions: translations/<lang>/main.yaml
        (target / "translations" / lang).mkdir()
        _dump(target / "translations" / lang / "main.yaml", text)
    for start in range(0, offers, per_file):
        batch = []
        batch_texts: dict[str, dict] = {lang: {} for lang in translated_offers}
        for k in range(start, min(offers, start + per_file)):
            provider, original = originals[k % len(originals)]
            copy = dict(original, id=f"{original['id']}-{k}",
                        district=rng.choice(meta["districts"]))
            copy.pop("address", None)
            if synthetic_ids and k % 2:
                copy["topics"] = [rng.choice(synthetic_ids)]
            batch.append(copy)
            for lang, known in translated_offers.items():
                if original["id"] in known:
                    batch_texts[lang][copy["id"]] = known[original["id"]]
        name = f"provider-{start // per_file:04d}.yaml"
        _dump(target / "offers" / name,
              {"provider": {"name": f"Anbieter {start // per_file}"}, "offers": batch})
        for lang, texts in batch_texts.items():  # one translation file per provider file
            _dump(target / "translations" / lang / name, {"offers": texts})


# -- measuring ----------------------------------------------------------------------------------

def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def load_queries() -> list[dict]:
    queries = []
    data = ROOT / "tests" / "data"
    for path in sorted(data.glob("match_queries*.yaml")) + sorted(data.glob("heldout_*.yaml")):
        queries += yaml.safe_load(path.read_text(encoding="utf-8"))["queries"]
    return queries


def accuracy(predict: Callable[[str], tuple[list[str], bool]], queries: list[dict]
             ) -> tuple[float, float, float]:
    top1 = top3 = on = off = rejected = 0
    for item in queries:
        ids, confident = predict(item["q"])
        if item["topic"] is None:
            off += 1
            rejected += not confident
        else:
            on += 1
            top1 += confident and ids[:1] == [item["topic"]]
            top3 += item["topic"] in ids[:3]
    return top1 / on, top3 / on, rejected / max(off, 1)


class NaiveMatcher:
    """The obvious approach: every synonym string, WRatio, no index, no normalisation."""

    def __init__(self, catalogue: Catalogue):
        self.choices: list[str] = []
        self.topic_of: list[str] = []
        for topic in catalogue.topics.values():
            for texts in (topic.name, *[dict(enumerate(v)) for v in topic.synonyms.values()]):
                for text in texts.values():
                    self.choices.append(text.lower())
                    self.topic_of.append(topic.id)

    def predict(self, query: str) -> tuple[list[str], bool]:
        found = process.extract(query.lower(), self.choices, scorer=fuzz.WRatio, limit=25)
        ids: list[str] = []
        best = 0.0
        for _, score, index in found:
            best = max(best, score)
            if self.topic_of[index] not in ids:
                ids.append(self.topic_of[index])
        return ids[:5], best >= NAIVE_CONFIDENT


def ours(matcher: TopicMatcher) -> Callable[[str], tuple[list[str], bool]]:
    def predict(query: str) -> tuple[list[str], bool]:
        result = matcher.match(query)
        return [t.id for t in result.topics], result.confident
    return predict


def conversation_turns(engine: Engine, queries: list[dict], rng: random.Random
                       ) -> tuple[list[float], list[State]]:
    """Simulated newcomers, one per labelled query: the query as first message (with the
    language as platform hint), a tap on the language, the query again as the topic, a tapped
    or typed answer to every follow-up question, the results, and for every other person one
    "more". Off-topic queries go round the topic prompt by tapping a number."""
    samples: list[float] = []
    finals: list[State] = []
    codes = list(engine.languages)
    for item in queries:
        lang = item["lang"] if item["lang"] in engine.languages else rng.choice(codes)
        state: State | None = None
        script = [Inbound(text=item["q"], locale_hint=lang), Inbound(choice=f"lang:{lang}"),
                  Inbound(text=item["q"])]
        wants_more = rng.random() < 0.5
        for _ in range(12):
            if script:
                inbound = script.pop(0)
            elif state is not None and state.step == "question":
                question = engine.catalogue.question(state.question or "")
                assert question is not None
                option = rng.choice(question.options)
                inbound = (Inbound(choice=f"a:{question.id}:{option.id}") if rng.random() < 0.7
                           else Inbound(text=next(iter(option.label.values()))))
            elif state is not None and state.step == "results":
                if not wants_more:
                    break
                wants_more = False
                inbound = Inbound(text="more")
            elif state is not None and state.step in {"topic", "clarify"}:
                inbound = Inbound(text=str(rng.randint(1, 3)))
            else:
                inbound = Inbound(choice=f"lang:{lang}")
            start = time.perf_counter()
            state, outputs = engine.step(state, inbound, NOW)
            samples.append(time.perf_counter() - start)
            assert state is not None and isinstance(outputs[-1], Choices)
        assert state is not None
        finals.append(state)
    return samples, finals


async def memory_per_conversation(states: list[State], directory: Path) -> tuple[float, float]:
    """Bytes per stored conversation: SQLite file growth, and Python memory of the memory store."""
    sqlite = SqliteStore(directory / "memory-test.sqlite3")
    for i, state in enumerate(states):
        await sqlite.commit(ConversationId(f"bench:{i}"), state.to_json(), f"e{i}", [], NOW)
    await sqlite.close()
    file_bytes = sum(p.stat().st_size for p in directory.glob("memory-test.sqlite3*"))
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    memory = MemoryStore()
    for i, state in enumerate(states):
        await memory.commit(ConversationId(f"bench:{i}"), state.to_json(), f"e{i}", [], NOW)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(before, "filename"))
    return file_bytes / len(states), grown / len(states)


def de_json_latency(rounds: int) -> float | None:
    try:
        from telegram import Bot, Update
    except ImportError:
        return None
    payload = {"update_id": 123456789, "message": {
        "message_id": 42, "date": 1764230000, "text": "بدي kita لابني",
        "chat": {"id": 987654321, "type": "private", "first_name": "Amira"},
        "from": {"id": 987654321, "is_bot": False, "first_name": "Amira",
                 "language_code": "ar"}}}
    bot = Bot("123456:benchmark-token-not-used-for-requests")
    samples = [timed(lambda: Update.de_json(payload, bot)) for _ in range(rounds)]
    return percentiles(samples)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,20000")
    parser.add_argument("--quick", action="store_true", help="fewer queries, for a smoke run")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    queries = load_queries()
    if args.quick:
        queries = queries[::5]
    languages = load_languages(ROOT / "locales")
    rng = random.Random(11)
    ptb = de_json_latency(2000 if args.quick else 20000)
    print(f"Wegweiser benchmark: {len(queries)} labelled queries in "
          f"{len({q['lang'] for q in queries})} languages, {len(languages)} interface languages")
    print("python-telegram-bot Update.de_json p50: "
          + (f"{ptb * 1e6:.1f} µs" if ptb else "not installed (pip install '.[bench]')"))
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "content"
            generate(folder, size)
            gc.collect()
            cache_dir = Path(tmp) / "parse-cache"
            start = time.perf_counter()  # first start: every file parsed
            Engine(load_catalogue(folder, ParseCache(cache_dir)), languages)
            cold_seconds = time.perf_counter() - start
            gc.collect()
            start = time.perf_counter()  # a restart or reload: unchanged files not re-parsed
            catalogue = load_catalogue(folder, ParseCache(cache_dir))
            engine = Engine(catalogue, languages)
            load_seconds = time.perf_counter() - start
            mb = sum(p.stat().st_size for p in folder.rglob("*.yaml")) / 1e6
            matcher = engine.topics
            match_samples = [timed(lambda q=q, m=matcher: m.match(q["q"])) for q in queries]
            m50, m95 = percentiles(match_samples)
            our_accuracy = accuracy(ours(engine.topics), queries)
            naive = NaiveMatcher(catalogue)
            naive_samples = [timed(lambda q=q, m=naive: m.predict(q["q"])) for q in queries]
            n50, n95 = percentiles(naive_samples)
            naive_accuracy = accuracy(naive.predict, queries)
            turn_samples, finals = conversation_turns(engine, queries, rng)
            t50, t95 = percentiles(turn_samples)
            per_second = len(turn_samples) / sum(turn_samples)
            sqlite_bytes, memory_bytes = asyncio.run(memory_per_conversation(finals, Path(tmp)))
        print(f"\n== {size:,} offers, {len(catalogue.topics)} topics, "
              f"{sum(len(v) for t in catalogue.topics.values() for v in t.synonyms.values()):,} "
              f"synonyms")
        print(f"load + validate + index ({mb:.1f} MB of YAML): {load_seconds:.2f} s on a restart "
              f"or reload (parse cache); {cold_seconds:.2f} s on the very first start "
              f"(every file parsed)")
        print(f"matcher per query (cold caches): p50 {m50 * 1e3:.3f} ms, p95 {m95 * 1e3:.3f} ms")
        print(f"naive WRatio baseline:           p50 {n50 * 1e3:.3f} ms, p95 {n95 * 1e3:.3f} ms"
              f"  -> ours is {n50 / m50:.1f}x faster at p50, {n95 / m95:.1f}x at p95")
        print("accuracy top-1 / top-3 / off-topic rejected: ours "
              f"{our_accuracy[0]:.3f} / {our_accuracy[1]:.3f} / {our_accuracy[2]:.3f}, naive "
              f"{naive_accuracy[0]:.3f} / {naive_accuracy[1]:.3f} / {naive_accuracy[2]:.3f}")
        print(f"engine per turn: p50 {t50 * 1e6:.1f} µs, p95 {t95 * 1e3:.3f} ms, "
              f"{per_second:,.0f} turns/s on one core ({len(turn_samples):,} turns)"
              + (f"; p50 is {t50 / ptb:.2f}x Update.de_json" if ptb else ""))
        print(f"per stored conversation: {sqlite_bytes:,.0f} bytes in SQLite, "
              f"{memory_bytes:,.0f} bytes in the memory store")
    print("\nTargets (issue 3): turn p50 <= Update.de_json p50; turn p95 < 5 ms at 20,000 offers;"
          " matcher >= 10x faster than naive at 20,000 offers with equal or better accuracy;"
          " load < 3 s at 20,000 offers.")


if __name__ == "__main__":
    main()
