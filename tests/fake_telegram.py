"""A local HTTP server that speaks the Telegram Bot API wire format, for tests.

Telegram's servers cannot be reached from here. This server answers the methods the adapter
uses (getMe, getUpdates, sendMessage, sendPhoto, answerCallbackQuery, setMyCommands,
deleteWebhook, ...) with JSON built from python-telegram-bot's own types, so a real PTB
`Application` pointed at it with `base_url` behaves as against Telegram. Tests queue updates
as a newcomer would send them and read what the bot sent. Faults can be injected: an HTTP 429
with retry_after, a dropped connection, a request held open without an answer, or a slow
answer.

Several bot processes can share one fake: each gets its own `base_url_for(label)`, and every
call records the label of the process that made it (`Sent.via`).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from telegram import CallbackQuery, Chat, Message, PhotoSize, Update, User
from tornado.httpserver import HTTPServer
from tornado.httputil import HTTPFile, parse_body_arguments
from tornado.netutil import bind_sockets
from tornado.web import Application, RequestHandler

TOKEN = "123456:TEST-token-for-the-local-fake-server"
BOT = User(id=123456, is_bot=True, first_name="Wegweiser", username="wegweiser_test_bot")


@dataclass
class Sent:
    method: str
    params: dict[str, Any]
    #: the label in the base URL the call came through (`base_url_for`), or None
    via: str | None = None


class _Hang(Exception):
    """The request is held open without an answer, until the client goes away."""


@dataclass
class FakeBotApi:
    updates: list[dict[str, Any]] = field(default_factory=list)
    calls: list[Sent] = field(default_factory=list)
    #: method -> faults to answer with first, in order: "429:<seconds>", "409", "drop"
    #: (close the connection), "hang" (never answer: the call is recorded as "<method>:hang"
    #: and not as done, as if it never reached Telegram; held until the client goes away),
    #: "slow:<seconds>" (recorded as "<method>:slow" on arrival, answered after the wait) or
    #: "ok" (answered normally: to let calls through before a later fault)
    faults: dict[str, list[str]] = field(default_factory=dict)
    port: int = 0
    _next_update: int = 1000
    _next_message: int = 1
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _server: HTTPServer | None = None
    _held: bool = False

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    def base_url_for(self, via: str) -> str:
        """A base URL whose calls are recorded with `via`: to tell bot processes apart."""
        return f"http://127.0.0.1:{self.port}/via/{via}/bot"

    async def start(self) -> None:
        sockets = bind_sockets(0, "127.0.0.1")
        self.port = sockets[0].getsockname()[1]
        route = r"/(?:via/([\w-]+)/)?bot([^/]+)/(\w+)"
        self._server = HTTPServer(Application([(route, _Handler, {"api": self})]))
        self._server.add_sockets(sockets)

    async def stop(self) -> None:
        if self._server:
            self._server.stop()
            await self._server.close_all_connections()

    # -- what a newcomer does ----------------------------------------------------------

    @staticmethod
    def _user(user_id: int, language_code: str | None) -> User:
        return User(id=user_id, is_bot=False, first_name="Newcomer", language_code=language_code)

    def send_text(self, text: str, user_id: int = 42, language_code: str | None = "ar",
                  date: datetime | None = None, update_id: int | None = None) -> int:
        message = Message(message_id=self._message_id(), date=date or datetime.now(UTC),
                          chat=Chat(id=user_id, type=Chat.PRIVATE),
                          from_user=self._user(user_id, language_code), text=text)
        return self._queue(Update(self._update_id(update_id), message=message), not self._held)

    def tap(self, data: str, user_id: int = 42, language_code: str | None = "ar") -> int:
        shown = Message(message_id=self._message_id(), date=datetime.now(UTC),
                        chat=Chat(id=user_id, type=Chat.PRIVATE), from_user=BOT, text="…")
        query = CallbackQuery(id=f"cq{self._next_update}", chat_instance="ci", data=data,
                              from_user=self._user(user_id, language_code), message=shown)
        return self._queue(Update(self._update_id(None), callback_query=query), not self._held)

    def redeliver(self, update_id: int) -> None:
        """Telegram delivers an update again (the bot died before confirming it): queue a
        copy next to the original, so that both arrive in one getUpdates answer."""
        original = next(u for u in self.updates if u["update_id"] == update_id)
        self.updates.append(dict(original))

    def _update_id(self, given: int | None) -> int:
        if given is not None:
            self._next_update = max(self._next_update, given)
            return given
        self._next_update += 1
        return self._next_update

    def _message_id(self) -> int:
        self._next_message += 1
        return self._next_message

    def _queue(self, update: Update, deliver: bool = True) -> int:
        self.updates.append(update.to_dict())
        if deliver:
            self._arrived.set()
        return update.update_id

    def hold(self) -> None:
        """Queue the next updates without waking a waiting poll (see release)."""
        self._held = True

    def release(self) -> None:
        self._held = False
        self._arrived.set()

    # -- what the bot did ----------------------------------------------------------------

    def sent(self, method: str = "sendMessage",
             chat_id: int | None = None) -> list[dict[str, Any]]:
        """The parameters of the calls of `method` that were answered (to one chat: `chat_id`)."""
        return [c.params for c in self.calls if c.method == method
                and (chat_id is None or int(c.params.get("chat_id", 0)) == chat_id)]

    async def wait_for(self, method: str, count: int, timeout: float = 15.0) -> list[dict]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.sent(method)) < count:
            if loop.time() > deadline:
                raise AssertionError(f"only {len(self.sent(method))} of {count} {method} calls")
            await asyncio.sleep(0.02)
        return self.sent(method)

    async def settle(self, quiet: float = 0.4) -> None:
        """Wait until the bot has sent nothing but polls for `quiet` seconds."""
        seen = -1
        while seen != len([c for c in self.calls if c.method != "getUpdates"]):
            seen = len([c for c in self.calls if c.method != "getUpdates"])
            await asyncio.sleep(quiet)

    # -- answering -----------------------------------------------------------------------

    async def answer(self, method: str, params: dict[str, Any],
                     via: str | None = None) -> tuple[int, dict[str, Any]]:
        pending = self.faults.get(method)
        fault = pending.pop(0) if pending else None
        if fault == "hang":
            self.calls.append(Sent(f"{method}:hang", params, via))
            raise _Hang
        if fault and fault.startswith("slow:"):
            self.calls.append(Sent(f"{method}:slow", params, via))
            await asyncio.sleep(float(fault.split(":")[1]))
        if fault and fault.startswith("429:"):
            self.calls.append(Sent(f"{method}:429", params, via))
            seconds = int(fault.split(":")[1])
            return 429, {"ok": False, "error_code": 429,
                         "description": f"Too Many Requests: retry after {seconds}",
                         "parameters": {"retry_after": seconds}}
        if fault == "409":
            self.calls.append(Sent(f"{method}:409", params, via))
            return 409, {"ok": False, "error_code": 409,
                         "description": "Conflict: terminated by other getUpdates request; "
                                        "make sure that only one bot instance is running"}
        if fault == "drop":
            self.calls.append(Sent(f"{method}:drop", params, via))
            raise ConnectionResetError("dropped by the fake server")
        self.calls.append(Sent(method, params, via))
        if method == "getMe":
            return 200, {"ok": True, "result": BOT.to_dict()}
        if method == "getUpdates":
            return 200, {"ok": True, "result": await self._updates(params)}
        if method == "sendPhoto":
            photo = PhotoSize("photo-id", "photo-unique-id", 1080, 1080)
            message = Message(message_id=self._message_id(), date=datetime.now(UTC),
                              chat=Chat(id=int(params["chat_id"]), type=Chat.PRIVATE),
                              from_user=BOT, photo=(photo,), caption=params.get("caption"))
            return 200, {"ok": True, "result": message.to_dict()}
        if method in {"sendMessage", "editMessageText"}:
            message = Message(message_id=self._message_id(), date=datetime.now(UTC),
                              chat=Chat(id=int(params["chat_id"]), type=Chat.PRIVATE),
                              from_user=BOT, text=str(params.get("text", "")))
            return 200, {"ok": True, "result": message.to_dict()}
        return 200, {"ok": True, "result": True}

    async def _updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        if (self._held or not self.updates) and timeout:
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), min(timeout, 0.5))
            except TimeoutError:
                pass
        if self._held:
            return []
        return [u for u in self.updates if u["update_id"] >= offset]


class _Handler(RequestHandler):
    def initialize(self, api: FakeBotApi) -> None:
        self.api = api
        self._gone = asyncio.Event()

    def on_connection_close(self) -> None:
        self._gone.set()

    async def post(self, via: str | None, token: str, method: str) -> None:
        if token != TOKEN:
            self.set_status(401)
            self.write({"ok": False, "error_code": 401, "description": "Unauthorized"})
            return
        content_type = self.request.headers.get("Content-Type", "")
        if content_type.startswith("multipart/form-data"):
            # an upload (sendPhoto): fields as text, each file as {"filename", "body": bytes}
            fields: dict[str, list[bytes]] = {}
            files: dict[str, list[HTTPFile]] = {}
            parse_body_arguments(content_type, self.request.body, fields, files)
            params: dict[str, Any] = {k: v[0].decode() for k, v in fields.items()}
            params.update({k: {"filename": v[0].filename, "body": v[0].body}
                           for k, v in files.items()})
        elif "json" in content_type:
            params = json.loads(self.request.body.decode() or "{}")
        else:
            params = dict(parse_qsl(self.request.body.decode()))
        for key, value in list(params.items()):
            if isinstance(value, str) and value[:1] in "[{":
                try:
                    params[key] = json.loads(value)
                except ValueError:
                    pass
        try:
            status, answer = await self.api.answer(method, params, via)
        except _Hang:
            await self._gone.wait()  # the client gave up, died, or the fake is stopping
            return
        except ConnectionResetError:
            self.request.connection.stream.close()
            return
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.write(json.dumps(answer))

    get = post
