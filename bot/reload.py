"""Live reload: content edited by staff reaches the running bot without a restart.

The watcher looks at the content and translation folders every few seconds (file names,
sizes and modification times: cheap, and it works on every file system and with every way
of publishing, from `git pull` to a web editor). On a change, on SIGHUP or on an admin's
command it loads and checks the whole catalogue in a worker thread, so that turns go on
meanwhile. A catalogue without problems replaces the engine in one assignment, between two
turns (each turn keeps the engine it started with). A catalogue with problems is not taken
over: the last good one keeps serving, every problem is logged with file and line, and the
admins are told.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.catalogue import Problem, check_catalogue
from bot.catalogue.parsecache import ParseCache
from bot.engine import Engine
from bot.i18n.catalogues import load_languages
from bot.service import Service

log = logging.getLogger(__name__)

#: Seconds between two looks at the folders.
EVERY = 2.0
#: The suffixes that make up content and translations; editors' backup files are ignored.
WATCHED = (".yaml", ".yml", ".po")


@dataclass(frozen=True)
class Outcome:
    """What a reload did: `problems` empty means the new catalogue is serving."""

    problems: tuple[Problem, ...]
    offers: int
    version: str
    at: datetime

    @property
    def ok(self) -> bool:
        return not self.problems


Notify = Callable[[Outcome], Awaitable[None]]


def fingerprint(*folders: Path) -> tuple[tuple[str, int, int], ...]:
    """Every watched file's path, size and modification time: changes when anything does."""
    found = []
    for folder in folders:
        for path in folder.rglob("*"):
            if path.suffix in WATCHED and path.is_file():
                stat = path.stat()
                found.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(sorted(found))


class Reloader:
    def __init__(self, service: Service, content: Path, locales: Path,
                 cache: ParseCache | None = None, every: float = EVERY):
        self.service = service
        self.content, self.locales, self.cache, self.every = content, locales, cache, every
        self.last: Outcome | None = None
        #: Called after every reload, good or bad (the adapters tell the admins).
        self.listeners: list[Notify] = []
        self._lock = asyncio.Lock()
        self._seen = fingerprint(content, locales)

    def _load(self) -> Engine | tuple[Problem, ...]:
        catalogue, problems = check_catalogue(self.content, self.cache)
        if problems or catalogue is None:
            return tuple(problems)
        try:
            languages = load_languages(self.locales)
        except Exception as err:  # noqa: BLE001  Babel raises several kinds on a broken file
            return (Problem(str(self.locales), 0,
                            f"the translations cannot be read ({type(err).__name__}: {err})",
                            "check the .po files with `pybabel compile --statistics`"),)
        serving = self.service.engine  # the new engine keeps the settings of the old one
        return Engine(catalogue, languages, serving.default_language,
                      keep_days=serving.keep_days, share_link=serving.share_link)

    async def reload(self, quiet: bool = False) -> Outcome:
        """Load and check everything now; serve it if it is good. One reload at a time.
        `quiet`: do not tell the listeners (the admin who asked gets the outcome itself)."""
        async with self._lock:
            self._seen = fingerprint(self.content, self.locales)
            loaded = await asyncio.to_thread(self._load)
            if isinstance(loaded, Engine):
                self.service.engine = loaded  # the next turn uses it; running turns keep theirs
                outcome = Outcome((), len(loaded.catalogue.offers),
                                  loaded.catalogue.meta.version, datetime.now(UTC))
                log.info("content reloaded: %d offers, version %s", outcome.offers,
                         outcome.version)
            else:
                current = self.service.engine.catalogue
                outcome = Outcome(loaded, len(current.offers), current.meta.version,
                                  datetime.now(UTC))
                for problem in loaded:
                    log.error("content not reloaded: %s", problem)
                log.error("content has %d problem(s); still serving version %s",
                          len(loaded), outcome.version)
            self.last = outcome
        for listener in () if quiet else self.listeners:
            try:
                await listener(outcome)
            except Exception as err:  # noqa: BLE001  telling admins must not stop reloads
                log.warning("could not report a reload (%s)", type(err).__name__)
        return outcome

    async def watch(self) -> None:
        """Reload whenever the folders change, until cancelled."""
        while True:
            await asyncio.sleep(self.every)
            try:
                changed = fingerprint(self.content, self.locales) != self._seen
            except OSError:  # a file vanished while we looked: look again next time
                continue
            if changed:
                await self.reload()


def describe(problems: Sequence[Problem], limit: int = 10) -> str:
    """The problems as lines for a chat message: file, line, message, hint."""
    lines = [str(problem) for problem in problems[:limit]]
    if len(problems) > limit:
        lines.append(f"… and {len(problems) - limit} more")
    return "\n".join(lines)

