"""Real `wegweiser run telegram` processes against the fake Bot API: what a person notices
when workers share a Redis store, die in the middle of a turn, or are stopped.

Each worker is its own process (`python -m bot run telegram`), configured only through the
environment as in production; the fake Telegram server runs in the test process and plays
Telegram (and, for webhooks, the load balancer in front of the workers). The expected chat is
what an in-process Service with a MemoryStore answers to the same updates, rendered as the
adapter renders it: so every assertion is about the messages in the person's chat.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio
from telegram import Update

from bot.adapters.telegram import to_inbound
from bot.adapters.telegram_render import render
from bot.engine import Engine
from bot.messages import ConversationId
from bot.service import Service
from bot.store import MemoryStore
from tests.fake_telegram import TOKEN, FakeBotApi
from tests.net import free_port
from tests.redis_server import redis_url  # noqa: F401  (the session's redis-server)

ROOT = Path(__file__).resolve().parent.parent
STARTED = "serving Telegram"
STOPPED = "stopped; every turn in flight was finished"
WEBHOOK_URL = "https://bot.example.org/telegram"
#: What a chat looks like: each message's HTML text and its inline keyboard (None without).
Chat = list[tuple[str, Any]]


# -- the worker processes -------------------------------------------------------------------

@dataclass
class Worker:
    name: str
    process: asyncio.subprocess.Process
    port: int | None = None
    lines: list[str] = field(default_factory=list)
    reader: asyncio.Task | None = None

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/telegram"

    async def _read(self) -> None:
        assert self.process.stderr is not None
        async for line in self.process.stderr:
            self.lines.append(line.decode(errors="replace").rstrip())

    async def wait_for_log(self, text: str, timeout: float = 30.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while text not in self.log:
            if self.process.returncode is not None:
                raise AssertionError(f"worker {self.name} exited with "
                                     f"{self.process.returncode} before logging {text!r}")
            if loop.time() > deadline:
                raise AssertionError(f"worker {self.name} did not log {text!r} in time")
            await asyncio.sleep(0.05)

    async def kill(self) -> None:
        """SIGKILL: no handler, no cleanup, as in a crash or an OOM kill."""
        if self.process.returncode is None:
            self.process.kill()
        await self.process.wait()

    async def exited(self, timeout: float) -> int:
        code = await asyncio.wait_for(self.process.wait(), timeout)
        if self.reader is not None:
            await asyncio.wait_for(self.reader, 5)  # the last log lines
        return code


class Workers:
    """Starts worker processes; kills whatever still runs at the end and shows every
    worker's log when the test failed (pytest prints captured output only then)."""

    def __init__(self, api: FakeBotApi, tmp_path: Path):
        self.api = api
        self.tmp_path = tmp_path
        self.started: list[Worker] = []

    async def start(self, name: str, store: str | None = None, data_dir: Path | None = None,
                    webhook_secret: str | None = None, content: Path | None = None) -> Worker:
        """A worker named `name` (its calls to the fake are labelled with it). `store` is a
        redis:// URL, or None for SQLite in `data_dir`; with `webhook_secret` it serves a
        webhook on a port of its own instead of long polling."""
        env = {key: value for key, value in os.environ.items()
               if not key.startswith("WEGWEISER_") or key == "WEGWEISER_CACHE_DIR"}
        env.update(WEGWEISER_TELEGRAM_TOKEN=TOKEN,
                   WEGWEISER_TELEGRAM_API_URL=self.api.base_url_for(name),
                   WEGWEISER_METRICS_LISTEN=f"127.0.0.1:{free_port()}",  # one per worker
                   PYTHONUNBUFFERED="1")
        if store is not None:
            env["WEGWEISER_STORE"] = store
        port = None
        if webhook_secret is not None:
            port = free_port()
            env.update(WEGWEISER_TELEGRAM_WEBHOOK_URL=WEBHOOK_URL,
                       WEGWEISER_TELEGRAM_WEBHOOK_SECRET=webhook_secret,
                       WEGWEISER_TELEGRAM_LISTEN=f"127.0.0.1:{port}")
        data_dir = data_dir or self.tmp_path / f"data-{name}"
        extra = ["--content", str(content)] if content is not None else []
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "telegram", "--data-dir", str(data_dir), *extra,
            cwd=ROOT, env=env, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        worker = Worker(name, process, port)
        worker.reader = asyncio.create_task(worker._read())
        self.started.append(worker)
        return worker

    async def ready(self, *workers: Worker) -> None:
        await asyncio.gather(*(worker.wait_for_log(STARTED) for worker in workers))

    async def close(self) -> None:
        for worker in self.started:
            await worker.kill()
            if worker.reader is not None:
                try:
                    await asyncio.wait_for(worker.reader, 5)
                except TimeoutError:
                    worker.reader.cancel()
            print(f"----- worker {worker.name} (exit {worker.process.returncode}) -----")
            print(worker.log)


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    api = FakeBotApi()
    await api.start()
    yield api
    await api.stop()


