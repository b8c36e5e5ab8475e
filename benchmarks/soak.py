"""Soak test: 1,000 simulated newcomers through the service for minutes; errors and memory.

Run it with `python3 dev.py bench soak` (or `python3 dev.py bench`, which runs every
benchmark), or `.venv/bin/python benchmarks/soak.py [--minutes 3] [--people 1000]
[--store sqlite|memory] [--concurrency 64] [--quick]`.

A fixed population of people (1,000 by default) talks to one `Service`, with the metrics
observer that `wegweiser run` gives it (bot/metrics.py), without pause for the given time,
at most `--concurrency` `Service.handle` calls in flight (the path of
benchmarks/workers.py, with a no-op deliver and the real clock). Each person keeps one
language (of the ten of tests/data/'s labelled queries) and plays conversations planned by
benchmarks/workers.py: the first message in their language, the language tap, the topic,
the follow-up answers, the results, sometimes "more" or a second search. When a conversation
ends the person goes on, so the population stays the same: 45 % search again in the same
conversation ("restart", then a new topic and its answers), 25 % write "forget" (their state is
deleted) and start over, 30 % walk away and are replaced by a newcomer with a new conversation,
which the retention job (`Service.keep_forgetting`, running alongside with a short retention)
deletes once it has been idle long enough.

Every interval (a minute; a fifth of the run when it is shorter than two minutes) and at the
end it prints the turns so far, turns/s, p50/p95/p99 latency of the interval's turns, the
process's RSS, the Python heap traced by tracemalloc (which slows the turns down somewhat),
the SQLite file's size, and the errors: exceptions out of `handle` and ERROR log records (the
service logs and drops an event the engine failed on), counted by type or logger, never with
their text. Memory growth is measured from the end of the first interval (the warm-up) to the
end; the verdict is "flat" if RSS and the traced heap each grew by less than 10 % and the
traced heap did not grow by more than 1 % in each of the last two intervals. The exit status
is 1 if any error occurred.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import random
import sys
import tempfile
import time
import tracemalloc
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]  # benchmarks/workers.py, and the bot package

from workers import Person, build_engine, make_plan  # noqa: E402

from bot.metrics import Metrics  # noqa: E402
from bot.messages import ConversationId, Inbound, Reply, inbound_from_json  # noqa: E402
from bot.service import Service  # noqa: E402
from bot.store import MemoryStore, SqliteStore, Store  # noqa: E402

#: Planned conversations the people draw from (each replayed many times).
PLANS = 2000
#: After a conversation: search again, forget and start over, or walk away (a newcomer comes).
AGAIN, FORGET = 0.45, 0.25
#: Flat memory: less growth than this after warm-up, in RSS and in the traced heap ...
FLAT_GROWTH = 0.10
#: ... and the traced heap not growing by more than this in each of the last two intervals.
FLAT_STEP = 0.01
MB = 1024 * 1024


def rss() -> int:
    """The process's resident set size in bytes (VmRSS; the peak where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def language(person: Person) -> str:
    return str(person.inbounds[1].get("choice", "lang:en")).removeprefix("lang:")


class ErrorLog(logging.Handler):
    """Counts log records by level and logger, and prints none of them (their text could
    carry what a person wrote)."""

    def __init__(self, counts: Counter[str], warnings: Counter[str]) -> None:
        super().__init__(logging.WARNING)
        self.counts, self.warnings = counts, warnings

    def emit(self, record: logging.LogRecord) -> None:
        target = self.counts if record.levelno >= logging.ERROR else self.warnings
        target[f"logged {record.levelname} in {record.name}"] += 1


@dataclass
class Tally:
    turns: int = 0
    empty: int = 0  # handle calls that returned no reply (none expected here)
    conversations: int = 0  # conversations begun (newcomers and starts over)
    latencies: list[float] = field(default_factory=list)  # of the current interval
    errors: Counter[str] = field(default_factory=Counter)
    warnings: Counter[str] = field(default_factory=Counter)


@dataclass
class Sample:
    at: float
    turns: int
    rss: int
    traced: int


def percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")


def file_size(path: Path | None) -> int:
    if path is None:
        return 0
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file())


