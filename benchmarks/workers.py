"""Turns per second through the whole service: SQLite, Redis with one worker, Redis with two.

Run it with `python3 dev.py bench workers` (or `python3 dev.py bench`, which runs every
benchmark), or `.venv/bin/python benchmarks/workers.py [--people 1500] [--concurrency 64]
[--quick]`.

A turn is one `Service.handle(conversation, Inbound(...), event_id, deliver=...)` call, the
whole path of a message: the event into the store's inbox, the person's lock, load the state,
the engine step on the bundled catalogue, the atomic commit of state, handled event and
replies, and each reply out of the outbox. `deliver` is a no-op that renders nothing, so
Telegram's rendering and HTTP time are not included.

The workload is many distinct people (1,500 by default, about 8,600 turns), each a realistic
conversation: the first message in their own language (a labelled query of tests/data/), a tap
on the language, the topic in their own words, an answer to each follow-up question (tapped, or
typed), the results, for some "more", for some a new search on a short topic ("kita",
"Deutschkurs", "school" ...) and its answers. Each person waits for the answer before writing
again; a worker keeps a bounded number of turns in flight (64 by default), like a busy one.

Every conversation is planned first by the engine alone (with the fixed clock the service
uses here), so each configuration can be checked afterwards: every event handled exactly once
(engine steps = events, and for Redis the handled ids the store keeps), every reply delivered
once, every final state the planned one, nothing left waiting, and every person reached results.

Configurations, in one run, each warmed up first on people of its own:

* memory store, one worker: the upper bound (no persistence at all);
* SQLite, one worker: the embedded default and the baseline of every ratio;
* Redis, one worker;
* Redis, two worker processes (this file in worker mode) sharing one Redis and splitting the
  same people between them. One person in eight is sent by both workers (every event of theirs
  reaches both, as after a platform redelivery or a load balancer spreading a person's
  updates): whoever queues an event first drains it under the distributed lock, the other's
  call is refused or finds the lock taken. Such a call ran no turn, so that worker sends the
  person's next event at once (a person writing again before the answer came), which makes
  the two workers meet on the person's lock; the output counts how often they did.

The script starts its own redis-server (Debian's package; `python3 dev.py bench` installs it)
on a free port in a temporary directory, without persistence, and stops it at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
import redis.asyncio  # noqa: E402

from bot.catalogue import load_catalogue  # noqa: E402
from bot.engine import Engine, State  # noqa: E402
from bot.i18n.catalogues import load_languages  # noqa: E402
from bot.messages import (ConversationId, Inbound, Offers, Reply, UnmetNeed,  # noqa: E402
                          inbound_from_json, inbound_to_json)
from bot.service import Service  # noqa: E402
from bot.store import MemoryStore, SqliteStore, Store  # noqa: E402
from bot.store.redis import RedisStore  # noqa: E402

#: The service's clock in every configuration and in the plan: the same turns everywhere.
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
#: Short topics for a second search, as people type them.
SECOND_TOPICS = ["kita", "Deutschkurs", "school", "Integrationskurs", "job", "Ausbildung",
                 "Beratung", "sprachkurs abends", "Schule für mein Kind", "Kindergarten"]
#: One person in this many is sent by both workers in the two-worker configuration.
SHARED_EVERY = 8
MAX_TURNS = 14


# -- the plan -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Person:
    conversation: str
    inbounds: tuple[dict[str, Any], ...]  # inbound_to_json of each turn, in order
    replies: int  # replies the person should get over the whole conversation
    final: dict[str, Any] | None  # the state after the last turn, as the store keeps it
    saw_results: bool

    def event_id(self, turn: int) -> str:
        return f"{self.conversation}:{turn}"

    def to_json(self) -> dict[str, Any]:
        return {"conversation": self.conversation, "inbounds": list(self.inbounds),
                "replies": self.replies, "final": self.final, "saw_results": self.saw_results}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Person:
        return cls(data["conversation"], tuple(data["inbounds"]), data["replies"],
                   data["final"], data["saw_results"])


def load_queries() -> list[dict]:
    """The labelled on-topic queries of tests/data/: what newcomers write, in 10 languages."""
    queries = []
    data = ROOT / "tests" / "data"
    for path in sorted(data.glob("match_queries*.yaml")):
        queries += [q for q in yaml.safe_load(path.read_text(encoding="utf-8"))["queries"]
                    if q["topic"] is not None]
    return queries


def build_engine() -> Engine:
    return Engine(load_catalogue(ROOT / "content"), load_languages(ROOT / "locales"))


def plan_person(engine: Engine, conversation: str, query: dict, rng: random.Random
                ) -> tuple[Person, int, float]:
    """Play one person's conversation on the engine alone (states round-tripped through JSON,
    as the service does). Returns the person, the engine steps and the seconds they took."""
    lang = query["lang"] if query["lang"] in engine.languages else "en"
    hint = {"ku": "ku", "ti": "ti"}.get(lang, f"{lang}-{lang.upper()}")
    script = [Inbound(text=query["q"], locale_hint=hint),
              Inbound(choice=f"lang:{lang}", locale_hint=hint),
              Inbound(text=query["q"], locale_hint=hint)]
    wants_more = rng.random() < 0.5
    searches_again = rng.random() < 0.3
    state: State | None = None
    inbounds: list[Inbound] = []
    replies = 0
    saw_results = False
    seconds = 0.0
    for _ in range(MAX_TURNS):
        if script:
            inbound = script.pop(0)
        elif state is not None and state.step == "question":
            question = engine.catalogue.question(state.question or "")
            assert question is not None
            option = rng.choice(question.options)
            inbound = (Inbound(choice=f"a:{question.id}:{option.id}", locale_hint=hint)
                       if rng.random() < 0.7 else
                       Inbound(text=option.label.get(lang) or next(iter(option.label.values())),
                               locale_hint=hint))
        elif state is not None and state.step == "results":
            if wants_more:
                wants_more = False
                inbound = Inbound(text="more", locale_hint=hint)
            elif searches_again:
                searches_again = False
                script = [Inbound(text=rng.choice(SECOND_TOPICS), locale_hint=hint)]
                inbound = Inbound(choice="restart", locale_hint=hint)
            else:
                break
        elif state is not None and state.step in {"topic", "clarify"}:
            inbound = Inbound(text=str(rng.randint(1, 3)), locale_hint=hint)
        else:
            inbound = Inbound(choice=f"lang:{lang}", locale_hint=hint)
        start = time.perf_counter()
        state, outputs = engine.step(state, inbound, NOW)
        seconds += time.perf_counter() - start
        state = State.from_json(state.to_json()) if state is not None else None
        inbounds.append(inbound)
        replies += sum(not isinstance(o, UnmetNeed) for o in outputs)
        saw_results = saw_results or any(isinstance(o, Offers) for o in outputs)
    return (Person(conversation, tuple(inbound_to_json(i) for i in inbounds), replies,
                   state.to_json() if state is not None else None, saw_results),
            len(inbounds), seconds)


def make_plan(engine: Engine, count: int, prefix: str, seed: int
              ) -> tuple[list[Person], int, float]:
    rng = random.Random(seed)
    queries = load_queries()
    people: list[Person] = []
    steps, seconds = 0, 0.0
    for k in range(count):
        person, n, s = plan_person(engine, f"{prefix}{100_000_000 + k}", rng.choice(queries),
                                   rng)
        people.append(person)
        steps += n
        seconds += s
    return people, steps, seconds


def events(people: Iterable[Person]) -> int:
    return sum(len(p.inbounds) for p in people)


# -- one worker's load --------------------------------------------------------------------------

@dataclass
class Load:
    """What one worker measured."""

    seconds: float
    calls: int
    latencies: list[float]  # of the calls that ran at least one turn
    steps: int  # engine steps this worker ran
    delivered: Counter[str]  # replies delivered, by conversation


def counting_locks(store: RedisStore) -> Counter[bool]:
    """Count the store's lock tries from here on, by outcome (True: taken)."""
    tries: Counter[bool] = Counter()
    lock = store.lock

    @asynccontextmanager
    async def counted(conversation: ConversationId) -> AsyncIterator[bool]:
        async with lock(conversation) as mine:
            tries[mine] += 1
            yield mine

    store.lock = counted  # type: ignore[method-assign]
    return tries