@pytest.fixture
async def workers(api: FakeBotApi, tmp_path: Path) -> AsyncIterator[Workers]:
    started = Workers(api, tmp_path)
    try:
        yield started
    finally:
        await started.close()


async def _fresh_redis(url: str, db: int) -> str:
    """The session's Redis server with database `db` emptied: the store's key prefix is
    fixed, so each test keeps to a database of its own."""
    fresh = url.rsplit("/", 1)[0] + f"/{db}"
    client = redis.asyncio.Redis.from_url(fresh)
    try:
        await client.flushdb()
    finally:
        await client.aclose()
    return fresh


# -- what the person does and sees ----------------------------------------------------------

def _act(api: FakeBotApi, step: str, user_id: int, language_code: str) -> dict[str, Any]:
    """Queue one update as Telegram would hold it ("tap:<data>" presses a button, anything
    else is typed) and return a copy of its wire form."""
    if step.startswith("tap:"):
        update_id = api.tap(step.removeprefix("tap:"), user_id, language_code)
    else:
        update_id = api.send_text(step, user_id, language_code)
    return dict(next(u for u in api.updates if u["update_id"] == update_id))


async def _expected(engine: Engine, updates: Sequence[dict[str, Any]]) -> list[Chat]:
    """The messages each update gets in an uninterrupted run (per update, in order):
    an in-process Service on a MemoryStore, rendered like the adapter renders."""
    service = Service(engine, MemoryStore())
    chats: list[Chat] = []
    for data in updates:
        update = Update.de_json(data, None)
        assert update is not None and update.effective_chat is not None
        inbound = to_inbound(update, timedelta(minutes=10), datetime.now(UTC))
        assert inbound is not None
        conversation = ConversationId(f"telegram:{update.effective_chat.id}")
        replies = await service.handle(conversation, inbound, str(update.update_id))
        chats.append([(m.html, m.keyboard.to_dict() if m.keyboard else None)
                      for reply in replies for m in render(reply)])
    return chats


def _chat(api: FakeBotApi, user_id: int) -> Chat:
    """The messages the person got, in the order Telegram answered them."""
    return [(m["text"], m.get("reply_markup")) for m in api.sent(chat_id=user_id)]


