"""Serves several chat adapters in one process, each failing and restarting on its own.

`wegweiser run telegram matrix` shares one catalogue, one store and one service between the
adapters; what they do not share is their fate. When Matrix's homeserver is down and its
adapter raises, Telegram goes on serving while Matrix is started again after a pause that
doubles with every failure in a row (1 s, 2 s, 4 s … at most 5 minutes), and is reset once
an adapter ran for a minute. The health endpoint shows each adapter's state.

Two endings are final: a `SettingsError` (a wrong password does not get right by retrying;
the adapter is marked failed) and, for an adapter without `stop()` (the console), returning
(the terminal closed). A daemon adapter that returns on its own (Telegram, when another
instance polls with its token) is restarted like a failed one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any

from bot.adapters import SettingsError
from bot.metrics import FAILED, RESTARTING, RUNNING, STARTING, STOPPED, Metrics

log = logging.getLogger(__name__)

RESTART_FIRST = 1.0
RESTART_CAP = 300.0
#: An adapter that ran this long before failing is restarted after RESTART_FIRST again.
STABLE_AFTER = 60.0

Make = Callable[[], Any]


class Runner:
    """`make` maps adapter names to factories; each (re)start gets a fresh adapter."""

    def __init__(self, make: Mapping[str, Make], metrics: Metrics | None = None,
                 restart_first: float = RESTART_FIRST, restart_cap: float = RESTART_CAP):
        self.make = dict(make)
        self.metrics = metrics or Metrics()
        self.restart_first, self.restart_cap = restart_first, restart_cap
        #: The adapter instance serving now, by name (None while it restarts).
        self.current: dict[str, Any] = {}
        self.metrics.current = self.current
        #: Called with (name, adapter) each time an adapter is (re)created, before it runs.
        self.on_start: list[Callable[[str, Any], None]] = []
        self._stopping = asyncio.Event()

    async def run(self) -> bool:
        """Serve until `stop` (True) or until every adapter ended for good (False)."""
        await asyncio.gather(*(self._supervise(name) for name in self.make))
        return self._stopping.is_set()

    def stop(self) -> None:
        """Stop every adapter gracefully (their turns in flight finish) and restart none."""
        self._stopping.set()
        for adapter in self.current.values():
            stop = getattr(adapter, "stop", None)  # None while restarting, or no stop()
            if stop is not None:
                stop()

    async def _supervise(self, name: str) -> None:
        delay = self.restart_first
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            self.metrics.adapter_state(name, STARTING)
            began = loop.time()
            try:
                adapter = self.current[name] = self.make[name]()
                for hook in self.on_start:
                    hook(name, adapter)
                self.metrics.adapter_state(name, RUNNING)
                await adapter.run()
            except SettingsError as err:
                log.critical("the %s adapter cannot run: %s", name, err)
                self.metrics.adapter_state(name, FAILED, err)
                return
            except Exception as err:  # noqa: BLE001  one adapter must not take the others down
                error: BaseException | None = err
                # the type only: an exception's text may quote what someone wrote
                log.error("the %s adapter failed (%s)", name, type(err).__name__)
            else:
                error = None
                if self._stopping.is_set() or not hasattr(adapter, "stop"):
                    break
                log.warning("the %s adapter stopped by itself", name)
            finally:
                self.current[name] = None
            if loop.time() - began >= STABLE_AFTER:
                delay = self.restart_first
            self.metrics.adapter_state(name, RESTARTING, error)
            log.info("restarting the %s adapter in %.0f s", name, delay)
            try:
                await asyncio.wait_for(self._stopping.wait(), delay)
            except TimeoutError:
                pass
            delay = min(delay * 2, self.restart_cap)
        self.metrics.adapter_state(name, STOPPED)