def counting(engine: Engine) -> Callable[[], int]:
    """Count the engine's steps from here on (the service's turns): returns the counter."""
    steps = 0
    step = engine.step

    def counted(state: State | None, inbound: Inbound, now: datetime
                ) -> tuple[State | None, list[Any]]:
        nonlocal steps
        steps += 1
        return step(state, inbound, now)

    engine.step = counted  # type: ignore[method-assign]
    return lambda: steps


async def drive(service: Service, people: Sequence[Person], concurrency: int,
                step_count: Callable[[], int]) -> Load:
    """Every person writes their turns one after the other, waiting for each answer; at most
    `concurrency` handle calls are in flight at once."""
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    delivered: Counter[str] = Counter()
    calls = 0

    async def person(p: Person) -> None:
        nonlocal calls
        conversation = ConversationId(p.conversation)

        async def deliver(reply: Reply) -> None:  # renders and sends nothing
            delivered[p.conversation] += 1

        turn = 0
        while turn < len(p.inbounds):
            async with gate:
                # A call that ran no turn (only with two workers: the other one queued this
                # event first, or holds the person's lock and takes it from the inbox) is
                # followed by the next event at once, as from a person who writes again
                # before the answer came: that is what makes the workers meet on a lock.
                while turn < len(p.inbounds):
                    start = time.perf_counter()
                    replies = await service.handle(conversation,
                                                   inbound_from_json(p.inbounds[turn]),
                                                   p.event_id(turn), deliver=deliver)
                    turn += 1
                    calls += 1
                    if replies:
                        latencies.append(time.perf_counter() - start)
                        break

    steps_before = step_count()
    start = time.perf_counter()
    await asyncio.gather(*(person(p) for p in people))
    seconds = time.perf_counter() - start
    return Load(seconds, calls, latencies, step_count() - steps_before, delivered)


