"""The Telegram adapter, on python-telegram-bot v22: `wegweiser run telegram`.

Each private chat is one conversation ("telegram:<chat id>"); each update is handled once
(its update_id is the event id the service dedupes by). Text and button presses become
`Inbound` values; `/start <payload>` is a start link. Replies are rendered by
telegram_render.py. PTB's rate limiter honours flood control (retry_after); polling retries
network errors with backoff by itself. A second instance polling the same token makes
Telegram answer "Conflict": this one then stops with a critical log instead of fighting.

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
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import Conflict, TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes, TypeHandler

from bot.adapters import SettingsError
from bot.adapters.telegram_render import NUMBERED, render
from bot.engine.vocabulary import COMMAND_DESCRIPTIONS
from bot.messages import ConversationId, Inbound, Reply
from bot.service import Service

log = logging.getLogger(__name__)

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
                                "@BotFather and put its token in that environment variable")
        webhook = env.get("WEGWEISER_TELEGRAM_WEBHOOK_URL") or None
        secret = env.get("WEGWEISER_TELEGRAM_WEBHOOK_SECRET") or None
        if webhook and urlsplit(webhook).scheme != "https":
            raise SettingsError("WEGWEISER_TELEGRAM_WEBHOOK_URL must be an https:// address")
        if webhook and not (secret and re.fullmatch(r"[A-Za-z0-9_-]{16,256}", secret)):
            raise SettingsError("a webhook needs WEGWEISER_TELEGRAM_WEBHOOK_SECRET: 16 to 256 "
                                "characters of A-Z, a-z, 0-9, _ and -")
        host, _, port = env.get("WEGWEISER_TELEGRAM_LISTEN", "127.0.0.1:8443").rpartition(":")
        if not port.isdigit():
            raise SettingsError("WEGWEISER_TELEGRAM_LISTEN must look like 127.0.0.1:8443")
        return cls(token=token,
                   api_url=env.get("WEGWEISER_TELEGRAM_API_URL") or cls.api_url,
                   webhook_url=webhook, webhook_secret=secret, listen=host or "127.0.0.1",
                   port=int(port))


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
    name = "telegram"

    def __init__(self, service: Service, settings: TelegramSettings | None = None,
                 data_dir: Path | None = None):  # noqa: ARG002  (nothing of its own to keep)
        self.service = service
        self.settings = settings or TelegramSettings.from_env()
        self._stopped = asyncio.Event()

    @staticmethod
    def check_settings() -> None:
        """Fail early, with a message that says what to do, if a setting is missing."""
        TelegramSettings.from_env()

    def build(self) -> Application:
        app = (ApplicationBuilder()
               .token(self.settings.token)
               .base_url(self.settings.api_url)
               .rate_limiter(AIORateLimiter(max_retries=5))
               .concurrent_updates(True)  # the service keeps each person's messages in order
               .build())
        app.add_handler(TypeHandler(Update, self.on_update))
        app.add_error_handler(self._on_error)
        return app

    async def on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        if chat is None or chat.type != "private":
            return  # group chats: not served (see the README)
        inbound = to_inbound(update, self.settings.late_after, datetime.now(UTC))
        if inbound is None:
            return

        async def deliver(replies: list[Reply]) -> None:
            for reply in replies:
                for message in render(reply):
                    await context.bot.send_message(
                        chat.id, message.html, parse_mode=ParseMode.HTML,
                        reply_markup=message.keyboard, link_preview_options=_NO_PREVIEW)

        answering = None
        if update.callback_query is not None:
            # every button press is acknowledged (the spinner on the button stops)
            answering = asyncio.ensure_future(update.callback_query.answer())
        # Updates are processed concurrently. Nothing is awaited before the service takes the
        # person's lock, so each person's turns keep their arrival order.
        await self.service.handle(ConversationId(f"telegram:{chat.id}"), inbound,
                                  event_id=str(update.update_id), deliver=deliver)
        if answering is not None:
            await answering

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        # the type only: an exception text may quote what the person wrote
        log.error("error while handling an update: %s", type(context.error).__name__)

    async def set_commands(self, app: Application) -> None:
        """The command menu, in every interface language (English for all others)."""
        for code, lang in self.service.engine.languages.items():
            commands = [BotCommand(name, lang._(text))
                        for name, text in COMMAND_DESCRIPTIONS.items()]
            await app.bot.set_my_commands(commands,
                                          language_code=None if code == "en" else code)

    def _polling_error(self, error: TelegramError) -> None:
        if isinstance(error, Conflict):
            log.critical("another instance is polling with this bot token: stopping this one "
                         "(run one poller per token, or use a webhook)")
            self._stopped.set()
        else:
            log.warning("polling failed (%s); retrying", type(error).__name__)

    async def run(self) -> None:
        app = self.build()
        async with app:
            await self.set_commands(app)
            await app.start()
            assert app.updater is not None
            if self.settings.webhook_url:
                await app.updater.start_webhook(
                    listen=self.settings.listen, port=self.settings.port,
                    url_path=urlsplit(self.settings.webhook_url).path.lstrip("/"),
                    webhook_url=self.settings.webhook_url,
                    secret_token=self.settings.webhook_secret)
            else:
                await app.updater.start_polling(error_callback=self._polling_error)
            log.info("serving Telegram (%s)", "webhook" if self.settings.webhook_url
                     else "long polling")
            try:
                await self._stopped.wait()
            finally:
                await app.updater.stop()
                await app.stop()

    def stop(self) -> None:
        self._stopped.set()