async def _wait_for_chat(api: FakeBotApi, user_id: int, count: int,
                         timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while len(_chat(api, user_id)) < count:
        if loop.time() > deadline:
            raise AssertionError(f"chat {user_id} got only {len(_chat(api, user_id))} of "
                                 f"{count} messages")
        await asyncio.sleep(0.02)


async def _wait_for_call(api: FakeBotApi, method: str, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not any(c.method == method for c in api.calls):
        if loop.time() > deadline:
            raise AssertionError(f"no {method} call")
        await asyncio.sleep(0.02)


def _assert_chat(api: FakeBotApi, user_id: int, expected: Chat) -> None:
    """The person's chat is exactly `expected`; if not, both are shown a line per message."""
    got = _chat(api, user_id)
    if got != expected:
        def brief(chat: Chat) -> str:
            return "\n".join(f"  {i}: {text.splitlines()[0][:72]}{' [buttons]' if keys else ''}"
                             for i, (text, keys) in enumerate(chat))
        raise AssertionError(f"chat {user_id} is not what an uninterrupted bot writes:\n"
                             f"got:\n{brief(got)}\nexpected:\n{brief(expected)}")


def _flat(chats: Sequence[Chat]) -> Chat:
    return [message for chat in chats for message in chat]


#: A newcomer finds childcare, then school: six updates, nine messages, two turns with two.
CHILDCARE = ["hello", "tap:lang:en", "kita", "1", "any", "school"]
#: Another newcomer, in German, at the same time.
GERMAN_COURSE = ["hallo", "tap:lang:de", "Deutschkurs", "A1", "egal", "/back"]


# -- the tests ------------------------------------------------------------------------------

async def test_two_webhook_workers_keep_a_persons_order_and_answer_once(
        api: FakeBotApi, engine: Engine, workers: Workers, redis_url: str) -> None:  # noqa: F811
    """Telegram spreads one person's updates over two workers behind a load balancer, and
    delivers one of them a second time to the other worker: the person still gets every
    answer once, in order, as from a single bot."""
    store = await _fresh_redis(redis_url, 3)
    secret = secrets.token_urlsafe(24)
    a = await workers.start("A", store, webhook_secret=secret)
    b = await workers.start("B", store, webhook_secret=secret)
    await workers.ready(a, b)
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
    expected: dict[int, Chat] = {}

    async with httpx.AsyncClient(timeout=15) as client:
        async def post(worker: Worker, update: dict[str, Any]) -> None:
            """One webhook delivery; Telegram sends the next one only after this 200."""
            answer = await client.post(worker.url, json=update, headers=headers)
            assert answer.status_code == 200, f"worker {worker.name}: {answer.status_code}"

        async def person(user_id: int, lang: str, steps: list[str],
                         first: Worker, second: Worker) -> None:
            updates = [_act(api, step, user_id, lang) for step in steps]
            chats = await _expected(engine, updates)
            expected[user_id] = _flat(chats)
            shown = 0
            # the person reads each answer before the next step ...
            for i, update in enumerate(updates[:4]):
                await post((first, second)[i % 2], update)
                shown += len(chats[i])
                await _wait_for_chat(api, user_id, shown)
                if i == 2:  # Telegram timed out waiting and delivers it again, elsewhere
                    await post((second, first)[i % 2], update)
            # ... then types two messages quickly: the second reaches the other worker while
            # the first one's turn may still run, and the first is delivered twice
            await post(first, updates[4])
            await post(second, updates[4])
            await post(second, updates[5])

        await asyncio.gather(person(42, "en", CHILDCARE, a, b),
                             person(43, "de", GERMAN_COURSE, b, a))

    for user_id, chat in expected.items():
        await _wait_for_chat(api, user_id, len(chat))
    await api.settle()
    _assert_chat(api, 42, expected[42])
    _assert_chat(api, 43, expected[43])
    senders = {call.via for call in api.calls if call.method == "sendMessage"}
    assert senders == {"A", "B"}, "both workers answered some of the updates"
    assert "ERROR" not in a.log + b.log


async def test_a_worker_killed_mid_turn_resumes_without_loss_or_repeat(
        api: FakeBotApi, engine: Engine, workers: Workers, tmp_path: Path) -> None:
    """SIGKILL while the second message of a two-message answer is on its way (Telegram never
    got it), a message from the person while the bot is down, then a restart: the chat is
    exactly what an uninterrupted bot would have written, nothing missing, nothing twice."""
    data_dir = tmp_path / "data"
    updates = [_act(api, step, 42, "en") for step in CHILDCARE[:4]]
    before = _flat(await _expected(engine, updates))
    first = await workers.start("first", data_dir=data_dir)
    await workers.ready(first)
    await _wait_for_chat(api, 42, len(before))
    await api.settle()

    api.faults["sendMessage"] = ["ok", "hang"]  # the results go out, the next one hangs
    updates.append(_act(api, CHILDCARE[4], 42, "en"))
    await _wait_for_call(api, "sendMessage:hang")
    await first.kill()
    assert len(_chat(api, 42)) == len(before) + 1, "one message of the turn got out"
    updates.append(_act(api, CHILDCARE[5], 42, "en"))  # written while the bot is down

    await workers.start("second", data_dir=data_dir)
    expected = _flat(await _expected(engine, updates))
    await _wait_for_chat(api, 42, len(expected))
    await api.settle()
    _assert_chat(api, 42, expected)


async def test_sigterm_finishes_the_turn_in_flight_and_takes_nothing_new(
        api: FakeBotApi, engine: Engine, workers: Workers, tmp_path: Path) -> None:
    """SIGTERM while a reply is on its way: the worker sends the rest of that answer, takes
    no further message, and exits 0; the next worker answers what came in meanwhile."""
    data_dir = tmp_path / "data"
    updates = [_act(api, CHILDCARE[0], 42, "en")]
    worker = await workers.start("stopping", data_dir=data_dir)
    await workers.ready(worker)
    await _wait_for_chat(api, 42, len(_flat(await _expected(engine, updates))))
    await api.settle()

    api.faults["sendMessage"] = ["slow:1.5"]  # the first message of the next answer is slow
    updates.append(_act(api, CHILDCARE[1], 42, "en"))  # the language button: two messages
    in_flight = _flat(await _expected(engine, updates))
    await _wait_for_call(api, "sendMessage:slow")
    signalled = asyncio.get_running_loop().time()
    worker.process.send_signal(signal.SIGTERM)
    await asyncio.sleep(0.5)  # the signal was handled; the answer is still on its way
    updates.append(_act(api, CHILDCARE[2], 42, "en"))  # "kita", after the signal
    assert await worker.exited(timeout=10) == 0
    assert asyncio.get_running_loop().time() - signalled < 5
    assert STOPPED in worker.log
    _assert_chat(api, 42, in_flight)  # the whole answer in flight, and nothing more
    assert any(u["update_id"] == updates[-1]["update_id"] for u in api.updates), (
        "the message that came after the signal is still waiting at Telegram")

    restarted = await workers.start("restarted", data_dir=data_dir)
    expected = _flat(await _expected(engine, updates))
    await _wait_for_chat(api, 42, len(expected))
    await api.settle()
    _assert_chat(api, 42, expected)
    restarted.process.send_signal(signal.SIGTERM)
    assert await restarted.exited(timeout=10) == 0


async def test_a_stopping_webhook_worker_turns_new_updates_away(
        api: FakeBotApi, engine: Engine, workers: Workers) -> None:
    """After SIGTERM a webhook worker answers 503 even on a kept-alive connection, so that
    Telegram delivers the update again later or to another worker, and it still finishes
    the answer in flight."""
    secret = secrets.token_urlsafe(24)
    worker = await workers.start("stopping", webhook_secret=secret)
    await workers.ready(worker)
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
    updates = [_act(api, step, 42, "en") for step in CHILDCARE[:3]]
    in_flight = _flat(await _expected(engine, updates[:2]))
    async with httpx.AsyncClient(timeout=15) as client:  # one kept-alive connection
        assert (await client.post(worker.url, json=updates[0], headers=headers)).is_success
        await _wait_for_chat(api, 42, len(_flat(await _expected(engine, updates[:1]))))
        api.faults["sendMessage"] = ["slow:1.5"]
        assert (await client.post(worker.url, json=updates[1], headers=headers)).is_success
        await _wait_for_call(api, "sendMessage:slow")
        worker.process.send_signal(signal.SIGTERM)
        await asyncio.sleep(0.5)  # the signal was handled; the answer is still on its way
        late = await client.post(worker.url, json=updates[2], headers=headers)
        assert late.status_code == 503, "Telegram must deliver it again"
    assert await worker.exited(timeout=10) == 0
    await api.settle()
    _assert_chat(api, 42, in_flight)


async def test_a_dead_lock_holder_is_replaced_by_a_running_worker(
        api: FakeBotApi, engine: Engine, workers: Workers, redis_url: str) -> None:  # noqa: F811
    """Worker A dies holding a person's lock, with a reply unsent and a message queued in
    Redis; worker B, already running, finishes both once the lock expired, through its
    periodic recovery (nobody writes again). The test runs the lock's clock forward: it
    checks that the dead worker's lock would expire within the 10 s it is given, then makes
    Redis expire it now instead of waiting for it."""
    store = await _fresh_redis(redis_url, 5)
    secret = secrets.token_urlsafe(24)
    b = await workers.start("B", store, webhook_secret=secret)
    a = await workers.start("A", store, webhook_secret=secret)
    await workers.ready(a, b)
    updates = [_act(api, step, 42, "en") for step in CHILDCARE]
    chats = await _expected(engine, updates)
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
    async with httpx.AsyncClient(timeout=15) as client:
        for i, update in enumerate(updates[:4]):
            assert (await client.post(a.url, json=update, headers=headers)).status_code == 200
            await _wait_for_chat(api, 42, len(_flat(chats[:i + 1])))
        await api.settle()
        api.faults["sendMessage"] = ["ok", "hang"]
        assert (await client.post(a.url, json=updates[4], headers=headers)).status_code == 200
        await _wait_for_call(api, "sendMessage:hang")
        # A holds the lock, so this one waits in the inbox
        assert (await client.post(a.url, json=updates[5], headers=headers)).status_code == 200
    await a.kill()
    assert len(_chat(api, 42)) == len(_flat(chats[:4])) + 1

    lock = "wegweiser:c:telegram:42:lock"
    client = redis.asyncio.Redis.from_url(store)
    try:
        left = await client.pttl(lock)
        assert 0 < left <= 10_000, "the dead worker's lock expires by itself"
        await client.pexpire(lock, 1)  # as if those seconds had passed
    finally:
        await client.aclose()

    expected = _flat(chats)
    await _wait_for_chat(api, 42, len(expected), timeout=20)  # B's recovery: every 5 s
    await api.settle()
    _assert_chat(api, 42, expected)
    assert {c.via for c in api.calls if c.method == "sendMessage"} == {"A", "B"}


async def test_sighup_reloads_the_content_and_a_broken_edit_changes_nothing(
        api: FakeBotApi, engine: Engine, workers: Workers, content_copy: Path) -> None:
    """Staff publish a broken file, then the fix; the running worker is told with SIGHUP
    (as by `systemctl reload`). The broken one is reported with file and line and the bot
    keeps answering from the last good catalogue; the fixed one is served."""
    worker = await workers.start("reloading", content=content_copy)
    await workers.ready(worker)
    topics = content_copy / "topics.yaml"
    good = topics.read_text(encoding="utf-8")
    topics.write_text(good.replace("  - id: childcare", "  - id: childcare\n   broken: [", 1),
                      encoding="utf-8")
    worker.process.send_signal(signal.SIGHUP)
    await worker.wait_for_log("content has 1 problem")
    assert "topics.yaml:" in worker.log, "file and line in the log"
    updates = [_act(api, step, 42, "en") for step in CHILDCARE[:3]]
    expected = _flat(await _expected(engine, updates))
    await _wait_for_chat(api, 42, len(expected))
    _assert_chat(api, 42, expected)  # still the last good catalogue

    topics.write_text(good.replace("Kita", "Kita (neu)", 1), encoding="utf-8")
    worker.process.send_signal(signal.SIGHUP)
    await worker.wait_for_log("content reloaded")
    worker.process.send_signal(signal.SIGTERM)
    assert await worker.exited(timeout=10) == 0
