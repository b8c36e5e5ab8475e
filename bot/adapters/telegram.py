"""The Telegram adapter, on python-telegram-bot v22: `wegweiser run telegram`.

Each private chat is one conversation ("telegram:<chat id>"); each update is handled once
(its update_id is the event id the service dedupes by). Text and button presses become
`Inbound` values; `/start <payload>` is a start link. Replies are rendered by
telegram_render.py. PTB's rate limiter honours flood control (retry_after); polling retries
network errors with backoff. A second instance polling the same token makes Telegram answer
"Conflict": this one then stops with a SettingsError (the runner logs it as critical and
does not restart it) instead of fighting. Several instances
can serve one bot through a webhook behind a load balancer when they share a Redis store
(docs/operations.md).

Messages that arrived while the bot was down are answered when it comes back, in order;
those older than `late_after` get a one-line apology first.

Settings come from the environment (never the command line, so the token stays out of shell
history and process lists):

    WEGWEISER_TELEGRAM_TOKEN        the bot token from BotFather (required)
    WEGWEISER_TELEGRAM_API_URL      Bot API base URL, for a self-hosted Bot API server
    WEGWEISER_TELEGRAM_WEBHOOK_URL  public https URL: use a webhook instead of long polling
    WEGWEISER_TELEGRAM_WEBHOOK_SECRET  required with a webhook; Telegram sends it back in a
                                    header and requests without it get 403
    WEGWEISER_TELEGRAM_LISTEN       address:port the webhook server listens on (127.0.0.1:8443)
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import re
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from telegram import Bot, BotCommand, CallbackQuery, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, Forbidden, TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder
from tornado.httpserver import HTTPServer
from tornado.web import Application as WebApplication
from tornado.web import RequestHandler

from bot.adapters import SettingsError
from bot.adapters.card_image import render_card
from bot.adapters.telegram_render import NUMBERED, render
from bot.admin import Admin, AdminCommand, admins_from_env, describe_reload
from bot.config import split_listen
from bot.engine.vocabulary import COMMAND_DESCRIPTIONS
from bot.messages import ConversationId, CounterCard, Inbound, Reply, Text
from bot.reload import Outcome
from bot.service import Deliver, Service

log = logging.getLogger(__name__)

#: Conversation ids of this adapter: "telegram:<chat id>".
PREFIX = "telegram:"
#: The update kinds the bot handles; Telegram does not even send the others.
ALLOWED_UPDATES = ("message", "callback_query")
#: Long-polling wait, and the backoff after a failed poll (first wait and cap), in seconds.
POLL_SECONDS = 10
RETRY_FIRST = 1.0
RETRY_CAP = 30.0
#: Counter cards drawn as pictures at the same time (each one runs headless Chromium).
CARD_RENDERS = 2
#: Telegram's updates are a few kilobytes; anything far larger is not from Telegram.
WEBHOOK_MAX_BYTES = 1_000_000

_BOT_SUFFIX = re.compile(r"^(/\w+)@\w+")
#: Offer cards carry several links; a preview of one of them would only push the text away.
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


@dataclass(frozen=True)
class TelegramSettings:
    token: str
    api_url: str = "https://api.telegram.org/bot"
    webhook_url: str | None = None
    webhook_secret: str | None = None
    listen: str = "127.0.0.1"
    port: int = 8443
    late_after: timedelta = timedelta(minutes=10)

    def __repr__(self) -> str:  # never print the token or the secret
        return (f"TelegramSettings(api_url={self.api_url!r}, webhook_url={self.webhook_url!r}, "
                f"listen={self.listen!r}, port={self.port})")

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> TelegramSettings:
        token = env.get("WEGWEISER_TELEGRAM_TOKEN", "").strip()
        if not token:
            raise SettingsError("WEGWEISER_TELEGRAM_TOKEN is not set: create a bot with "
                                "@BotFather and put its token in that environment variable "
                                "(or in the config file: [telegram] token)")
        webhook = env.get("WEGWEISER_TELEGRAM_WEBHOOK_URL") or None
        secret = env.get("WEGWEISER_TELEGRAM_WEBHOOK_SECRET") or None
        if webhook and urlsplit(webhook).scheme != "https":
            raise SettingsError("WEGWEISER_TELEGRAM_WEBHOOK_URL must be an https:// address")
        if webhook and not (secret and re.fullmatch(r"[A-Za-z0-9_-]{16,256}", secret)):
            raise SettingsError("a webhook needs WEGWEISER_TELEGRAM_WEBHOOK_SECRET: 16 to 256 "
                                "characters of A-Z, a-z, 0-9, _ and -")
        try:
            host, port = split_listen(env.get("WEGWEISER_TELEGRAM_LISTEN") or "127.0.0.1:8443")
        except ValueError:
            raise SettingsError("WEGWEISER_TELEGRAM_LISTEN must look like 127.0.0.1:8443") from None
        return cls(token=token,
                   api_url=env.get("WEGWEISER_TELEGRAM_API_URL") or cls.api_url,
                   webhook_url=webhook, webhook_secret=secret, listen=host or "127.0.0.1",
                   port=port)


def to_inbound(update: Update, late_after: timedelta, now: datetime) -> Inbound | None:
    """The person's action in an update, or None for updates the bot does not handle."""
    user = update.effective_user
    hint = user.language_code if user else None
    if update.callback_query is not None:
        data = update.callback_query.data or ""
        if data.startswith(NUMBERED):
            return Inbound(text=data[len(NUMBERED):], locale_hint=hint)
        return Inbound(choice=data, locale_hint=hint)
    message = update.message
    if message is None:
        return None
    late = message.date is not None and now - message.date > late_after
    text = _BOT_SUFFIX.sub(r"\1", message.text or "")
    if text.startswith("/start"):
        command, _, payload = text.partition(" ")
        if command == "/start" and payload.strip():
            return Inbound(start=payload.strip(), locale_hint=hint, late=late)
    # photos, voice messages and stickers arrive as empty text: the engine asks for words
    return Inbound(text=text, locale_hint=hint, late=late)


