"""The Matrix adapter, on matrix-nio 0.26: `wegweiser run matrix`.

Each room is one conversation ("matrix:<room id>"); each event is handled once (its event id
is the service's dedupe key). The bot joins the rooms it is invited to, answers every message
in a direct chat, and in a group room only when its name or user id is mentioned, so that it
never discusses anyone's situation in front of others uninvited. It never answers its own
events, nor anything from before its first sync: on the very first start the initial sync is
read and skipped, later starts resume from the stored sync token, so messages that arrived
while the bot was down are answered (with an apology when they waited long), and none twice.

Replies are `m.notice` events with a plain `body` and an HTML `formatted_body` that uses only
tags the Matrix spec allows, everything escaped; choices are a numbered list the person answers
with a number or in words.

Settings come from the environment (see the README):

    WEGWEISER_MATRIX_HOMESERVER   e.g. https://matrix.example.org (required)
    WEGWEISER_MATRIX_USER         the bot's user id, e.g. @wegweiser:example.org (required)
    WEGWEISER_MATRIX_PASSWORD     its password (used once; the bot then keeps its device
                                  and access token in the data directory)
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from nio import (
    AsyncClient,
    AsyncClientConfig,
    ForwardedRoomKeyEvent,
    InviteMemberEvent,
    LoginResponse,
    MatrixRoom,
    MegolmEvent,
    RoomKeyEvent,
    RoomMessageText,
    RoomSendError,
    RoomSendResponse,
    SyncResponse,
)

from bot.adapters import SettingsError
from bot.adapters import matrix_crosssigning as crosssigning
from bot.adapters.layout import markup, pack, paragraphs, plain
from bot.admin import Admin, admins_from_env, describe_reload
from bot.links import start_from_text
from bot.messages import ConversationId, Inbound, Reply, Text
from bot.paths import default_data_dir
from bot.reload import Outcome
from bot.service import LATE_AFTER, Deliver, Service

log = logging.getLogger(__name__)

#: Messages that waited longer than this (the bot was down) are answered with an apology.
LATE_AFTER_MS = LATE_AFTER.total_seconds() * 1000
#: Conversation ids of this adapter: "matrix:!room:server".
PREFIX = "matrix:"
#: Backoff for failed syncs and sends: first wait and cap, in seconds.
RETRY_FIRST = 1.0
RETRY_CAP = 60.0
SEND_ATTEMPTS = 8
#: Connection attempts matrix-nio makes per request (waiting 0, 0.2 and 0.4 s between them).
NIO_ATTEMPTS = 3
#: Undecryptable messages kept per missing key (a bound: a flood cannot fill memory).
MAX_WAITING_PER_SESSION = 50
#: Errors that no retry can fix.
_FINAL = {"M_FORBIDDEN", "M_UNKNOWN_TOKEN", "M_NOT_FOUND", "M_TOO_LARGE", "M_BAD_JSON"}
#: Matrix events may be at most 64 KiB: characters per event, leaving room for the HTML and
#: for four bytes per character of UTF-8.
EVENT_TEXT_LIMIT = 8_000


@dataclass(frozen=True)
class MatrixSettings:
    homeserver: str
    user: str
    password: str | None = None

    def __repr__(self) -> str:
        return f"MatrixSettings(homeserver={self.homeserver!r}, user={self.user!r})"

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> MatrixSettings:
        homeserver = env.get("WEGWEISER_MATRIX_HOMESERVER", "").strip()
        user = env.get("WEGWEISER_MATRIX_USER", "").strip()
        if not homeserver or not user:
            raise SettingsError("set WEGWEISER_MATRIX_HOMESERVER (https://...) and "
                                "WEGWEISER_MATRIX_USER (@name:server) for the bot's account "
                                "(or [matrix] homeserver and user in the config file)")
        return cls(homeserver, user, env.get("WEGWEISER_MATRIX_PASSWORD") or None)


def render(reply: Reply, limit: int = EVENT_TEXT_LIMIT) -> list[tuple[str, str]]:
    """(plain body, HTML formatted_body) per event for one reply; every text escaped, long
    replies split at paragraphs so that no event comes near Matrix's 64 KiB."""
    return [("\n\n".join(plain(block) for block in blocks),
             "".join(f"<p>{markup(block, '<br>')}</p>" for block in blocks))
            for blocks in pack(paragraphs(reply, numbered_choices=True), limit)]


