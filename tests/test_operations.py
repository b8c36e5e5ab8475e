"""`wegweiser run telegram matrix` as operators run it: one process, real adapters, a real
Synapse and the fake Bot API server, JSON logs, /health, /metrics and `wegweiser status`.

Each adapter fails on its own: Telegram's start fails (getMe cannot reach the API) and is
restarted while Matrix serves; then the homeserver becomes unreachable for a while (a TCP
proxy in front of Synapse closes) while Telegram serves, and Matrix catches up on what was
written meanwhile when it is back.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.fake_telegram import TOKEN, FakeBotApi
from tests.net import free_port
from tests.synapse_server import Synapse, wait_until
from tests.test_matrix import _direct_chat, _newcomer, _wait_notices
from tests.test_workers import ROOT, STOPPED, Worker

TELEGRAM_USER = 555000111
TELEGRAM_ADMIN = 555000999
MATRIX_PASSWORD = "pw-operations-bot-Okapi"
SECRET_WORDS = "Zebrastreifen-Kurs bitte 4711"


class Proxy:
    """A TCP proxy to Synapse that can be taken down (every connection cut, new ones
    refused) and brought back on the same port: an unreachable homeserver."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def up(self) -> None:
        self._server = await asyncio.start_server(self._pipe, "127.0.0.1", self.port)

    async def down(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        await self._server.wait_closed()
        self._server = None

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}

        async def copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                sink.transport.abort()
                self._writers.discard(sink)

        await asyncio.gather(copy(reader, up_writer), copy(up_reader, writer))


@dataclass
class Running:
    worker: Worker
    api: FakeBotApi
    proxy: Proxy
    metrics_url: str
    env: dict[str, str]
    bot_user: str


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


async def _health(running: Running) -> tuple[int, dict[str, Any]]:
    status, body = await asyncio.to_thread(_get, f"{running.metrics_url}/health")
    return status, json.loads(body)


async def _metrics(running: Running) -> str:
    status, body = await asyncio.to_thread(_get, f"{running.metrics_url}/metrics")
    assert status == 200
    return body


