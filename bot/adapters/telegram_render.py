"""Replies as Telegram messages: HTML with everything escaped, inline keyboards, 4096 limit.

Pure functions, no network: the adapter sends what these return. Telegram counts its 4096
characters after parsing the HTML, so messages are packed by visible length, paragraph by
paragraph, and every piece of text (catalogue content, translations, anything a person typed
that is echoed) goes through html.escape exactly once, at the end.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.messages import Choices, Reply, Text

#: Telegram's limit for one message, in characters after entity parsing.
MESSAGE_LIMIT = 4096
#: Telegram's limit for a button's callback data, in bytes.
CALLBACK_LIMIT = 64
#: Callback data for an option whose id is too long: "#<n>" answers with the option's number.
NUMBERED = "#"

Span = tuple[str, str]  # (text, style): style is "", "b" or "i"


@dataclass(frozen=True)
class OutMessage:
    html: str
    keyboard: InlineKeyboardMarkup | None = None


def callback_data(option_id: str, number: int) -> str:
    """The option's id if it fits in 64 bytes, else its number (the engine understands both)."""
    return option_id if len(option_id.encode()) <= CALLBACK_LIMIT else f"{NUMBERED}{number}"


def _paragraphs(reply: Reply) -> list[list[Span]]:
    if isinstance(reply, (Text, Choices)):
        return [[(part, "")] for part in reply.text.split("\n\n") if part]
    blocks: list[list[Span]] = [[(reply.intro, "")]] if reply.intro else []
    for card in reply.cards:
        block: list[Span] = [(card.title, "b"), ("\n", ""), (card.why, "i")]
        for line in card.lines:
            block += [("\n", ""), (line, "")]
        blocks.append(block)
    return blocks


def _cut(block: list[Span], limit: int) -> list[list[Span]]:
    """A paragraph longer than one message, cut at line ends (or anywhere, as a last resort)."""
    pieces: list[list[Span]] = [[]]
    size = 0
    for text, style in block:
        while text:
            room = limit - size
            if room <= 0:
                pieces.append([])
                size, room = 0, limit
            if len(text) <= room:
                pieces[-1].append((text, style))
                size += len(text)
                break
            cut = text.rfind("\n", 0, room)
            cut = cut + 1 if cut > 0 else room
            pieces[-1].append((text[:cut], style))
            text = text[cut:]
            size = limit
    return [p for p in pieces if p]


def _html(block: list[Span]) -> str:
    out = []
    for text, style in block:
        escaped = html.escape(text, quote=False)
        out.append(f"<{style}>{escaped}</{style}>" if style and text.strip() else escaped)
    return "".join(out)


def render(reply: Reply, limit: int = MESSAGE_LIMIT) -> list[OutMessage]:
    """One reply as one or more Telegram messages; a keyboard goes on the last one."""
    messages: list[list[list[Span]]] = [[]]
    size = 0
    for block in _paragraphs(reply):
        length = sum(len(text) for text, _ in block)
        for piece in (_cut(block, limit) if length > limit else [block]):
            piece_length = sum(len(text) for text, _ in piece)
            separator = 2 if messages[-1] else 0
            if size + separator + piece_length > limit:
                messages.append([])
                size, separator = 0, 0
            messages[-1].append(piece)
            size += separator + piece_length
    rendered = [OutMessage("\n\n".join(_html(b) for b in blocks)) for blocks in messages if blocks]
    if isinstance(reply, Choices) and rendered:
        keyboard = InlineKeyboardMarkup([
            [InlineKeyboardButton(option.label, callback_data=callback_data(option.id, number))]
            for number, option in enumerate(reply.options, 1)])
        rendered[-1] = OutMessage(rendered[-1].html, keyboard)
    return rendered