# -- checks -------------------------------------------------------------------------------------

async def check(store: Store, people: Sequence[Person], steps: int,
                delivered: Counter[str], handled: int | None = None) -> list[str]:
    """What went wrong, if anything: events handled other than once, replies lost or sent
    twice, final states other than planned, work left in the store, people without results."""
    problems = []
    expected = events(people)
    if steps != expected:
        problems.append(f"{steps} engine steps for {expected} events")
    if handled is not None and handled != expected:
        problems.append(f"the store holds {handled} handled event ids for {expected} events")
    wrong_replies = sum(delivered[p.conversation] != p.replies for p in people)
    if wrong_replies:
        problems.append(f"{wrong_replies} people got another number of replies than planned")
    wrong_states = 0
    for p in people:
        if await store.load(ConversationId(p.conversation)) != p.final:
            wrong_states += 1
    if wrong_states:
        problems.append(f"{wrong_states} final states differ from the plan")
    left = await store.waiting()
    if left:
        problems.append(f"{len(left)} conversations left with queued events or unsent replies")
    without = sum(not p.saw_results for p in people)
    if without:
        problems.append(f"{without} people never reached results")
    return problems


async def redis_handled(url: str, prefix: str, people: Sequence[Person]) -> int:
    """How many event ids the Redis store keeps as handled for these people (each keeps far
    fewer than SEEN_PER_CONVERSATION): from the store's key layout, see bot/store/redis.py."""
    client = redis.asyncio.Redis.from_url(url)
    try:
        async with client.pipeline(transaction=False) as pipe:
            for p in people:
                pipe.zcard(f"{prefix}c:{p.conversation}:handled")
            return sum(await pipe.execute())
    finally:
        await client.aclose()


# -- redis-server -------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def redis_binary() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("benchmarks/workers.py: redis-server not found on PATH. Install Debian's "
                 "redis-server package (`python3 dev.py bench` does), then run this again.")
    return binary