class TelegramAdapter:
    """Takes updates in by long polling or a webhook, stores each one (`Service.receive`)
    before Telegram learns that it arrived, and answers it in the background.

    Long polling confirms updates to Telegram only with the next getUpdates call, and a
    webhook request is answered 200 only after the update is stored: a crash at any moment
    therefore makes Telegram deliver again what the bot did not keep, and the store refuses
    what it did keep. This is why the adapter reads updates itself instead of through PTB's
    Updater, which confirms updates as soon as they are in its in-memory queue.
    """

    name = "telegram"

    def __init__(self, service: Service, settings: TelegramSettings | None = None,
                 data_dir: Path | None = None,  # noqa: ARG002  (nothing of its own to keep)
                 env: Mapping[str, str] = os.environ):
        self.service = service
        self.settings = settings or TelegramSettings.from_env(env)
        self.admin = Admin(service, admins_from_env(env))
        self._rendering = asyncio.Semaphore(CARD_RENDERS)
        self._stopped = asyncio.Event()
        self._bot: Bot | None = None
        #: Telegram answered the last poll (or the webhook server listens): for /health.
        self._connected = False
        #: Another instance polls with this token (Telegram answered "Conflict").
        self._conflict = False
        #: Turns and acknowledgements started in the background, awaited at shutdown.
        self._tasks: set[asyncio.Task[None]] = set()

    @staticmethod
    def check_settings(env: Mapping[str, str] = os.environ) -> None:
        """Fail early, with a message that says what to do, if a setting is missing."""
        TelegramSettings.from_env(env)

    def build(self) -> Application:
        """PTB's Application for its configured Bot (rate limiter, connection pools); its
        Updater is not used (see the class docstring)."""
        return (ApplicationBuilder()
                .token(self.settings.token)
                .base_url(self.settings.api_url)
                .rate_limiter(AIORateLimiter(max_retries=5))
                .updater(None)
                .build())

    # -- taking updates in ----------------------------------------------------------------

    async def receive(self, update: Update) -> None:
        """Store the update, then answer it in the background. Returns once it is stored."""
        chat = update.effective_chat
        if chat is None or chat.type != "private":
            return  # group chats: not served (see the README)
        conversation = ConversationId(f"{PREFIX}{chat.id}")
        user = update.effective_user
        if update.message and update.message.text and user is not None:
            command = self.admin.command(f"{PREFIX}{user.id}", update.message.text)
            if command is not None:  # staff, not a newcomer's turn: never stored
                self._background(self._run_admin(command, conversation))
                return
        inbound = to_inbound(update, self.settings.late_after, datetime.now(UTC))
        if inbound is None:
            return
        if not await self.service.receive(conversation, inbound, str(update.update_id)):
            return
        if update.callback_query is not None:
            # every button press is acknowledged (the spinner on the button stops)
            self._background(self._acknowledge(update.callback_query))
        self._background(self._answer(conversation))

    def _background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, conversation: ConversationId) -> None:
        try:
            await self.service.drain(conversation, self.deliver_for(conversation))
        except Exception as err:  # noqa: BLE001  the reply waits in the outbox
            # the type only: an exception text may quote what the person wrote
            log.warning("could not answer yet (%s); retrying later", type(err).__name__)

    async def _run_admin(self, command: AdminCommand, conversation: ConversationId) -> None:
        deliver = self.deliver_for(conversation)
        for reply in await self.admin.run(command):
            if deliver is not None:
                await deliver(reply)

    async def tell_admins(self, outcome: Outcome) -> None:
        """After a reload that failed, or the first good one after a failure: every admin
        (who has started a chat with the bot) gets the outcome."""
        if not self.admin.worth_telling(outcome):
            return
        for account in sorted(self.admin.accounts):
            if account.startswith(PREFIX) and account.removeprefix(PREFIX).isdigit():
                deliver = self.deliver_for(ConversationId(account))
                if deliver is not None:
                    await deliver(Text(describe_reload(outcome)))

    @staticmethod
    async def _acknowledge(query: CallbackQuery) -> None:
        try:
            await query.answer()
        except TelegramError as err:  # too late, or the query is gone: nothing to do
            log.info("could not acknowledge a button press (%s)", type(err).__name__)

    async def _poll(self, bot: Bot) -> None:
        """Long polling. An update is confirmed (by the next call's offset) only after it
        was stored, so a crash makes Telegram send again whatever was not kept."""
        await bot.delete_webhook()
        offset: int | None = None
        delay = RETRY_FIRST
        while True:
            try:
                updates = await bot.get_updates(offset=offset, timeout=POLL_SECONDS,
                                                read_timeout=POLL_SECONDS + 10,
                                                allowed_updates=ALLOWED_UPDATES)
            except Conflict:  # `run` ends with a SettingsError: retrying would only fight
                self._conflict = True
                self._stopped.set()
                return
            except TelegramError as err:
                self._connected = False
                log.warning("polling failed (%s); retrying in %.0f s", type(err).__name__,
                            delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_CAP)
                continue
            self._connected = True
            delay = RETRY_FIRST
            for update in updates:
                await self.receive(update)
                offset = update.update_id + 1

    async def _serve_webhook(self, bot: Bot) -> HTTPServer:
        settings = self.settings
        server = HTTPServer(WebApplication([(
            "/" + urlsplit(settings.webhook_url or "").path.lstrip("/"), _WebhookHandler,
            {"adapter": self, "bot": bot})]), max_body_size=WEBHOOK_MAX_BYTES)
        server.listen(settings.port, settings.listen)
        await bot.set_webhook(settings.webhook_url or "", secret_token=settings.webhook_secret,
                              allowed_updates=ALLOWED_UPDATES)
        return server

    # -- sending ---------------------------------------------------------------------------

    def deliver_for(self, conversation: ConversationId) -> Deliver | None:
        """The sender for one of this adapter's conversations (None for other platforms')."""
        if self._bot is None or not conversation.startswith(PREFIX):
            return None
        bot, chat_id = self._bot, int(conversation.removeprefix(PREFIX))

        async def deliver(reply: Reply) -> None:
            for message in render(reply):
                try:
                    await bot.send_message(chat_id, message.html, parse_mode=ParseMode.HTML,
                                           reply_markup=message.keyboard,
                                           link_preview_options=_NO_PREVIEW)
                except (Forbidden, BadRequest) as err:
                    # blocked by the person, or refused for good: retrying cannot help
                    log.warning("Telegram refused a reply (%s); it is dropped",
                                type(err).__name__)
                    return
            if isinstance(reply, CounterCard) and reply.german:
                await self._send_card(bot, chat_id, reply)
        return deliver

    async def _send_card(self, bot: Bot, chat_id: int, card: CounterCard) -> None:
        """The counter card also as a picture (card_image.py), captioned with the offer's
        German title. Best effort: the text was sent, so a failure only loses the picture
        and is never retried (that would send the text again)."""
        try:
            async with self._rendering:  # each card is a Chromium process: a few at a time
                png = await asyncio.to_thread(render_card, card.user, card.german, card.rtl,
                                              card.language_name, card.lang)
            caption = card.german[1].strip() if len(card.german) > 1 else None
            await bot.send_photo(chat_id, png, caption=caption[:1024] if caption else None)
        except Exception as err:  # noqa: BLE001  fonts or Chromium missing, Telegram refused
            # the type only: an exception text may quote what the person wrote
            log.warning("could not send the counter card as a picture (%s)",
                        type(err).__name__)

    async def set_commands(self, bot: Bot) -> None:
        """The command menu, in every interface language (English for all others)."""
        for code, lang in self.service.engine.languages.items():
            commands = [BotCommand(name, lang._(text))
                        for name, text in COMMAND_DESCRIPTIONS.items()]
            await bot.set_my_commands(commands, language_code=None if code == "en" else code)

    # -- running ----------------------------------------------------------------------------

    async def run(self) -> None:
        """Serve until `stop`: then take no new updates, let the turns in flight finish and
        send their replies, and return."""
        app = self.build()
        async with app:
            bot = self._bot = app.bot
            await self.set_commands(bot)
            server = None
            if self.settings.webhook_url:
                server = await self._serve_webhook(bot)
                self._connected = True
                intake = asyncio.create_task(self._stopped.wait())
            else:
                intake = asyncio.create_task(self._poll(bot))
            recovering = asyncio.create_task(self.service.keep_recovering(self.deliver_for))
            log.info("serving Telegram (%s)", "webhook" if server else "long polling")
            try:
                stopping = asyncio.create_task(self._stopped.wait())
                await asyncio.wait({intake, stopping}, return_when=asyncio.FIRST_COMPLETED)
                stopping.cancel()
            finally:
                intake.cancel()  # no new updates; whatever was not stored comes again later
                if server is not None:
                    server.stop()
                while self._tasks:
                    await asyncio.wait(set(self._tasks))
                await self.service.settle()
                recovering.cancel()
                if server is not None:
                    await server.close_all_connections()
                self._bot = None
        if self._conflict:
            raise SettingsError("another instance is polling with this bot token: this one "
                                "stopped (run one poller per token, or use a webhook)")

    def stop(self) -> None:
        self._stopped.set()

    @property
    def ready(self) -> bool:
        """Taking updates: Telegram answered the last poll, or the webhook server listens."""
        return self._connected and not self._stopped.is_set()

    @property
    def stopping(self) -> bool:
        return self._stopped.is_set()


class _WebhookHandler(RequestHandler):
    """Telegram's webhook POSTs: checked secret, then stored before the 200 goes back."""

    def initialize(self, adapter: TelegramAdapter, bot: Bot) -> None:
        self.adapter, self.bot = adapter, bot

    async def post(self) -> None:
        if self.adapter.stopping:
            # Shutting down: Telegram retries later, or on another worker behind the load
            # balancer. (A kept-alive connection outlives the closed listening socket.)
            self.set_header("Connection", "close")
            self.send_error(503)
            return
        secret = self.request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(secret.encode(), (self.adapter.settings.webhook_secret
                                                     or "").encode()):
            self.send_error(403)
            return
        try:
            update = Update.de_json(json.loads(self.request.body), self.bot)
        except (ValueError, TypeError, KeyError):
            self.send_error(400)
            return
        await self.adapter.receive(update)
        self.set_status(200)

    def log_exception(self, *args: Any) -> None:  # noqa: ANN401  tornado's signature
        log.error("the webhook failed on a request")  # never the body: it is a message
