"""One contract for every store backend: what the service relies on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest

from bot.messages import ConversationId
from bot.store import MemoryStore, SqliteStore, Store
from bot.store.base import SEEN_PER_CONVERSATION

from tests.conftest import NOW

ALICE = ConversationId("test:alice")
BOB = ConversationId("test:bob")


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    backend: Store = MemoryStore() if request.param == "memory" else SqliteStore(
        tmp_path / "store.sqlite3")
    yield backend
    await backend.close()


async def test_new_conversation_has_no_state(store: Store) -> None:
    assert await store.load(ALICE) is None
    assert not await store.seen(ALICE, "1")


async def test_commit_saves_state_and_marks_event(store: Store) -> None:
    await store.commit(ALICE, {"v": 1, "step": "topic", "lang": "ar"}, "e1", NOW)
    assert await store.load(ALICE) == {"v": 1, "step": "topic", "lang": "ar"}
    assert await store.seen(ALICE, "e1")
    assert not await store.seen(BOB, "e1"), "event ids are per conversation"
    assert await store.load(BOB) is None


async def test_loaded_state_is_a_copy(store: Store) -> None:
    await store.commit(ALICE, {"v": 1, "answers": [["age", "adult-27"]]}, None, NOW)
    loaded = await store.load(ALICE)
    assert loaded is not None
    loaded["answers"].append(["x", "y"])
    assert await store.load(ALICE) == {"v": 1, "answers": [["age", "adult-27"]]}


async def test_unicode_survives(store: Store) -> None:
    state = {"v": 1, "lang": "ar", "note": "العربية ⁨Kita⁩ 👍"}
    await store.commit(ALICE, state, None, NOW)
    assert await store.load(ALICE) == state


async def test_commit_none_forgets_everything(store: Store) -> None:
    await store.commit(ALICE, {"v": 1}, "e1", NOW)
    await store.commit(BOB, {"v": 1}, "e1", NOW)
    await store.commit(ALICE, None, None, NOW)
    assert await store.load(ALICE) is None
    assert not await store.seen(ALICE, "e1")
    assert await store.load(BOB) == {"v": 1}, "forgetting one person keeps the others"


async def test_seen_ids_are_bounded_and_keep_the_newest(store: Store) -> None:
    for i in range(SEEN_PER_CONVERSATION + 20):
        await store.commit(ALICE, {"v": 1, "i": i}, f"e{i}", NOW)
    assert not await store.seen(ALICE, "e0")
    assert await store.seen(ALICE, f"e{SEEN_PER_CONVERSATION + 19}")
    assert await store.seen(ALICE, "e20")


async def test_counters_are_anonymous_and_add_up(store: Store) -> None:
    day = date(2026, 11, 27)
    for _ in range(3):
        await store.count("unmet", ("school", "ar", "results"), day)
    await store.count("unmet", ("unknown", "de", "topic"), day)
    counts = await store.counts("unmet")
    assert counts == {(("school", "ar", "results"), day): 3, (("unknown", "de", "topic"), day): 1}
    assert await store.counts("other") == {}


async def test_sqlite_state_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    first = SqliteStore(path)
    await first.commit(ALICE, {"v": 1, "step": "results"}, "e1", NOW)
    await first.close()
    second = SqliteStore(path)
    assert await second.load(ALICE) == {"v": 1, "step": "results"}
    assert await second.seen(ALICE, "e1")
    await second.close()


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
async def test_a_corrupt_sqlite_file_is_moved_aside(tmp_path: Path, damage: str,
                                                    caplog) -> None:
    path = tmp_path / "store.sqlite3"
    first = SqliteStore(path)
    for i in range(50):
        await first.commit(ConversationId(f"test:{i}"), {"v": 1, "i": i}, f"e{i}", NOW)
    await first.close()
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 3] if damage == "truncate"
                     else b"this is not a database" * 100)
    second = SqliteStore(path)  # starts instead of refusing
    await second.commit(ALICE, {"v": 1}, "e1", NOW)
    assert await second.load(ALICE) == {"v": 1}
    await second.close()
    assert list(tmp_path.glob("store.sqlite3.corrupt-*")), "the damaged file is kept aside"
    assert any("moved it to" in r.getMessage() for r in caplog.records)


async def test_idle_conversations_are_forgotten(store: Store) -> None:
    from datetime import timedelta

    old, recent = NOW - timedelta(days=40), NOW - timedelta(days=2)
    await store.commit(ALICE, {"v": 1}, "e1", old)
    await store.commit(BOB, {"v": 1}, "e1", recent)
    assert await store.forget_idle(NOW - timedelta(days=30)) == 1
    assert await store.load(ALICE) is None and not await store.seen(ALICE, "e1")
    assert await store.load(BOB) == {"v": 1} and await store.seen(BOB, "e1")
    await store.commit(BOB, {"v": 1, "step": "topic"}, "e2", NOW)  # active again: kept
    assert await store.forget_idle(NOW - timedelta(days=1)) == 0