def _sample(metrics: str, name: str, **labels: str) -> float:
    """The value of one sample in the Prometheus text, 0 if absent."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in metrics.splitlines():
        if line.startswith(f"{name}{{{wanted}}} ") or (not labels and
                                                      line.startswith(f"{name} ")):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def _status(running: Running, *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "status", *args, cwd=ROOT, env=running.env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    return process.returncode or 0, (out + err).decode()


@pytest.fixture
async def running(synapse: Synapse, tmp_path: Path) -> AsyncIterator[Running]:
    api = FakeBotApi()
    await api.start()
    api.faults["getMe"] = ["drop"] * 100  # Telegram cannot start until the test says so
    proxy = Proxy(synapse.port)
    await proxy.up()
    bot_user = synapse.register("operations-bot", MATRIX_PASSWORD)
    metrics_port = free_port()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("WEGWEISER_") or key == "WEGWEISER_CACHE_DIR"}
    env.update(WEGWEISER_TELEGRAM_TOKEN=TOKEN, WEGWEISER_TELEGRAM_API_URL=api.base_url,
               WEGWEISER_MATRIX_HOMESERVER=f"http://127.0.0.1:{proxy.port}",
               WEGWEISER_MATRIX_USER=bot_user, WEGWEISER_MATRIX_PASSWORD=MATRIX_PASSWORD,
               WEGWEISER_ADAPTERS="telegram,matrix", WEGWEISER_LOG_FORMAT="json",
               WEGWEISER_ADMINS=f"telegram:{TELEGRAM_ADMIN}",
               WEGWEISER_METRICS_LISTEN=f"127.0.0.1:{metrics_port}",
               WEGWEISER_DATA_DIR=str(tmp_path / "data"), PYTHONUNBUFFERED="1")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=ROOT, env=env,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE)
    worker = Worker("both", process)
    worker.reader = asyncio.create_task(worker._read())
    yield Running(worker, api, proxy, f"http://127.0.0.1:{metrics_port}", env, bot_user)
    await worker.kill()
    await asyncio.wait_for(worker.reader, 5)
    print(worker.log)
    await api.stop()


async def test_two_adapters_in_one_process_fail_and_recover_independently(
        running: Running, synapse: Synapse) -> None:
    api, worker = running.api, running.worker

    # 1. Telegram's start fails again and again; Matrix serves meanwhile.
    await worker.wait_for_log('"the telegram adapter failed (NetworkError)"', timeout=30)
    newcomer = await _newcomer(synapse)
    room = await _direct_chat(newcomer, running.bot_user, timeout=30)
    await newcomer.say(room, "hello")
    assert "1." in (await _wait_notices(newcomer, 1))[-1], "Matrix answers"
    code, health = await _health(running)
    assert code == 503 and health["status"] == "unhealthy"
    assert health["adapters"]["matrix"]["state"] == "running"
    assert health["adapters"]["matrix"]["ready"] is True
    assert health["adapters"]["telegram"]["ready"] is False
    assert health["adapters"]["telegram"]["last_error"] == "NetworkError"
    assert health["adapters"]["telegram"]["restarts"] >= 1
    code, text = await _status(running)
    assert code == 1, text
    assert "NOT healthy" in text and "last error: NetworkError" in text

    # 2. The Bot API is reachable again: the next restart serves, nobody restarted Matrix.
    api.faults["getMe"] = []
    await worker.wait_for_log('"serving Telegram (long polling)"', timeout=60)
    api.send_text("/start de", user_id=TELEGRAM_USER)
    await api.wait_for("sendMessage", 2)
    await wait_until(lambda: _health_ok(running), timeout=20)
    code, text = await _status(running)
    assert code == 0, text
    assert "healthy" in text and "telegram: running since" in text
    assert (await _health(running))[1]["adapters"]["matrix"]["restarts"] == 0

    # 3. The homeserver becomes unreachable; Telegram goes on; Matrix catches up afterwards.
    await running.proxy.down()
    await wait_until(lambda: _matrix_disconnected(running), timeout=60)
    answered = len(api.sent())
    api.send_text(SECRET_WORDS, user_id=TELEGRAM_USER)  # typed: the topic matcher's turn
    await api.wait_for("sendMessage", answered + 1)
    api.send_text("/status", user_id=TELEGRAM_ADMIN)  # an admin on Telegram sees Matrix down
    [status] = await _messages_to(api, TELEGRAM_ADMIN, 1)
    # telegram: its restarts at the start are counted, "(2 restarts)" or so
    assert "Platforms: matrix running but NOT connected, telegram running (" in status, status
    before = len(newcomer.notices)
    await newcomer.say(room, "العربية")  # to Synapse directly, while the bot cannot see it
    await asyncio.sleep(1)
    await newcomer.sync()
    assert len(newcomer.notices) == before, "no answer while the homeserver is unreachable"
    await running.proxy.up()
    await _wait_notices(newcomer, before + 1)  # answered once Matrix is back
    await wait_until(lambda: _health_ok(running), timeout=60)

    # 4. The metrics count per adapter.
    metrics = await _metrics(running)
    assert _sample(metrics, "wegweiser_turns_total", adapter="telegram", outcome="ok") == 2
    assert _sample(metrics, "wegweiser_turns_total", adapter="matrix", outcome="ok") >= 2
    assert _sample(metrics, "wegweiser_turn_seconds_count", adapter="telegram") == 2
    assert _sample(metrics, "wegweiser_turn_seconds_bucket", adapter="telegram",
                   le="+Inf") == 2
    assert _sample(metrics, "wegweiser_topic_match_score_count", adapter="telegram") == 1
    assert _sample(metrics, "wegweiser_adapter_restarts_total", adapter="telegram") >= 1
    assert _sample(metrics, "wegweiser_adapter_restarts_total", adapter="matrix") == 0
    assert _sample(metrics, "wegweiser_adapter_up", adapter="matrix") == 1
    assert _sample(metrics, "wegweiser_catalogue_offers") > 10
    assert _sample(metrics, "wegweiser_log_messages_total", level="error") >= 1

    # 5. SIGTERM: both stop gracefully; then `status` finds nobody.
    worker.process.send_signal(signal.SIGTERM)
    assert await worker.exited(60) == 0
    assert STOPPED in worker.log
    code, text = await _status(running)
    assert code == 2 and "Is `wegweiser run` running" in text

    # 6. The log: one JSON object per line, and nothing about the people in it.
    lines = [line for line in worker.lines if line.strip()]
    entries = [json.loads(line) for line in lines]
    assert {"time", "level", "logger", "message"} <= set(entries[0])
    for needle in (str(TELEGRAM_USER), SECRET_WORDS, "Zebrastreifen", "العربية", "hello",
                   TOKEN, TOKEN.split(":")[1], MATRIX_PASSWORD, newcomer.client.user_id,
                   room):
        assert needle not in worker.log, f"{needle!r} is in the log"
    await newcomer.client.close()


async def _messages_to(api: FakeBotApi, chat: int, count: int) -> list[str]:
    def sent() -> list[str]:
        return [m["text"] for m in api.sent() if int(m["chat_id"]) == chat]

    await wait_until(lambda: len(sent()) >= count, timeout=20)
    return sent()


async def _health_ok(running: Running) -> bool:
    code, _ = await _health(running)
    return code == 200


async def _matrix_disconnected(running: Running) -> bool:
    _, health = await _health(running)
    return health["adapters"]["matrix"]["ready"] is False
