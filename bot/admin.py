"""Admin commands in chat, for the accounts listed in WEGWEISER_ADMINS only.

    /reload            load content/ now; answers with the new version, or every problem
    /status            catalogue version and counts, the last reload, when the bot started
    /preview OFFER [LANG]  an offer's card as newcomers see it (LANG: de, ar, uk ...)

On Matrix the same commands start with "!" (clients keep "/" for their own commands); both
prefixes work everywhere. An admin command from anyone else is handled like any message
(the bot does not reveal that it has admin commands) and logged without the account.

Admins are staff: these answers are in English, like the log and the command line, and are
not part of the newcomers' interface; admin commands never enter a conversation's state.

    WEGWEISER_ADMINS   comma-separated accounts: telegram:<user id> (ask @userinfobot for
                       yours), matrix:@name:server
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from bot.config import split_list
from bot.messages import Reply, Text
from bot.service import Service

if TYPE_CHECKING:
    from bot.reload import Outcome, Reloader

log = logging.getLogger(__name__)

PREFIXES = ("/", "!")
COMMANDS = ("reload", "status", "preview")
#: At most this many problems in one chat message; the log has all of them.
PROBLEMS_SHOWN = 10


@dataclass(frozen=True)
class AdminCommand:
    name: str
    argument: str = ""


def parse(text: str) -> AdminCommand | None:
    """The admin command in a message, or None. "/status@wegweiser_bot" counts too."""
    text = text.strip()
    if len(text) < 2 or text[0] not in PREFIXES:
        return None
    word, _, rest = text[1:].partition(" ")
    name = word.split("@", 1)[0].lower()
    return AdminCommand(name, rest.strip()) if name in COMMANDS else None


def admins_from_env(env: Mapping[str, str] = os.environ) -> frozenset[str]:
    return frozenset(split_list(env.get("WEGWEISER_ADMINS", "")))


def describe_reload(outcome: Outcome) -> str:
    if outcome.ok:
        return f"Content reloaded: version {outcome.version}, {outcome.offers} offers."
    shown = [str(problem) for problem in outcome.problems[:PROBLEMS_SHOWN]]
    more = len(outcome.problems) - len(shown)
    if more:
        shown.append(f"… and {more} more (see the log, or run `wegweiser validate`)")
    return (f"Content NOT reloaded: {len(outcome.problems)} problem(s). Still serving "
            f"version {outcome.version} ({outcome.offers} offers).\n\n" + "\n".join(shown))


def _platforms(health: dict[str, Any]) -> str:
    """"Platforms: matrix running, telegram NOT connected (3 restarts)"."""
    shown = []
    for name, adapter in health.get("adapters", {}).items():
        state = adapter["state"]
        if state == "running" and not adapter["ready"]:
            state = "running but NOT connected"
        elif state != "running":
            state = state.upper()
        restarts = f" ({adapter['restarts']} restarts)" if adapter["restarts"] else ""
        shown.append(f"{name} {state}{restarts}")
    store = health.get("store") or {}
    broken = "" if store.get("ok", True) else f"; the store does NOT answer ({store['error']})"
    return "Platforms: " + ", ".join(shown) + broken


class Admin:
    """Answers admin commands. `reloader` is set by `wegweiser run` (None: no reloading)."""

    def __init__(self, service: Service, accounts: frozenset[str] | None = None):
        self.service = service
        self.accounts = admins_from_env() if accounts is None else accounts
        self.reloader: Reloader | None = None
        self.started = datetime.now(UTC)
        self._last_ok = True
        #: The health report of the running bot (bot/metrics.py), set by `wegweiser run`:
        #: admins on one platform see whether the other one works.
        self.health: Callable[[], dict[str, Any]] | None = None

    def worth_telling(self, outcome: Outcome) -> bool:
        """Admins hear of every failed reload and of the first good one after a failure,
        not of every routine edit."""
        worth = not (outcome.ok and self._last_ok)
        self._last_ok = outcome.ok
        return worth

    def command(self, account: str, text: str) -> AdminCommand | None:
        """The admin command to run for this message, or None to treat it as any message."""
        command = parse(text)
        if command is None:
            return None
        if account not in self.accounts:
            log.warning("an admin command (%s) from an account that is not an admin; "
                        "handled as an ordinary message", command.name)
            return None
        log.info("admin command %s", command.name)
        return command

    async def run(self, command: AdminCommand, today: date | None = None) -> list[Reply]:
        today = today or datetime.now(UTC).date()
        if command.name == "reload":
            if self.reloader is None:
                return [Text("Reloading is not available in this mode.")]
            return [Text(describe_reload(await self.reloader.reload(quiet=True)))]
        if command.name == "status":
            return [Text(self._status(today))]
        return self._preview(command.argument, today)

    def _status(self, today: date) -> str:
        engine = self.service.engine
        catalogue = engine.catalogue
        visible = sum(1 for offer in catalogue.offers if offer.is_visible(today))
        lines = [
            f"Catalogue: {catalogue.meta.version}: {len(catalogue.topics)} topics, "
            f"{len(catalogue.questions)} questions, {len(catalogue.offers)} offers "
            f"({visible} shown today, {len(catalogue.offers) - visible} hidden: expired or "
            "ended)",
            f"Languages: {', '.join(sorted(engine.languages))}",
            f"Running since {self.started:%Y-%m-%d %H:%M} UTC",
        ]
        if self.health is not None:
            lines.append(_platforms(self.health()))
        last = self.reloader.last if self.reloader else None
        if last is None:
            lines.append("No reload since the start.")
        elif last.ok:
            lines.append(f"Last reload {last.at:%Y-%m-%d %H:%M} UTC: fine.")
        else:
            lines.append(f"Last reload {last.at:%Y-%m-%d %H:%M} UTC FAILED with "
                         f"{len(last.problems)} problem(s); /reload shows them.")
        return "\n".join(lines)

    def _preview(self, argument: str, today: date) -> list[Reply]:
        offer_id, _, lang = argument.partition(" ")
        if not offer_id:
            return [Text("Usage: /preview OFFER-ID [LANGUAGE], e.g. /preview vhs-grundbildung ar")]
        engine = self.service.engine
        card = engine.preview(offer_id, lang.strip() or "de", today)
        if card is None:
            return [Text(f"There is no offer with the id {offer_id!r}.")]
        offer = engine.catalogue.offer(offer_id)
        shown = "shown to newcomers today" if offer and offer.is_visible(today) else (
            "HIDDEN today (past valid_until or ended)")
        return [Text(f"Preview of {offer_id}: {shown}."), card]
