"""The Matrix adapter against a real Synapse, with a second matrix-nio client as the newcomer."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from nio import AsyncClient, RoomCreateResponse, RoomMessageNotice

from bot.adapters.matrix import MatrixAdapter, MatrixSettings, render
from bot.engine import Engine
from bot.messages import Choice, Choices, OfferCard, Offers, Text
from bot.service import Service
from bot.store import SqliteStore

from tests.synapse_server import Synapse, wait_until

_names = itertools.count()


@dataclass
class Newcomer:
    client: AsyncClient
    notices: list[str]

    async def say(self, room_id: str, text: str) -> None:
        await self.client.room_send(room_id, "m.room.message",
                                    {"msgtype": "m.text", "body": text})

    async def sync(self) -> None:
        await self.client.sync(timeout=500)


@dataclass
class Bot:
    adapter: MatrixAdapter
    task: asyncio.Task
    user_id: str


async def _newcomer(synapse: Synapse) -> Newcomer:
    name = f"newcomer{next(_names)}"
    user_id = synapse.register(name, "pw-" + name)
    client = AsyncClient(synapse.url, user_id)
    await client.login("pw-" + name)
    newcomer = Newcomer(client, [])

    async def on_notice(room, event: RoomMessageNotice) -> None:
        newcomer.notices.append(event.body)

    client.add_event_callback(on_notice, RoomMessageNotice)
    await client.sync(timeout=0)
    return newcomer


async def _encrypted_newcomer(synapse: Synapse, tmp_path: Path) -> Newcomer:
    """A newcomer whose client encrypts (its own crypto store), keys uploaded."""
    from nio import AsyncClientConfig

    name = f"newcomer{next(_names)}"
    user_id = synapse.register(name, "pw-" + name)
    store = tmp_path / f"{name}-store"
    store.mkdir()
    client = AsyncClient(synapse.url, user_id, store_path=str(store),
                         config=AsyncClientConfig(encryption_enabled=True))
    await client.login("pw-" + name)
    newcomer = Newcomer(client, [])
    client.add_event_callback(lambda room, event: newcomer.notices.append(event.body),
                              RoomMessageNotice)
    await client.sync(timeout=0)
    await client.keys_upload()
    return newcomer


async def _encrypted_direct_chat(newcomer: Newcomer, bot: Bot, invite: bool = True) -> str:
    """An encrypted room created by the newcomer (the bot invited unless `invite` is False)."""
    created = await newcomer.client.room_create(
        is_direct=True, invite=[bot.user_id] if invite else [],
        initial_state=[{"type": "m.room.encryption", "state_key": "",
                        "content": {"algorithm": "m.megolm.v1.aes-sha2"}},
                       {"type": "m.room.history_visibility", "state_key": "",
                        "content": {"history_visibility": "shared"}}])
    assert isinstance(created, RoomCreateResponse)
    return created.room_id


async def _wait_joined(newcomer: Newcomer, room_id: str, user_id: str) -> None:
    async def joined() -> bool:
        await newcomer.client.sync(timeout=200)
        return user_id in newcomer.client.rooms[room_id].users

    await wait_until(joined, timeout=20)


async def _start_bot(synapse: Synapse, engine: Engine, directory: Path, user: str,
                     password: str) -> Bot:
    settings = MatrixSettings(synapse.url, user, password)
    adapter = MatrixAdapter(Service(engine, SqliteStore(directory / "store.sqlite3")), settings,
                            data_dir=directory)
    task = asyncio.create_task(adapter.run())
    await wait_until(lambda: adapter._ready, timeout=30)
    return Bot(adapter, task, user)


async def _stop_bot(bot: Bot) -> None:
    bot.adapter.stop()
    await asyncio.wait_for(bot.task, 30)
    await bot.adapter.service.store.close()


@pytest.fixture
async def bot(synapse: Synapse, engine: Engine, tmp_path: Path) -> AsyncIterator[Bot]:
    name = f"wegweiser{next(_names)}"
    user_id = synapse.register(name, "pw-" + name)
    running = await _start_bot(synapse, engine, tmp_path, user_id, "pw-" + name)
    yield running
    await _stop_bot(running)


async def _direct_chat(newcomer: Newcomer, bot: Bot | str, timeout: float = 20) -> str:
    """A direct chat the newcomer opened with the bot (its `Bot`, or its user id), joined."""
    user_id = bot if isinstance(bot, str) else bot.user_id
    created = await newcomer.client.room_create(is_direct=True, invite=[user_id])
    assert isinstance(created, RoomCreateResponse)

    async def joined() -> bool:
        members = await newcomer.client.joined_members(created.room_id)
        return user_id in [m.user_id for m in members.members]

    await wait_until(joined, timeout=timeout)
    return created.room_id


async def _wait_notices(newcomer: Newcomer, count: int) -> list[str]:
    async def enough() -> bool:
        await newcomer.sync()
        return len(newcomer.notices) >= count

    await wait_until(enough, timeout=30)
    return newcomer.notices


async def test_a_conversation_in_a_direct_chat(bot: Bot, synapse: Synapse) -> None:
    newcomer = await _newcomer(synapse)
    room = await _direct_chat(newcomer, bot)
    await newcomer.say(room, "مرحبا")
    notices = await _wait_notices(newcomer, 1)
    assert "1." in notices[-1], "choices are a numbered list"
    await newcomer.say(room, "العربية")
    await _wait_notices(newcomer, 3)
    await newcomer.say(room, "بدي روضة لابني")
    await _wait_notices(newcomer, 4)
    await newcomer.say(room, "1")
    await _wait_notices(newcomer, 5)
    before = len(newcomer.notices)
    await newcomer.say(room, "6")
    await _wait_notices(newcomer, before + 2)
    assert "kitaplatz.magdeburg.de" in "\n".join(newcomer.notices)
    await newcomer.client.close()


async def test_a_restart_keeps_the_device_and_answers_nothing_twice(
        synapse: Synapse, engine: Engine, tmp_path: Path) -> None:
    name = f"wegweiser{next(_names)}"
    user_id = synapse.register(name, "pw-" + name)
    first = await _start_bot(synapse, engine, tmp_path, user_id, "pw-" + name)
    device = first.adapter.client.device_id
    newcomer = await _newcomer(synapse)
    room = await _direct_chat(newcomer, first)
    await newcomer.say(room, "hello")
    await _wait_notices(newcomer, 1)
    await _stop_bot(first)
    await newcomer.say(room, "English")  # arrives while the bot is down
    second = await _start_bot(synapse, engine, tmp_path, user_id, "pw-" + name)
    assert second.adapter.client.device_id == device, "the same device, keys kept"
    await _wait_notices(newcomer, 3)
    await asyncio.sleep(1.0)
    await newcomer.sync()
    greetings = [n for n in newcomer.notices if n.startswith("Which language")]
    assert len(greetings) == 1, "the first message was not answered again"
    assert any("What are you looking for?" in n for n in newcomer.notices)
    await _stop_bot(second)
    await newcomer.client.close()


def test_html_is_escaped_and_plain_body_kept() -> None:
    card = OfferCard("x", "<b>VHS</b>", "a < b & c", ("Website: https://x.de/?a=1&b=2",), None)
    [(body, formatted)] = render(Offers("<script>", (card,)))
    assert "<script>" in body and "<script>" not in formatted
    assert "<b>&lt;b&gt;VHS&lt;/b&gt;</b>" in formatted and "a &lt; b &amp; c" in formatted
    [(body, formatted)] = render(Choices("Pick", (Choice("a", "<i>x</i>"), Choice("b", "y"))))
    assert body == "Pick\n\n1. <i>x</i>\n2. y"
    assert "1. &lt;i&gt;x&lt;/i&gt;<br>2. y" in formatted


def test_long_replies_become_several_events_under_64_kib() -> None:
    import json

    from bot.adapters.matrix import EVENT_TEXT_LIMIT

    text = "\n\n".join(["ش" * 3000] * 10)  # Arabic letters: 2 bytes each in UTF-8
    events = render(Text(text))
    assert len(events) > 1
    for body, formatted in events:
        content = {"msgtype": "m.notice", "body": body, "format": "org.matrix.custom.html",
                   "formatted_body": formatted}
        assert len(json.dumps(content, ensure_ascii=False).encode()) < 60_000
        assert len(body) <= EVENT_TEXT_LIMIT
    assert sum(body.count("ش") for body, _ in events) == 30_000


async def test_an_encrypted_direct_chat(bot: Bot, synapse: Synapse, tmp_path: Path) -> None:
    newcomer = await _encrypted_newcomer(synapse, tmp_path)
    client = newcomer.client
    room_id = await _encrypted_direct_chat(newcomer, bot)
    await _wait_joined(newcomer, room_id, bot.user_id)
    assert client.rooms[room_id].encrypted
    await client.room_send(room_id, "m.room.message",
                           {"msgtype": "m.text", "body": "hello"},
                           ignore_unverified_devices=True)
    notices = await _wait_notices(newcomer, 1)
    assert notices[0].startswith("Which language"), "the bot decrypted, answered, encrypted"
    await client.close()


async def test_invites_for_others_and_group_chatter_are_ignored(bot: Bot,
                                                                synapse: Synapse) -> None:
    newcomer = await _newcomer(synapse)
    other = await _newcomer(synapse)
    room = await _direct_chat(newcomer, bot)
    await newcomer.client.room_invite(room, other.client.user_id)  # an invite, not for the bot
    await other.client.join(room)
    await newcomer.say(room, "hello everyone")  # a group room now: not addressed to the bot
    await asyncio.sleep(2.0)
    await newcomer.sync()
    assert newcomer.notices == []
    await newcomer.say(room, f"{bot.user_id} hello")
    await _wait_notices(newcomer, 1)
    await newcomer.client.close()
    await other.client.close()


def test_run_matrix_without_settings_explains_what_to_do(monkeypatch, capsys,
                                                        tmp_path: Path) -> None:
    from bot.cli import main

    for name in ("WEGWEISER_MATRIX_HOMESERVER", "WEGWEISER_MATRIX_USER"):
        monkeypatch.delenv(name, raising=False)
    assert main(["run", "matrix", "--data-dir", str(tmp_path / "data")]) == 2
    assert "WEGWEISER_MATRIX_HOMESERVER" in capsys.readouterr().err
    assert not (tmp_path / "data").exists()


async def test_the_bot_device_is_cross_signed(bot: Bot, synapse: Synapse) -> None:
    """Element shares room keys only with devices their owner cross-signed."""
    assert bot.adapter.cross_signed
    newcomer = await _newcomer(synapse)
    answer = await newcomer.client.send(
        "POST", "/_matrix/client/v3/keys/query",
        '{"device_keys": {"%s": []}}' % bot.user_id,
        headers={"Authorization": f"Bearer {newcomer.client.access_token}"})
    keys = await answer.json()
    master = keys["master_keys"][bot.user_id]
    self_signing = keys["self_signing_keys"][bot.user_id]
    master_id = next(iter(master["keys"]))
    ssk_id = next(iter(self_signing["keys"]))
    assert master_id in self_signing["signatures"][bot.user_id], "SSK signed by the master key"
    device = keys["device_keys"][bot.user_id][bot.adapter.client.device_id]
    assert ssk_id in device["signatures"][bot.user_id], "the device is signed by the SSK"
    # and the signature really verifies with the self-signing key over the canonical JSON
    import base64

    from Crypto.Signature import eddsa

    from bot.adapters.matrix_crosssigning import canonical

    def raw(b64: str) -> bytes:
        return base64.b64decode(b64 + "=" * (-len(b64) % 4))

    public = eddsa.import_public_key(raw(self_signing["keys"][ssk_id]))
    signed = {k: v for k, v in device.items() if k not in {"signatures", "unsigned"}}
    eddsa.new(public, "rfc8032").verify(canonical(signed),
                                        raw(device["signatures"][bot.user_id][ssk_id]))
    await newcomer.client.close()


async def test_rate_limits_are_waited_out_and_nothing_is_lost(bot: Bot, synapse: Synapse,
                                                               caplog) -> None:
    """With M_LIMIT_EXCEEDED the bot waits retry_after_ms and resends with the same txn id."""
    synapse.limit_messages(bot.user_id, per_second=1, burst=1)
    newcomer = await _newcomer(synapse)
    room = await _direct_chat(newcomer, bot)
    await newcomer.say(room, "/start")
    await _wait_notices(newcomer, 1)
    await newcomer.say(room, "English")  # answered with two messages: greeting and topics
    notices = await _wait_notices(newcomer, 3)
    assert notices[1].startswith("Hello!") and notices[2].startswith("What are you looking for?")
    # matrix-nio waits out a 429 itself (resending the same transaction); the adapter's own
    # loop takes over when it gives up. Either way the limit must really have been hit:
    assert any("429" in r.getMessage() or "M_LIMIT_EXCEEDED" in r.getMessage()
               for r in caplog.records), "the rate limit was hit"
    assert len(notices) == 3, "each reply stored once despite the retries"
    await newcomer.client.close()


async def test_a_homeserver_restart_is_survived(bot: Bot, synapse: Synapse) -> None:
    newcomer = await _newcomer(synapse)
    room = await _direct_chat(newcomer, bot)
    await newcomer.say(room, "hello")
    await _wait_notices(newcomer, 1)
    await newcomer.client.close()
    await asyncio.to_thread(synapse.restart)
    await asyncio.sleep(1.0)
    assert not bot.task.done(), "the bot kept running while the homeserver was away"
    user_id = newcomer.client.user_id
    newcomer.client = AsyncClient(synapse.url, user_id)
    await newcomer.client.login("pw-" + user_id[1:].split(":")[0])
    newcomer.client.add_event_callback(
        lambda room, event: newcomer.notices.append(event.body), RoomMessageNotice)
    await newcomer.client.sync(timeout=0)
    before = len(newcomer.notices)
    await newcomer.say(room, "English")
    await _wait_notices(newcomer, before + 2)
    await newcomer.client.close()


async def test_a_send_is_retried_with_the_same_transaction_id(engine: Engine,
                                                              tmp_path: Path) -> None:
    """When matrix-nio gives up on a 429, or the network fails, the adapter's own loop waits
    and resends the very same transaction, so the homeserver stores the reply once."""
    from nio import RoomSendError, RoomSendResponse

    import bot.adapters.matrix as matrix

    adapter = MatrixAdapter(Service(engine, SqliteStore(tmp_path / "s.sqlite3")),
                            MatrixSettings("http://127.0.0.1:9", "@bot:localhost"),
                            data_dir=tmp_path)
    answers = [RoomSendError("slow down", "M_LIMIT_EXCEEDED", retry_after_ms=10),
               OSError("network unreachable"),
               RoomSendResponse("$event", "!room:localhost")]
    seen: list[str] = []

    class Client:
        async def room_send(self, room_id, message_type, content, tx_id=None,
                            ignore_unverified_devices=False):
            seen.append(tx_id)
            answer = answers.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer

    adapter.client = Client()  # type: ignore[assignment]
    original = matrix.RETRY_FIRST
    matrix.RETRY_FIRST = 0.01
    try:
        assert await adapter.send("!room:localhost", {"msgtype": "m.notice", "body": "hi"})
    finally:
        matrix.RETRY_FIRST = original
    assert len(seen) == 3 and len(set(seen)) == 1
    await adapter.service.store.close()


async def test_a_message_whose_key_comes_late_is_answered_when_it_comes(
        bot: Bot, synapse: Synapse, tmp_path: Path) -> None:
    """The commonest undecryptable message: the room key (a to-device message) arrives after
    the message itself. The bot keeps the message, asks for the key, and answers when the key
    arrives, instead of dropping it. The newcomer's client is written out by hand here, to
    send the message first and its key second."""
    import uuid

    from nio import Api

    newcomer = await _encrypted_newcomer(synapse, tmp_path)
    client = newcomer.client
    room_id = await _encrypted_direct_chat(newcomer, bot)
    await _wait_joined(newcomer, room_id, bot.user_id)
    await client.keys_query()
    missing = client.get_missing_sessions(room_id)
    if missing:
        await client.keys_claim(missing)
    olm = client.olm
    _, key_messages = olm.share_group_session(room_id, [client.user_id, bot.user_id],
                                              ignore_unverified_devices=True)
    olm.outbound_group_sessions[room_id].shared = True  # not yet, in truth
    encrypted = olm.group_encrypt(room_id, {
        "type": "m.room.message", "content": {"msgtype": "m.text", "body": "hello"}})
    headers: dict[str, str] = {}  # Api puts the access token into the path
    method, path, data = Api.room_send(client.access_token, room_id,
                                       "m.room.encrypted", encrypted, uuid.uuid4())
    sent = await client.send(method, path, data, headers=headers)  # the message first ...
    assert sent.status == 200, await sent.text()
    await wait_until(lambda: bot.adapter._undecrypted, timeout=20)
    assert newcomer.notices == [] or not newcomer.notices[0].startswith("Which language")
    method, path, data = Api.to_device(client.access_token, "m.room.encrypted", key_messages,
                                       uuid.uuid4())
    sent = await client.send(method, path, data, headers=headers)  # ... and its key afterwards
    assert sent.status == 200, await sent.text()
    notices = await _wait_notices(newcomer, 1)
    assert notices[0].startswith("Which language"), "answered once the key came"
    assert not bot.adapter._undecrypted
    await client.close()


async def test_a_key_forwarded_by_its_creator_unlocks_an_older_message(
        bot: Bot, synapse: Synapse, tmp_path: Path) -> None:
    """The newcomer writes before the bot is invited, so the bot never got that room key. It
    asks, and the newcomer's device (Element does this for a cross-signed device) forwards
    the key of its own session: the bot accepts it from the session's creator and answers."""
    newcomer = await _encrypted_newcomer(synapse, tmp_path)
    client = newcomer.client
    room_id = await _encrypted_direct_chat(newcomer, bot, invite=False)
    await client.sync(timeout=0)
    await client.room_send(room_id, "m.room.message",
                           {"msgtype": "m.text", "body": "hello"},
                           ignore_unverified_devices=True)  # before the bot is invited
    await client.room_invite(room_id, bot.user_id)
    waiting = await wait_until(lambda: bot.adapter._undecrypted, timeout=30)
    session_id = next(iter(waiting))
    await wait_until(lambda: session_id in bot.adapter.client.olm.outgoing_key_requests,
                     timeout=10)
    # the newcomer's device forwards its own session over an Olm channel
    device_id = bot.adapter.client.device_id
    await client.sync(timeout=300)
    await client.keys_query()
    await client.keys_claim({bot.user_id: [device_id]})
    device = client.device_store[bot.user_id][device_id]
    olm = client.olm
    inbound = olm.inbound_group_store.get(room_id,
                                          olm.account.identity_keys["curve25519"], session_id)
    forward = olm._encrypt_forwarding_key(room_id, inbound,
                                          olm.session_store.get(device.curve25519), device)
    await client.to_device(forward)
    notices = await _wait_notices(newcomer, 1)
    assert notices[0].startswith("Which language"), "answered once the key came"
    await client.close()


