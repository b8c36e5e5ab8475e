"""What only the Redis store promises, against a real redis-server: a lock across processes
that expires when its holder dies, commits fenced by the lock, a clear error at start.
What every store promises is in test_store_contract.py, which runs against Redis too.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import redis.asyncio

from bot.messages import ConversationId
from bot.store.base import LockLost
from bot.store.redis import RedisStore, StoreUnreachable

from tests.conftest import NOW
from tests.redis_server import redis_dump, redis_url  # noqa: F401  (a fixture)

ROOT = Path(__file__).resolve().parent.parent
ALICE = ConversationId("test:alice")
BOB = ConversationId("test:bob")

#: A worker in its own process: takes ALICE's lock, says so, and hangs on to it until killed.
_HOLDER = """
import asyncio, sys
from bot.store.redis import RedisStore

async def main() -> None:
    store = RedisStore.from_url(sys.argv[1], prefix=sys.argv[2], lock_ttl=1.0)
    async with store.lock("test:alice") as held:
        print("held" if held else "busy", flush=True)
        await asyncio.sleep(120)

asyncio.run(main())
"""


@pytest.fixture
def prefix() -> str:
    """A key prefix of this test's own: the tests share one server and never see each other."""
    return f"t{uuid.uuid4().hex[:12]}:"


@pytest.fixture
async def stores(redis_url: str, prefix: str  # noqa: F811
                 ) -> AsyncIterator[Callable[..., RedisStore]]:
    """Makes RedisStores (each one a "worker") on the test's prefix; closes them afterwards
    and deletes the test's keys, so that a dump in the next test shows only its own."""
    made: list[RedisStore] = []

    def make(**kw: object) -> RedisStore:
        store = RedisStore.from_url(redis_url, prefix=prefix, **kw)
        made.append(store)
        return store

    yield make
    for store in made:
        await store.close()
    client = redis.asyncio.Redis.from_url(redis_url)
    async for key in client.scan_iter(match=f"{prefix}*"):
        await client.delete(key)
    await client.aclose()


@pytest.fixture
async def raw(redis_url: str) -> AsyncIterator[redis.asyncio.Redis]:  # noqa: F811
    """A plain client, for doing to the keys what a stall or a crash would."""
    client = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


# --- the lock across workers ---------------------------------------------------------------


async def test_one_worker_at_a_time(stores: Callable[..., RedisStore]) -> None:
    a, b = stores(), stores()
    async with a.lock(ALICE) as held_by_a:
        assert held_by_a
        async with b.lock(ALICE) as held_by_b:
            assert not held_by_b
        async with a.lock(ALICE) as again_by_a:
            assert not again_by_a, "a try-lock: not re-entrant, even for the holder"
        async with b.lock(BOB) as other:
            assert other, "the lock is per conversation"
    async with b.lock(ALICE) as held_by_b:
        assert held_by_b


async def test_a_long_turn_keeps_its_lock(stores: Callable[..., RedisStore]) -> None:
    """Renewal in the background: a turn three times the expiry still owns the lock and may
    commit (a Telegram flood wait can take minutes)."""
    a, b = stores(lock_ttl=0.5), stores(lock_ttl=0.5)
    async with a.lock(ALICE) as held:
        assert held
        for _ in range(6):
            await asyncio.sleep(0.25)
            async with b.lock(ALICE) as taken:
                assert not taken
        await a.commit(ALICE, {"v": 1}, None, [], NOW)
    assert await b.load(ALICE) == {"v": 1}