def start_redis(directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A private redis-server on a free port, no persistence; exits if there is none."""
    binary = redis_binary()
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
         "no", "--dir", str(directory), "--logfile", str(directory / "redis.log"),
         "--daemonize", "no"],
        cwd=directory, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            error = process.stderr.read().decode() if process.stderr else ""
            sys.exit("redis-server exited at start: " + error[-2000:])
        client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1)
        try:
            if client.ping():
                return process, f"redis://127.0.0.1:{port}/0"
        except redis.ConnectionError:
            time.sleep(0.05)
        finally:
            client.close()
    stop_redis(process)
    sys.exit("redis-server did not answer within 20 s")


def stop_redis(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- configurations -----------------------------------------------------------------------------

@dataclass
class Result:
    name: str
    workers: int
    turns: int
    calls: int
    seconds: float
    latencies: list[float]
    problems: list[str]
    per_worker: list[float] | None = None  # turns/s each worker handled
    locks: list[dict[str, int]] | None = None  # each worker's lock tries, taken or held

    @property
    def rate(self) -> float:
        return self.turns / self.seconds


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


async def one_worker(name: str, store: Store, engine: Engine, warmup: Sequence[Person],
                     people: Sequence[Person], concurrency: int,
                     redis_at: tuple[str, str] | None = None) -> Result:
    service = Service(engine, store, clock=lambda: NOW)
    step_count = counting(engine)
    try:
        await drive(service, warmup, concurrency, step_count)
        load = await drive(service, people, concurrency, step_count)
        handled = await redis_handled(*redis_at, people) if redis_at else None
        problems = await check(store, people, load.steps, load.delivered, handled)
    finally:
        del engine.step  # back to the class's method
        await store.close()
    return Result(name, 1, events(people), load.calls, load.seconds, load.latencies, problems)


def two_workers(url: str, prefix: str, plan_file: Path, concurrency: int, engine: Engine,
                people: Sequence[Person]) -> Result:
    """Two processes of this script in worker mode on one Redis; started together once both
    loaded the engine and warmed up."""
    workers = [subprocess.Popen(
        [sys.executable, __file__, "--worker", str(k), "--redis", url, "--prefix", prefix,
         "--plan", str(plan_file), "--concurrency", str(concurrency)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for k in range(2)]
    try:
        for worker in workers:
            assert worker.stdout is not None
            if worker.stdout.readline().strip() != "ready":
                sys.exit("a benchmark worker failed to start (see above)")
        start = time.perf_counter()
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        reports = []
        for worker in workers:
            assert worker.stdout is not None
            line = worker.stdout.readline()
            if not line:
                sys.exit("a benchmark worker died (see above)")
            reports.append(json.loads(line))
        seconds = time.perf_counter() - start
    finally:
        for worker in workers:  # a worker still waiting for "go" (the other failed) gives up
            if worker.stdin is not None and not worker.stdin.closed:
                worker.stdin.close()
        for worker in workers:
            try:
                worker.wait(30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
    delivered: Counter[str] = Counter()
    for report in reports:
        delivered.update(report["delivered"])
    steps = sum(report["steps"] for report in reports)

    async def verify() -> list[str]:
        store = RedisStore.from_url(url, prefix=prefix)
        try:
            handled = await redis_handled(url, prefix, people)
            return await check(store, people, steps, delivered, handled)
        finally:
            await store.close()

    return Result("Redis", 2, events(people), sum(r["calls"] for r in reports), seconds,
                  [x for r in reports for x in r["latencies"]], asyncio.run(verify()),
                  [r["steps"] / r["seconds"] for r in reports],
                  [r["locks"] for r in reports])


def worker_main(args: argparse.Namespace) -> None:
    """Worker mode: load the engine, warm up on people of its own, say "ready", wait for "go",
    handle this worker's share, print one JSON line with what it measured."""
    engine = build_engine()
    plan = json.loads(Path(args.plan).read_text(encoding="utf-8"))
    people = [Person.from_json(p) for p in plan["people"]]
    # The shared people first and in the same order in both workers, so that both reach
    # each of them at about the same time, then this worker's own half of the others.
    shared = people[SHARED_EVERY - 1::SHARED_EVERY]
    mine = shared + [p for k, p in enumerate(people)
                     if k % SHARED_EVERY != SHARED_EVERY - 1 and k % 2 == args.worker]
    warmup = [Person.from_json(p) for p in plan["warmup"][args.worker]]
    step_count = counting(engine)

    async def run() -> tuple[Load, Counter[bool]]:
        store = RedisStore.from_url(args.redis, prefix=args.prefix)
        service = Service(engine, store, clock=lambda: NOW)
        try:
            await drive(service, warmup, args.concurrency, step_count)
            print("ready", flush=True)
            if (await asyncio.to_thread(sys.stdin.readline)).strip() != "go":
                sys.exit(1)  # the benchmark gave up
            tries = counting_locks(store)
            return await drive(service, mine, args.concurrency, step_count), tries
        finally:
            await store.close()

    load, tries = asyncio.run(run())
    print(json.dumps({"seconds": load.seconds, "calls": load.calls, "steps": load.steps,
                      "latencies": load.latencies, "delivered": load.delivered,
                      "locks": {"taken": tries[True], "held": tries[False]}}), flush=True)


# -- the report ---------------------------------------------------------------------------------

def label(r: Result) -> str:
    return f"{r.name}, {r.workers} worker{'s' if r.workers > 1 else ''}"


def describe(r: Result, baseline: Result | None, people: int, shared: int) -> None:
    p50, p95 = percentiles(r.latencies)
    ratio = f", {r.rate / baseline.rate:.2f}x SQLite" if baseline else ""
    print(f"\n== {label(r)}: {r.rate:,.0f} turns/s ({r.turns:,} turns in {r.seconds:.2f} s), "
          f"turn p50 {p50 * 1e3:.2f} ms, p95 {p95 * 1e3:.2f} ms{ratio}")
    if r.per_worker and r.locks:
        print(f"   per worker: {r.rate / r.workers:,.0f} turns/s on average; each on its own "
              f"(turns it ran / its own time): "
              + ", ".join(f"{x:,.0f}" for x in r.per_worker))
        print(f"   {shared} people sent by both workers: {r.calls:,} handle calls for "
              f"{r.turns:,} turns; person locks taken / found held by the other worker: "
              + ", ".join(f"{k['taken']:,} / {k['held']:,}" for k in r.locks))
    print("   check: " + ("every event handled exactly once, every reply delivered once, "
                          "every final state as planned, nothing left waiting, all "
                          f"{people:,} people reached results" if not r.problems
                          else "FAILED: " + "; ".join(r.problems)), flush=True)


def table(results: list[Result], baseline: Result) -> None:
    print(f"\n{'configuration':<19}{'turns':>7}{'turns/s':>9}{'/worker':>9}{'p50 ms':>8}"
          f"{'p95 ms':>8}{'vs SQLite':>11}  check")
    for r in results:
        p50, p95 = percentiles(r.latencies)
        print(f"{label(r):<19}{r.turns:>7,}{r.rate:>9,.0f}{r.rate / r.workers:>9,.0f}"
              f"{p50 * 1e3:>8.1f}{p95 * 1e3:>8.1f}{r.rate / baseline.rate:>10.2f}x  "
              f"{'ok' if not r.problems else 'FAILED'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1500,
                        help="conversations (default 1500, about 8,600 turns)")
    parser.add_argument("--concurrency", type=int, default=64,
                        help="handle calls in flight per worker (default 64)")
    parser.add_argument("--quick", action="store_true", help="300 people, for a smoke run")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--redis", help=argparse.SUPPRESS)
    parser.add_argument("--prefix", help=argparse.SUPPRESS)
    parser.add_argument("--plan", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        worker_main(args)
        return
    total_start = time.perf_counter()
    redis_binary()
    count = 300 if args.quick else args.people
    warm_count = max(30, min(100, count // 10))

    engine = build_engine()
    people, plan_steps, plan_seconds = make_plan(engine, count, "telegram:", seed=5)
    warmups = [make_plan(engine, warm_count, f"telegram:warm{k}-", seed=100 + k)[0]
               for k in range(4)]
    turns = events(people)
    shared = len(people[SHARED_EVERY - 1::SHARED_EVERY])
    cpus = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cpus
    print(f"Wegweiser workers benchmark: {count:,} people, {turns:,} turns "
          f"({turns / count:.1f} per person, {sum(p.replies for p in people):,} replies), "
          f"{args.concurrency} handle calls in flight per worker; each configuration is "
          f"warmed up on {warm_count} other people first.")
    print("A turn is one Service.handle call: inbox, lock, load, engine step, atomic commit, "
          "outbox. deliver is a no-op: no rendering, no Telegram HTTP time.")
    print(f"CPUs: os.cpu_count() = {cpus}, usable here = {usable}. redis-server and the two "
          "worker processes share them; each worker also generates its own load.")
    print(f"Engine alone (planning the conversations, no store, no service): "
          f"{plan_steps / plan_seconds:,.0f} turns/s, {plan_seconds / plan_steps * 1e6:.0f} µs "
          "per turn on average.")
    print("Latency is per handle call that ran a turn, with the others in flight: once a "
          "worker is saturated it is mostly queueing, about in-flight calls / turns per second.")

    results: list[Result] = []
    baseline: Result | None = None
    with tempfile.TemporaryDirectory(prefix="wegweiser-bench-") as tmp:
        folder = Path(tmp)
        server, url = start_redis(folder)
        try:
            memory = asyncio.run(one_worker(
                "memory", MemoryStore(), engine, warmups[0], people, args.concurrency))
            print("\n(memory store: the upper bound, nothing persisted; its calls never "
                  "wait, so they run one after the other and latency is the service time)")
            describe(memory, None, count, shared)
            baseline = asyncio.run(one_worker(
                "SQLite", SqliteStore(folder / "bench.sqlite3"), engine, warmups[1], people,
                args.concurrency))
            describe(baseline, baseline, count, shared)
            redis_one = asyncio.run(one_worker(
                "Redis", RedisStore.from_url(url, prefix="one:"), engine, warmups[2], people,
                args.concurrency, redis_at=(url, "one:")))
            describe(redis_one, baseline, count, shared)
            plan_file = folder / "plan.json"
            plan_file.write_text(json.dumps({
                "people": [p.to_json() for p in people],
                "warmup": [[p.to_json() for p in warmups[3][k::2]] for k in range(2)]}),
                encoding="utf-8")
            redis_two = two_workers(url, "two:", plan_file, args.concurrency, engine, people)
            describe(redis_two, baseline, count, shared)
            results = [memory, baseline, redis_one, redis_two]
        finally:
            stop_redis(server)

    table(results, baseline)
    print(f"\nTotal run time {time.perf_counter() - total_start:.1f} s.")
    if any(r.problems for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
