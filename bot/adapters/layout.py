"""Replies as paragraphs of styled spans, packed into messages of a platform's size limit.

Shared by the adapters whose platforms take simple HTML (Telegram, Matrix): a reply becomes
paragraphs of (text, style) spans; paragraphs are packed into messages by visible length and
cut at line ends only when one paragraph alone is too long; each adapter then writes the spans
in its own markup, escaping every text exactly once.
"""

from __future__ import annotations

import html

from bot.messages import Choices, Reply, Text

Span = tuple[str, str]  # (text, style): style is "", "b" or "i"
Block = list[Span]


def paragraphs(reply: Reply, numbered_choices: bool = False) -> list[Block]:
    """A reply's paragraphs; choices as a numbered list when the platform has no buttons."""
    if isinstance(reply, (Text, Choices)):
        blocks = [[(part, "")] for part in reply.text.split("\n\n") if part]
        if isinstance(reply, Choices) and numbered_choices:
            lines = "\n".join(f"{n}. {o.label}" for n, o in enumerate(reply.options, 1))
            blocks.append([(lines, "")])
        return blocks
    blocks = [[(reply.intro, "")]] if reply.intro else []
    for card in reply.cards:
        block: Block = [(card.title, "b"), ("\n", ""), (card.why, "i")]
        for line in card.lines:
            block += [("\n", ""), (line, "")]
        blocks.append(block)
    return blocks


def _length(block: Block) -> int:
    return sum(len(text) for text, _ in block)


def _cut(block: Block, limit: int) -> list[Block]:
    """A paragraph longer than one message, cut at line ends (or anywhere, as a last resort)."""
    pieces: list[Block] = [[]]
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


def pack(blocks: list[Block], limit: int) -> list[list[Block]]:
    """Paragraphs grouped into messages of at most `limit` visible characters (counting a
    blank line between paragraphs)."""
    messages: list[list[Block]] = [[]]
    size = 0
    for block in blocks:
        for piece in (_cut(block, limit) if _length(block) > limit else [block]):
            separator = 2 if messages[-1] else 0
            if size + separator + _length(piece) > limit:
                messages.append([])
                size, separator = 0, 0
            messages[-1].append(piece)
            size += separator + _length(piece)
    return [m for m in messages if m]


def plain(block: Block) -> str:
    return "".join(text for text, _ in block)


def markup(block: Block, newline: str = "\n") -> str:
    """The spans as HTML (<b>, <i>), every text escaped; `newline` writes line breaks."""
    out = []
    for text, style in block:
        escaped = html.escape(text, quote=False).replace("\n", newline)
        out.append(f"<{style}>{escaped}</{style}>" if style and text.strip() else escaped)
    return "".join(out)
