"""Replies as Telegram messages: HTML with everything escaped, inline keyboards, 4096 limit.

Pure functions, no network: the adapter sends what these return. Telegram counts its 4096
characters after parsing the HTML, so messages are packed by visible length, paragraph by
paragraph (layout.py), and every piece of text goes through html.escape exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.adapters.layout import markup, pack, paragraphs
from bot.messages import Choices, Reply

#: Telegram's limit for one message, in characters after entity parsing.
MESSAGE_LIMIT = 4096
#: Telegram's limit for a button's callback data, in bytes.
CALLBACK_LIMIT = 64
#: Callback data for an option whose id is too long: "#<n>" answers with the option's number.
NUMBERED = "#"

@dataclass(frozen=True)
class OutMessage:
    html: str
    keyboard: InlineKeyboardMarkup | None = None


def callback_data(option_id: str, number: int) -> str:
    """The option's id if it fits in 64 bytes, else its number (the engine understands both)."""
    return option_id if len(option_id.encode()) <= CALLBACK_LIMIT else f"{NUMBERED}{number}"


def render(reply: Reply, limit: int = MESSAGE_LIMIT) -> list[OutMessage]:
    """One reply as one or more Telegram messages; a keyboard goes on the last one."""
    rendered = [OutMessage("\n\n".join(markup(block) for block in blocks))
                for blocks in pack(paragraphs(reply), limit)]
    if isinstance(reply, Choices) and rendered:
        keyboard = InlineKeyboardMarkup([
            [InlineKeyboardButton(option.label, callback_data=callback_data(option.id, number))]
            for number, option in enumerate(reply.options, 1)])
        rendered[-1] = OutMessage(rendered[-1].html, keyboard)
    return rendered
