"""What the operators see of a running bot: Prometheus metrics and the health report.

Everything here is a count, a duration or a state, labelled by adapter ("telegram", "matrix")
and outcome: never a conversation id, a user or a text. One `Metrics` per process, with its
own registry (not prometheus_client's global one), so that tests and several bots in one
process do not mix their numbers.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from prometheus_client import (CollectorRegistry, Counter, Gauge, Histogram, Info,
                               PlatformCollector, ProcessCollector)

from bot import __version__
from bot.engine.signals import MATCHED
from bot.messages import Signal

if TYPE_CHECKING:
    from bot.reload import Outcome, Reloader
    from bot.service import Service
    from bot.store import Store

#: Seconds from taking an event to its last reply sent (Telegram's round trip included).
TURN_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
#: The topic matcher's best score for a typed answer; 0.85 and above is confident.
SCORE_BUCKETS = (0.2, 0.4, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0)

#: Seconds the store may take to answer a ping before /health calls it unreachable.
STORE_TIMEOUT = 3.0

#: Adapter states. Only "running" is healthy.
STARTING, RUNNING, RESTARTING, STOPPED, FAILED = (
    "starting", "running", "restarting", "stopped", "failed")


@dataclass
class AdapterHealth:
    """One adapter as /health reports it. `last_error` is an exception's type name only: its
    text could quote what someone wrote."""

    state: str = STARTING
    since: datetime = field(default_factory=lambda: datetime.now(UTC))
    restarts: int = 0
    last_error: str | None = None


class Metrics:
    """The metrics of one bot process, fed by the service (turns), the adapter runner
    (adapter states), the reloader (reloads) and the log (warnings and errors)."""

    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry()
        ProcessCollector(registry=registry)  # memory, CPU, open files, start time
        PlatformCollector(registry=registry)
        Info("wegweiser", "The running version", registry=registry).info(
            {"version": __version__})
        self.turns = Counter("wegweiser_turns", "Conversation turns handled",
                             ["adapter", "outcome"], registry=registry)
        self.turn_seconds = Histogram(
            "wegweiser_turn_seconds", "Time from taking a message to its replies sent",
            ["adapter"], buckets=TURN_BUCKETS, registry=registry)
        self.matches = Counter(
            "wegweiser_topic_matches", "Typed topic answers, by how the matcher took them: "
            "one topic, several to choose from, or none", ["adapter", "outcome"],
            registry=registry)
        self.match_score = Histogram(
            "wegweiser_topic_match_score", "The best topic's score for a typed answer "
            "(0 to 1; 0.85 and up is confident)", ["adapter"], buckets=SCORE_BUCKETS,
            registry=registry)
        self.adapter_up = Gauge("wegweiser_adapter_up",
                                "1 while the adapter runs, 0 while it is down or restarting",
                                ["adapter"], registry=registry)
        self.adapter_restarts = Counter("wegweiser_adapter_restarts",
                                        "Restarts of an adapter after it failed",
                                        ["adapter"], registry=registry)
        self.log_messages = Counter("wegweiser_log_messages",
                                    "Warnings and errors written to the log", ["level"],
                                    registry=registry)
        self.offers = Gauge("wegweiser_catalogue_offers", "Offers in the catalogue served",
                            registry=registry)
        self.reloads = Counter("wegweiser_catalogue_reloads", "Catalogue reloads, by result",
                               ["result"], registry=registry)
        self.store_up = Gauge("wegweiser_store_up",
                              "1 if the store answered when last asked (at /health and "
                              "/metrics)", registry=registry)
        self.adapters: dict[str, AdapterHealth] = {}
        #: The adapter instances serving now, by name (bot/runner.py keeps it): asked
        #: whether they are connected (`ready`), for /health and wegweiser_adapter_up.
        self.current: Mapping[str, Any] = {}
        self._service: Service | None = None
        self._reloader: Reloader | None = None
        self._store: Store | None = None
        #: The type of the error the store raised when last asked, or None if it answered.
        self.store_error: str | None = None
        self.started = time.time()

    # -- fed by the service, once per turn ------------------------------------------------
    def turn_done(self, channel: str, seconds: float, ok: bool,
                  signals: Sequence[Signal]) -> None:
        self.turns.labels(channel, "ok" if ok else "failed").inc()
        if ok:
            self.turn_seconds.labels(channel).observe(seconds)
        for signal in signals:
            if signal.kind == MATCHED:
                labels = dict(signal.labels)
                self.matches.labels(channel, labels.get("outcome", "")).inc()
                self.match_score.labels(channel).observe(float(labels.get("score", 0)))

    # -- fed by the adapter runner --------------------------------------------------------
    def adapter_state(self, name: str, state: str, error: BaseException | None = None) -> None:
        if name not in self.adapters:
            self.adapter_up.labels(name).set_function(lambda: float(self.ready(name)))
        health = self.adapters.setdefault(name, AdapterHealth())
        if state == RESTARTING:
            health.restarts += 1
            self.adapter_restarts.labels(name).inc()
        if error is not None:
            health.last_error = type(error).__name__
        health.state, health.since = state, datetime.now(UTC)

    def ready(self, name: str) -> bool:
        """The adapter runs and, if it can tell (`ready`), is connected to its platform."""
        health = self.adapters.get(name)
        adapter = self.current.get(name)
        return (health is not None and health.state == RUNNING and adapter is not None
                and bool(getattr(adapter, "ready", True)))

    # -- read from the service and the reloader -------------------------------------------
    def watch_catalogue(self, service: Service, reloader: Reloader | None = None) -> None:
        """Report the catalogue the service serves now, and the last reload's result."""
        self.offers.set_function(lambda: len(service.engine.catalogue.offers))
        self._service, self._reloader = service, reloader
        if reloader is not None:
            async def count(outcome: Outcome) -> None:
                self.reloads.labels("ok" if outcome.ok else "failed").inc()
            reloader.listeners.append(count)

    def _catalogue(self) -> dict[str, Any]:
        if self._service is None:
            return {}
        catalogue = self._service.engine.catalogue
        last = self._reloader.last if self._reloader is not None else None
        return {"version": catalogue.meta.version, "offers": len(catalogue.offers),
                "last_reload": None if last is None else "ok" if last.ok else "failed",
                "last_reload_at": None if last is None else last.at.isoformat(
                    timespec="seconds")}

    # -- asked of the store, whenever /health or /metrics is -----------------------------
    def watch_store(self, store: Store) -> None:
        self._store = store

    async def probe_store(self) -> None:
        """Ask the store whether it can be used (a Redis server that went away makes every
        turn fail while the adapters still look fine)."""
        if self._store is None:
            return
        try:
            await asyncio.wait_for(self._store.ping(), STORE_TIMEOUT)
            self.store_error = None
        except Exception as err:  # noqa: BLE001  any failure means: not usable now
            self.store_error = type(err).__name__
        self.store_up.set(0 if self.store_error else 1)

    # -- fed by the log -------------------------------------------------------------------
    def log_handler(self) -> logging.Handler:
        """A handler that counts WARNING and worse by level (the text is not looked at)."""
        counter = self.log_messages

        class Counting(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                counter.labels(record.levelname.lower()).inc()

        return Counting(logging.WARNING)

    # -- read by /health ------------------------------------------------------------------
    @property
    def healthy(self) -> bool:
        """Every adapter runs and is connected, and the store answered when last asked.
        (With no adapter started yet, the process is not healthy either.)"""
        return (bool(self.adapters) and all(self.ready(name) for name in self.adapters)
                and self.store_error is None)

    def health(self) -> dict[str, Any]:
        handled: dict[str, int] = {}  # summed over the adapters
        for metric in self.turns.collect():
            for sample in metric.samples:
                if sample.name.endswith("_total"):
                    outcome = sample.labels["outcome"]
                    handled[outcome] = handled.get(outcome, 0) + int(sample.value)
        return {
            "status": "ok" if self.healthy else "unhealthy",
            "version": __version__,
            "uptime_seconds": round(time.time() - self.started),
            "adapters": {name: {"state": a.state, "ready": self.ready(name),
                                "since": a.since.isoformat(timespec="seconds"),
                                "restarts": a.restarts, "last_error": a.last_error}
                         for name, a in sorted(self.adapters.items())},
            "store": {"ok": self.store_error is None, "error": self.store_error},
            "catalogue": self._catalogue(),
            "turns": {"ok": handled.get("ok", 0), "failed": handled.get("failed", 0)},
        }