async def test_admin_commands_for_admins_only(bot: Bot, synapse: Synapse) -> None:
    """`!status` from a configured admin gets the status; from anyone else, the normal bot."""
    admin, newcomer = await _newcomer(synapse), await _newcomer(synapse)
    bot.adapter.admin.accounts = frozenset({f"matrix:{admin.client.user_id}"})
    admin_room = await _direct_chat(admin, bot)
    await admin.say(admin_room, "!status")
    notices = await _wait_notices(admin, 1)
    assert "Catalogue:" in notices[-1]
    room = await _direct_chat(newcomer, bot)
    await newcomer.say(room, "!status")
    notices = await _wait_notices(newcomer, 1)
    assert "Catalogue:" not in "\n".join(notices), "a newcomer gets the normal bot"
    await admin.client.close()
    await newcomer.client.close()



async def test_start_words_from_a_poster_open_the_right_conversation(bot: Bot,
                                                                     synapse: Synapse) -> None:
    """matrix.to links carry no payload: the poster says "send: start uk_childcare"."""
    newcomer = await _newcomer(synapse)
    room = await _direct_chat(newcomer, bot)
    await newcomer.say(room, "start uk_childcare")
    notices = await _wait_notices(newcomer, 2)
    text = "\n".join(notices)
    assert "Вітаю" in text or "Привіт" in text, "greeted in Ukrainian"
    assert any("\u0400" <= ch <= "\u04ff" for ch in notices[-1]), "and asked in Ukrainian"
    await newcomer.client.close()
