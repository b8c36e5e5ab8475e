"""A tiny driver for conversations in tests: send text or taps, look at what came back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.engine import Engine, State
from bot.i18n.bidi import FSI, PDI, RLM
from bot.messages import Choices, Inbound, Offers, Output, Signal, Text, UnmetNeed

from tests.conftest import NOW


def plain(text: str) -> str:
    """Text without the invisible bidi controls, for substring assertions."""
    return text.replace(FSI, "").replace(PDI, "").replace(RLM, "")


@dataclass
class Dialogue:
    engine: Engine
    now: datetime = NOW
    locale_hint: str | None = None
    state: State | None = None
    last: list[Output] = field(default_factory=list)
    unmet: list[UnmetNeed] = field(default_factory=list)
    signals: list[Signal] = field(default_factory=list)

    def send(self, text: str = "", choice: str | None = None,
             start: str | None = None) -> list[Output]:
        inbound = Inbound(text=text, choice=choice, locale_hint=self.locale_hint, start=start)
        state, outputs = self.engine.step(self.state, inbound, self.now)
        # the state must survive a round trip through the store's JSON
        self.state = State.from_json(state.to_json()) if state else None
        assert self.state == state
        self.last = [o for o in outputs if not isinstance(o, Signal)]
        self.signals += [o for o in outputs if isinstance(o, Signal)]
        self.unmet += [o for o in outputs if isinstance(o, UnmetNeed)]
        return self.last

    def tap(self, choice: str) -> list[Output]:
        return self.send(choice=choice)

    def send_start(self, payload: str) -> list[Output]:
        """Follow a start link (Telegram's /start <payload>)."""
        return self.send(start=payload)

    @property
    def choices(self) -> list[str]:
        prompts = [o for o in self.last if isinstance(o, Choices)]
        return [c.id for c in prompts[-1].options] if prompts else []

    @property
    def offers(self) -> list[str]:
        return [c.offer_id for o in self.last if isinstance(o, Offers) for c in o.cards]

    @property
    def text(self) -> str:
        parts: list[str] = []
        for o in self.last:
            if isinstance(o, Text):
                parts.append(o.text)
            elif isinstance(o, Choices):
                parts += [o.text, *(c.label for c in o.options)]
            elif isinstance(o, Offers):
                parts.append(o.intro)
                for c in o.cards:
                    parts += [c.title, c.why, *c.lines]
        return plain("\n".join(parts))