async def test_a_dead_workers_lock_expires(redis_url: str, prefix: str,  # noqa: F811
                                           stores: Callable[..., RedisStore]) -> None:
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _HOLDER, redis_url, prefix, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE)
    try:
        assert await asyncio.wait_for(holder.stdout.readline(), 30) == b"held\n"
        holder.send_signal(signal.SIGKILL)
        await holder.wait()
        killed = time.monotonic()
        b = stores()
        async with b.lock(ALICE) as held:
            assert not held, "the dead worker's lock holds until it expires"
        while time.monotonic() - killed < 1.5:
            async with b.lock(ALICE) as held:
                if held:
                    return
            await asyncio.sleep(0.05)
        pytest.fail("a dead worker's lock (ttl 1 s) still blocked the conversation after 1.5 s")
    finally:
        if holder.returncode is None:
            holder.kill()
            await holder.wait()


async def test_a_commit_after_losing_the_lock_is_refused(
        stores: Callable[..., RedisStore], raw: redis.asyncio.Redis, prefix: str,
        caplog: pytest.LogCaptureFixture) -> None:
    a, b = stores(), stores()
    assert await a.receive(ALICE, "e1", {"text": "hallo"}, NOW)
    async with a.lock(ALICE) as held_by_a:
        assert held_by_a
        # A stalls past the expiry: its lock key is gone and B takes the conversation over.
        assert await raw.delete(f"{prefix}c:{ALICE}:lock") == 1
        async with b.lock(ALICE) as held_by_b:
            assert held_by_b
            await b.commit(ALICE, {"by": "b"}, "e1", [{"text": "from b"}], NOW)
            with pytest.raises(LockLost):
                await a.commit(ALICE, {"by": "a"}, "e1", [{"text": "from a"}], NOW)
            assert await raw.exists(f"{prefix}c:{ALICE}:lock") == 1, "A released B's lock"
    assert await a.load(ALICE) == {"by": "b"}
    assert await a.outbox(ALICE) == [{"text": "from b"}]
    assert "lock had expired" in caplog.text
    assert ALICE not in caplog.text, "a log line named the conversation"


async def test_commit_without_the_lock_is_not_fenced(stores: Callable[..., RedisStore]) -> None:
    """Maintenance (and the contract tests) commit without taking the lock."""
    a, b = stores(), stores()
    async with b.lock(ALICE) as held:
        assert held
        await a.commit(ALICE, {"v": 1}, None, [], NOW)
    assert await b.load(ALICE) == {"v": 1}


async def test_two_workers_receive_a_redelivered_event_once(
        stores: Callable[..., RedisStore]) -> None:
    a, b = stores(), stores()
    results = await asyncio.gather(*(store.receive(ALICE, "e1", {"text": "hi"}, NOW)
                                     for store in (a, b) for _ in range(5)))
    assert sorted(results) == [False] * 9 + [True]
    assert [event.id for event in await b.pending(ALICE)] == ["e1"]


# --- start ----------------------------------------------------------------------------------


async def test_an_unreachable_server_fails_at_once_with_where() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound but not listening: connections are refused
        started = time.monotonic()
        with pytest.raises(StoreUnreachable) as raised:
            RedisStore.from_url(f"redis://:hunter2@127.0.0.1:{port}/0")
    assert time.monotonic() - started < 5
    assert isinstance(raised.value, ConnectionError)
    assert f"127.0.0.1:{port}" in str(raised.value)
    assert "hunter2" not in str(raised.value)


# --- every method once, and what is left in Redis afterwards ------------------------------


async def test_renewal_trouble_is_logged_without_the_conversation(
        stores: Callable[..., RedisStore], raw: redis.asyncio.Redis, prefix: str,
        caplog: pytest.LogCaptureFixture) -> None:
    store = stores(lock_ttl=0.3)
    caplog.set_level(logging.WARNING)
    async with store.lock(ALICE) as held:
        assert held
        await raw.delete(f"{prefix}c:{ALICE}:lock")
        await asyncio.sleep(0.25)  # the renewal notices
        with pytest.raises(LockLost):
            await store.commit(ALICE, {"v": 1}, None, [], NOW)
    assert "expired during a turn" in caplog.text
    assert ALICE not in caplog.text
    assert await store.load(ALICE) is None
