"""The console adapter: a chat in the terminal, and the test backend for scripted dialogues.

Choices are numbered; people answer with the number, the words, or anything else. Output is
plain text without colours or cursor tricks, so `printf '2\n1\n' | wegweiser chat` can be
driven and read by scripts. End with Ctrl-D (or Ctrl-C).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from bot.messages import Choices, ConversationId, Inbound, Reply, Text
from bot.service import Service

CONVERSATION = ConversationId("console:local")


def render(reply: Reply) -> str:
    """A reply as plain text lines."""
    if isinstance(reply, Text):
        return reply.text
    if isinstance(reply, Choices):
        lines = [reply.text]
        lines += [f"  {i}. {option.label}" for i, option in enumerate(reply.options, 1)]
        return "\n".join(lines)
    lines = [reply.intro] if reply.intro else []
    for card in reply.cards:
        lines.append(f"\n== {card.title}")
        lines.append(f"   {card.why}")
        lines += [f"   {line}" for line in card.lines]
    return "\n".join(lines)


class ConsoleAdapter:
    name = "console"

    def __init__(self, service: Service, *, lang: str | None = None,
                 stdin: TextIO | None = None, stdout: TextIO | None = None,
                 data_dir: Path | None = None,  # noqa: ARG002  (keeps nothing on disk)
                 env: Mapping[str, str] | None = None):  # noqa: ARG002  (has no settings)
        self.service = service
        self.lang = lang
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout

    def _show(self, replies: list[Reply]) -> None:
        for reply in replies:
            self.stdout.write(render(reply) + "\n\n")
        self.stdout.flush()

    async def _send(self, inbound: Inbound) -> None:
        self._show(await self.service.handle(CONVERSATION, inbound))

    async def run(self) -> None:
        interactive = self.stdin.isatty()
        if self.lang:
            await self._send(Inbound(choice=f"lang:{self.lang}", locale_hint=self.lang))
        else:
            self._show(await self.service.resume(CONVERSATION))
        while True:
            if interactive:
                self.stdout.write("> ")
                self.stdout.flush()
            line = await asyncio.to_thread(self.stdin.readline)
            if not line:
                return
            if not interactive:
                self.stdout.write(f"> {line.rstrip()}\n\n")
            await self._send(Inbound(text=line.rstrip("\n")))