class MatrixAdapter:
    name = "matrix"

    def __init__(self, service: Service, settings: MatrixSettings | None = None,
                 data_dir: Path | None = None, env: Mapping[str, str] = os.environ):
        self.service = service
        self.settings = settings or MatrixSettings.from_env(env)
        self.store_dir = (data_dir or default_data_dir(env)) / "matrix"
        self._stopped = asyncio.Event()
        self.admin = Admin(service, admins_from_env(env))
        #: The room each admin last gave a command in: where reload failures are reported.
        self._admin_rooms: dict[str, str] = {}
        self._ready = False
        #: The homeserver answered the last sync: for /health.
        self._connected = False
        self.cross_signed = False
        self.client: AsyncClient | None = None
        #: Messages without a room key yet, by megolm session id, retried when the key comes.
        self._undecrypted: dict[str, list[tuple[MatrixRoom, MegolmEvent]]] = {}

    @staticmethod
    def check_settings(env: Mapping[str, str] = os.environ) -> None:
        MatrixSettings.from_env(env)

    @property
    def _session_file(self) -> Path:
        return self.store_dir / "session.json"

    async def _login(self, client: AsyncClient) -> None:
        """Reuse the stored device and token; log in with the password only the first time."""
        if self._session_file.exists():
            session = json.loads(self._session_file.read_text())
            client.restore_login(session["user_id"], session["device_id"],
                                 session["access_token"])
            return
        if not self.settings.password:
            raise SettingsError("WEGWEISER_MATRIX_PASSWORD is needed for the first login")
        answer = await client.login(self.settings.password, device_name="Wegweiser")
        if not isinstance(answer, LoginResponse):
            raise SettingsError(f"Matrix login failed: {getattr(answer, 'message', answer)}")
        self._session_file.write_text(json.dumps({
            "user_id": answer.user_id, "device_id": answer.device_id,
            "access_token": answer.access_token}))
        self._session_file.chmod(0o600)

    async def run(self) -> None:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        # The sync token is saved by _sync_forever once a sync's events were stored, not by nio
        # (which saves it before running the event callbacks: a crash then would skip them).
        # matrix-nio retries a request that cannot connect for ever by default; after
        # NIO_ATTEMPTS it raises instead, so that an unreachable homeserver shows (in /health;
        # a failed login restarts the adapter) and our own loops back off (_sync_forever, send).
        config = AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False,
                                   max_timeouts=NIO_ATTEMPTS)
        client = self.client = AsyncClient(self.settings.homeserver, self.settings.user,
                                           store_path=str(self.store_dir), config=config)
        try:
            await self._login(client)
            self._accept_keys_from_their_creators(client)
            client.add_event_callback(self._on_invite, InviteMemberEvent)
            client.add_event_callback(self._on_message, RoomMessageText)
            client.add_event_callback(self._on_undecryptable, MegolmEvent)
            client.add_to_device_callback(self._on_room_key, (RoomKeyEvent,
                                                               ForwardedRoomKeyEvent))
            client.add_response_callback(self._on_sync, SyncResponse)
            if not client.loaded_sync_token:
                first = await client.sync(timeout=0, full_state=True)  # the past: not answered
                if isinstance(first, SyncResponse):
                    client.store.save_sync_token(first.next_batch)
            if client.should_upload_keys:
                await client.keys_upload()
            self.cross_signed = await crosssigning.bootstrap(
                client, self.store_dir / "cross-signing.json", self.settings.password)
            self._ready = self._connected = True
            log.info("serving Matrix")
            syncing = asyncio.create_task(self._sync_forever(client))
            recovering = asyncio.create_task(self.service.keep_recovering(self.deliver_for))
            stopping = asyncio.create_task(self._stopped.wait())
            await asyncio.wait({syncing, stopping}, return_when=asyncio.FIRST_COMPLETED)
            await self.service.settle()  # turns in flight finish and send their replies
            for task in (syncing, recovering, stopping):
                task.cancel()
        finally:
            await client.close()  # never log out: the device and its keys are kept

    def stop(self) -> None:
        self._stopped.set()

    @property
    def ready(self) -> bool:
        """Logged in, caught up, and the homeserver answered the last sync."""
        return self._ready and self._connected and not self._stopped.is_set()

    async def _sync_forever(self, client: AsyncClient) -> None:
        """Long-poll the homeserver for ever. Errors, returned or raised (the homeserver
        restarting, the network gone), are retried with capped exponential backoff, never in
        a tight loop."""
        delay = RETRY_FIRST
        while True:
            try:
                answer = await client.sync(timeout=30_000, since=client.next_batch)
            except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as err:
                answer = err
            if isinstance(answer, SyncResponse):
                # every message of this sync is in the store now: a restart may go on from here
                client.store.save_sync_token(answer.next_batch)
                self._connected = True
                delay = RETRY_FIRST
                continue
            self._connected = False
            log.warning("sync failed (%s); retrying in %.0f s", type(answer).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_CAP)

    async def send(self, room_id: str, content: dict[str, object]) -> bool:
        """Send one event; on M_LIMIT_EXCEEDED wait as told, on other failures back off, and
        always retry with the same transaction id so the homeserver stores it only once.
        (matrix-nio already waits out a 429 a few times itself; this loop takes over when it
        gives up, and covers network errors and a restarting homeserver.)"""
        assert self.client is not None
        transaction = uuid.uuid4().hex
        delay = RETRY_FIRST
        for _ in range(SEND_ATTEMPTS):
            try:
                answer = await self.client.room_send(room_id, "m.room.message", content,
                                                     tx_id=transaction,
                                                     ignore_unverified_devices=True)
            except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as err:
                answer = err
            if isinstance(answer, RoomSendResponse):
                return True
            wait = delay
            if isinstance(answer, RoomSendError) and answer.status_code == "M_LIMIT_EXCEEDED":
                wait = (answer.retry_after_ms or delay * 1000) / 1000
            elif isinstance(answer, RoomSendError) and answer.status_code in _FINAL:
                break
            log.warning("sending failed (%s); retrying in %.1f s",
                        getattr(answer, "status_code", type(answer).__name__), wait)
            await asyncio.sleep(wait)
            delay = min(delay * 2, RETRY_CAP)
        log.error("giving up sending a reply to a room")
        return False

    async def _on_sync(self, response: SyncResponse) -> None:
        if self.client and self.client.should_upload_keys:
            await self.client.keys_upload()

    def _accept_keys_from_their_creators(self, client: AsyncClient) -> None:
        """Let the device that created a room key forward it when the bot asked for it.

        matrix-nio 0.26 accepts forwarded keys only from the bot's own devices, so a key that
        a newcomer's Element forwards in answer to the bot's request would be dropped. It is
        safe to accept it from the device that created the session: the Olm channel proves
        the forwarding device's curve25519 key, and it must be the session's own sender key.
        """
        olm = client.olm
        if olm is None:
            return
        original = olm._should_accept_forward

        def accept(sender: str, sender_key: str, event: ForwardedRoomKeyEvent) -> bool:
            if original(sender, sender_key, event):
                return True
            request = olm.outgoing_key_requests.get(event.session_id)
            content = event.source.get("content", {})
            return (request is not None and event.algorithm == request.algorithm
                    and event.room_id == request.room_id
                    and content.get("sender_key") == sender_key
                    and not content.get("forwarding_curve25519_key_chain"))

        olm._should_accept_forward = accept  # type: ignore[method-assign]

    async def _on_undecryptable(self, room: MatrixRoom, event: MegolmEvent) -> None:
        """A message the bot has no key for (sent before it joined, or the key was lost):
        ask the sender's devices for the key and keep the event to try again when it comes."""
        assert self.client is not None
        if event.sender == self.client.user_id:
            return
        waiting = self._undecrypted.setdefault(event.session_id, [])
        if len(waiting) < MAX_WAITING_PER_SESSION:
            waiting.append((room, event))
        if len(waiting) == 1:
            answer = await self.client.request_room_key(event)
            log.info("asked for a missing room key (%s)", type(answer).__name__)

    async def _on_room_key(self, event: RoomKeyEvent | ForwardedRoomKeyEvent) -> None:
        assert self.client is not None
        for room, undecrypted in self._undecrypted.pop(event.session_id, []):
            decrypted = self.client.decrypt_event(undecrypted)
            if isinstance(decrypted, RoomMessageText):
                await self._on_message(room, decrypted)

    async def _on_invite(self, room: MatrixRoom, event: InviteMemberEvent) -> None:
        assert self.client is not None
        if event.state_key != self.client.user_id or event.membership != "invite":
            return  # an invite for someone else in a room the bot is in
        await self.client.join(room.room_id)

    def _addressed(self, room: MatrixRoom, body: str) -> bool:
        if room.member_count <= 2:
            return True
        assert self.client is not None
        names = {self.client.user_id, room.user_name(self.client.user_id) or ""}
        return any(name and name.lower() in body.lower() for name in names)

    async def _on_message(self, room: MatrixRoom, event: RoomMessageText) -> None:
        client = self.client
        assert client is not None
        if not self._ready or event.sender == client.user_id or not self._addressed(room,
                                                                                      event.body):
            return

        conversation = ConversationId(f"{PREFIX}{room.room_id}")
        account = f"{PREFIX}{event.sender}"
        command = self.admin.command(account, event.body)
        if command is not None:  # staff, not a newcomer's turn: never stored
            self._admin_rooms[account] = room.room_id
            deliver = self.deliver_for(conversation)
            for reply in await self.admin.run(command):
                if deliver is not None:
                    await deliver(reply)
            return
        waited = time.time() * 1000 - event.server_timestamp
        payload = start_from_text(event.body)  # "start ar_german-course" from a poster
        inbound = (Inbound(start=payload, late=waited > LATE_AFTER_MS) if payload else
                   Inbound(text=event.body, late=waited > LATE_AFTER_MS))
        await self.service.handle(conversation, inbound,
                                  event_id=event.event_id, deliver=self.deliver_for(conversation))

    async def tell_admins(self, outcome: Outcome) -> None:
        """After a reload that failed, or the first good one after a failure: every admin
        who gave a command since the start gets the outcome in that room. (Matrix has no
        "chat with this user" address; a room is only known once the admin used it.)"""
        if not self.admin.worth_telling(outcome):
            return
        for room_id in sorted(set(self._admin_rooms.values())):
            deliver = self.deliver_for(ConversationId(f"{PREFIX}{room_id}"))
            if deliver is not None:
                await deliver(Text(describe_reload(outcome)))

    def deliver_for(self, conversation: ConversationId) -> Deliver | None:
        """The sender for one of this adapter's conversations (None for other platforms')."""
        if not conversation.startswith(PREFIX):
            return None
        room_id = conversation.removeprefix(PREFIX)

        async def deliver(reply: Reply) -> None:
            for body, formatted in render(reply):
                await self.send(room_id, {
                    "msgtype": "m.notice", "body": body,
                    "format": "org.matrix.custom.html", "formatted_body": formatted})
        return deliver