async def soak(args: argparse.Namespace, store: Store, db: Path | None) -> int:
    seconds = 20.0 if args.quick else args.minutes * 60
    interval = 60.0 if seconds >= 120 else seconds / 5
    retention = timedelta(seconds=5 if args.quick else 30)
    every = 2.0 if args.quick else 10.0

    engine = build_engine()
    plans, _, _ = make_plan(engine, PLANS, "plan:", seed=11)
    by_lang: dict[str, list[Person]] = defaultdict(list)
    for plan in plans:
        by_lang[language(plan)].append(plan)
    rng = random.Random(7)
    print(f"Wegweiser soak: {args.people:,} people, {args.concurrency} handle calls in flight, "
          f"{seconds:.0f} s, {'SQLite' if db else 'memory'} store; report every "
          f"{interval:.0f} s, warm-up {interval:.0f} s; retention job every {every:.0f} s "
          f"forgetting conversations idle for {retention.total_seconds():.0f} s.")
    print(f"{len(plans):,} planned conversations in {len(by_lang)} languages ("
          + ", ".join(f"{k} {len(v)}" for k, v in sorted(by_lang.items())) + "); deliver "
          "is a no-op; tracemalloc is on (it slows turns down).", flush=True)

    tally = Tally()
    logging.getLogger().handlers[:] = [ErrorLog(tally.errors, tally.warnings)]
    logging.getLogger().setLevel(logging.WARNING)
    metrics = Metrics()  # as `wegweiser run` does: the metrics' cost is part of each turn
    service = Service(engine, store, observer=metrics)
    gate = asyncio.Semaphore(args.concurrency)
    start = time.perf_counter()
    deadline = start + seconds
    newcomers = 0

    async def deliver(reply: Reply) -> None:  # renders and sends nothing
        return None

    async def say(conversation: ConversationId, inbound: Inbound, event_id: str) -> None:
        async with gate:
            begun = time.perf_counter()
            try:
                replies = await service.handle(conversation, inbound, event_id, deliver=deliver)
            except Exception as err:  # noqa: BLE001  counted; the person goes on
                tally.errors[f"{type(err).__module__}.{type(err).__name__}"] += 1
                return
            tally.latencies.append(time.perf_counter() - begun)
        tally.turns += 1
        if not replies:
            tally.empty += 1
        # The SQLite and memory stores never wait, so a turn runs without yielding: let the
        # others have theirs before this person writes again (they read the answer first).
        await asyncio.sleep(0)

    async def person(lang: str) -> None:
        nonlocal newcomers
        newcomers += 1
        conversation = ConversationId(f"soak:{newcomers}")
        turn = 0
        script = rng.choice(by_lang[lang]).inbounds
        while time.perf_counter() < deadline:
            tally.conversations += 1
            for data in script:
                if time.perf_counter() >= deadline:
                    return
                turn += 1
                await say(conversation, inbound_from_json(data), f"{conversation}:{turn}")
            hint = script[0].get("locale_hint")
            fate = rng.random()
            if fate < AGAIN:  # a new search: restart, then another plan's topic and answers
                turn += 1
                await say(conversation, Inbound(choice="restart", locale_hint=hint),
                          f"{conversation}:{turn}")
                script = rng.choice(by_lang[lang]).inbounds[2:]
            elif fate < AGAIN + FORGET:  # forget me, then start over from the first message
                turn += 1
                await say(conversation, Inbound(text="forget", locale_hint=hint),
                          f"{conversation}:{turn}")
                script = rng.choice(by_lang[lang]).inbounds
            else:  # walks away; a newcomer takes the place
                newcomers += 1
                conversation = ConversationId(f"soak:{newcomers}")
                turn = 0
                script = rng.choice(by_lang[lang]).inbounds

    def sample() -> Sample:
        gc.collect()
        return Sample(time.perf_counter(), tally.turns, rss(), tracemalloc.get_traced_memory()[0])

    def report(now: Sample, before: Sample) -> None:
        ordered = sorted(tally.latencies)
        tally.latencies.clear()
        rate = (now.turns - before.turns) / max(now.at - before.at, 1e-9)
        errors = sum(tally.errors.values())
        print(f"{now.at - start:>6.0f} s  turns {now.turns:>9,}  {rate:>6,.0f}/s  "
              f"p50 {percentile(ordered, 0.50) * 1e3:>6.1f}  p95 "
              f"{percentile(ordered, 0.95) * 1e3:>6.1f}  p99 "
              f"{percentile(ordered, 0.99) * 1e3:>6.1f} ms  RSS {now.rss / MB:>6.1f} MB  "
              f"traced {now.traced / MB:>6.1f} MB  "
              + (f"db {file_size(db) / MB:>5.1f} MB  " if db else "")
              + f"errors {errors}"
              + (" (" + ", ".join(f"{k} {v}" for k, v in sorted(tally.errors.items())) + ")"
                 if errors else ""), flush=True)

    tracemalloc.start()
    samples = [sample()]
    forgetting = asyncio.create_task(
        service.keep_forgetting(retention, every=every))
    languages = [language(rng.choice(plans)) for _ in range(args.people)]
    people = asyncio.gather(*(person(lang) for lang in languages))
    next_report = start + interval
    while True:  # the last sample at the deadline, with everybody still talking
        await asyncio.wait([people], timeout=max(0.0, min(next_report, deadline)
                                                 - time.perf_counter()))
        if forgetting.done() and not forgetting.cancelled() and forgetting.exception():
            err = forgetting.exception()
            tally.errors[f"retention job: {type(err).__module__}.{type(err).__name__}"] += 1
            forgetting = asyncio.create_task(service.keep_forgetting(retention, every=every))
        now = time.perf_counter()
        if now >= deadline - 0.01 or people.done():
            samples.append(sample())
            report(samples[-1], samples[-2])
            break
        if now >= next_report - 0.01:
            samples.append(sample())
            report(samples[-1], samples[-2])
            next_report += interval
    await people
    total = time.perf_counter() - start
    forgetting.cancel()
    try:
        await forgetting
    except asyncio.CancelledError:
        pass
    except Exception as err:  # noqa: BLE001
        tally.errors[f"retention job: {type(err).__module__}.{type(err).__name__}"] += 1
    await service.settle()
    tracemalloc.stop()

    base, end = samples[1], samples[-1]
    rss_growth = (end.rss - base.rss) / base.rss
    traced_growth = (end.traced - base.traced) / base.traced
    last_steps = [(b.traced - a.traced) / a.traced
                  for a, b in zip(samples[-3:], samples[-2:], strict=False)]
    rising = len(last_steps) == 2 and all(step > FLAT_STEP for step in last_steps)
    flat = rss_growth < FLAT_GROWTH and traced_growth < FLAT_GROWTH and not rising
    errors = sum(tally.errors.values())
    print(f"\n{tally.turns:,} turns in {total:.1f} s ({tally.turns / total:,.0f}/s), "
          f"{tally.conversations:,} conversations begun by {newcomers:,} newcomers "
          f"(population {args.people:,}); handle calls without a reply: {tally.empty:,}; "
          f"warnings logged: {sum(tally.warnings.values())}"
          + (" (" + ", ".join(f"{k} {v}" for k, v in sorted(tally.warnings.items())) + ")"
             if tally.warnings else "") + ".")
    counted = metrics.health()["turns"]
    print(f"The bot's own metrics (/metrics) counted {counted['ok']:,} turns handled and "
          f"{counted['failed']:,} failed.")
    print(f"Memory after warm-up ({base.at - start:.0f} s) to the end: RSS "
          f"{base.rss / MB:.1f} -> {end.rss / MB:.1f} MB, traced heap {base.traced / MB:.1f} -> "
          f"{end.traced / MB:.1f} MB ({traced_growth * 100:+.1f} %). Flat: each grew by less "
          f"than {FLAT_GROWTH * 100:.0f} % and the traced heap did not grow by more than "
          f"{FLAT_STEP * 100:.0f} % in each of the last two intervals.")
    print(f"errors: {errors}, memory growth: {(end.rss - base.rss) / MB:+.1f} MB "
          f"({rss_growth * 100:+.1f} %) after warm-up: {'flat' if flat else 'GROWING'}",
          flush=True)
    return 1 if errors else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0, help="how long (default 3)")
    parser.add_argument("--people", type=int, default=1000,
                        help="simulated people talking at once (default 1000)")
    parser.add_argument("--store", choices=("sqlite", "memory"), default="sqlite",
                        help="SQLite in a temporary directory (default), or the memory store")
    parser.add_argument("--concurrency", type=int, default=64,
                        help="handle calls in flight (default 64)")
    parser.add_argument("--quick", action="store_true", help="20 s, for a smoke run")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="wegweiser-soak-") as tmp:
        db = Path(tmp) / "soak.sqlite3" if args.store == "sqlite" else None
        store: Store = SqliteStore(db) if db else MemoryStore()

        async def run() -> int:
            try:
                return await soak(args, store, db)
            finally:
                await store.close()

        code = asyncio.run(run())
    sys.exit(code)


if __name__ == "__main__":
    main()
