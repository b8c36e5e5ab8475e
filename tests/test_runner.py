"""Several adapters in one process: each fails and restarts on its own (bot/runner.py).

The adapters here are small classes with the adapter interface whose failures the tests
control; tests/test_operations.py runs the real Telegram and Matrix adapters side by side.
"""

from __future__ import annotations

import asyncio

from bot.adapters import SettingsError
from bot.metrics import Metrics
from bot.runner import Runner


class Steady:
    """Serves until stopped."""

    def __init__(self) -> None:
        self.stopped = asyncio.Event()
        self.ready = True

    async def run(self) -> None:
        await self.stopped.wait()

    def stop(self) -> None:
        self.stopped.set()


class Crashing(Steady):
    """Fails `failures` times (counted across instances), then serves."""

    made = 0

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    async def run(self) -> None:
        Crashing.made += 1
        await asyncio.sleep(0.01)
        if Crashing.made <= self.failures:
            raise ConnectionError("homeserver down")
        await super().run()


async def _until(check, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.01)


async def test_a_failing_adapter_restarts_while_the_other_keeps_serving() -> None:
    Crashing.made = 0
    steady = Steady()
    metrics = Metrics()
    runner = Runner({"telegram": lambda: steady, "matrix": lambda: Crashing(3)}, metrics,
                    restart_first=0.02, restart_cap=0.05)
    task = asyncio.create_task(runner.run())
    await _until(lambda: Crashing.made == 4 and metrics.ready("matrix"))
    assert runner.current["telegram"] is steady, "telegram was never restarted"
    assert not steady.stopped.is_set()
    health = metrics.health()
    assert health["adapters"]["matrix"]["restarts"] == 3
    assert health["adapters"]["matrix"]["last_error"] == "ConnectionError"
    assert health["adapters"]["telegram"]["restarts"] == 0
    assert health["status"] == "ok"
    runner.stop()
    assert await asyncio.wait_for(task, 5) is True, "stopped on request"
    assert steady.stopped.is_set()
    assert {a["state"] for a in metrics.health()["adapters"].values()} == {"stopped"}


async def test_restarts_wait_longer_after_each_failure_in_a_row() -> None:
    Crashing.made = 0
    starts: list[float] = []
    loop = asyncio.get_running_loop()

    def make() -> Crashing:
        starts.append(loop.time())
        return Crashing(4)

    runner = Runner({"matrix": make}, restart_first=0.1, restart_cap=0.4)
    task = asyncio.create_task(runner.run())
    await _until(lambda: len(starts) == 5)
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    # 0.1, 0.2, 0.4, then capped at 0.4 where doubling would give 0.8 (each plus the 0.01 s
    # the adapter ran, and whatever a busy machine adds: the lower bounds are exact)
    for gap, wait in zip(gaps, (0.1, 0.2, 0.4, 0.4), strict=True):
        assert wait <= gap < wait + 0.3, gaps
    runner.stop()
    await asyncio.wait_for(task, 5)


async def test_a_wrong_setting_is_final_and_the_others_go_on() -> None:
    class WrongPassword(Steady):
        async def run(self) -> None:
            raise SettingsError("Matrix login failed: Invalid password")

    made: list[str] = []
    steady = Steady()

    def make_matrix() -> WrongPassword:
        made.append("matrix")
        return WrongPassword()

    metrics = Metrics()
    runner = Runner({"telegram": lambda: steady, "matrix": make_matrix}, metrics,
                    restart_first=0.01)
    task = asyncio.create_task(runner.run())
    await _until(lambda: metrics.health()["adapters"].get("matrix", {}).get("state")
                 == "failed")
    await asyncio.sleep(0.1)
    assert made == ["matrix"], "not restarted: retrying cannot fix a password"
    assert metrics.ready("telegram") and not metrics.healthy
    assert metrics.health()["adapters"]["matrix"]["last_error"] == "SettingsError"
    runner.stop()
    assert await asyncio.wait_for(task, 5) is True


async def test_when_every_adapter_ended_for_good_run_says_so() -> None:
    class Broken(Steady):
        async def run(self) -> None:
            raise SettingsError("no token")

    runner = Runner({"telegram": Broken})
    assert await asyncio.wait_for(runner.run(), 5) is False


async def test_stop_during_the_wait_before_a_restart_ends_at_once() -> None:
    Crashing.made = 0
    runner = Runner({"matrix": lambda: Crashing(100)}, restart_first=30)
    task = asyncio.create_task(runner.run())
    await _until(lambda: Crashing.made == 1 and runner.current["matrix"] is None)
    runner.stop()
    assert await asyncio.wait_for(task, 2) is True


async def test_an_adapter_that_is_not_connected_makes_the_process_unhealthy() -> None:
    steady = Steady()
    metrics = Metrics()
    runner = Runner({"telegram": lambda: steady}, metrics)
    task = asyncio.create_task(runner.run())
    await _until(lambda: metrics.healthy)
    steady.ready = False  # e.g. Telegram's polls fail: it runs, but nobody is answered
    assert not metrics.healthy
    assert metrics.health()["adapters"]["telegram"] | {"since": None} == {
        "state": "running", "ready": False, "since": None, "restarts": 0, "last_error": None}
    runner.stop()
    await asyncio.wait_for(task, 5)
